"""Rich renderings for the terminal: run reports, approvals in full, audit events.

Pure: each function takes data and returns a renderable, so it can be tested
by rendering to a string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agent.audit import AuditEvent
from agent.describe import describe, owner_name
from agent.models import OWNER_FIELD, Approval, FieldValue, MeetingPlan, Owner, ProposedAction
from agent.run_report import RunReport

DISPOSITION_COLUMNS = (
    "executed",
    "queued",
    "refused",
    "failed",
    "superseded",
    "duplicate",
    "suppressed",
    "planned",
)
_REFUSED_ORDER = {"delete": 0, "merge": 1, "change_owner": 2, "assign_owner": 3}
"""Refusals a person most needs to see first."""
_STATUS_STYLE = {
    "pending": "yellow",
    "approved": "cyan",
    "executing": "cyan",
    "executed": "green",
    "rejected": "red",
    "expired": "dim",
    "superseded": "magenta",
    "failed": "bold red",
    "undone": "blue",
}


def run_table(report: RunReport) -> Table:
    """Proposals by action kind and what became of them."""
    used = [c for c in DISPOSITION_COLUMNS if report.count(c)]
    title = f"Run {report.run_id} under policy '{report.policy}'" + (" (dry run)" if report.dry_run else "")
    table = Table(title=title, title_justify="left")
    table.add_column("action kind")
    for column in used:
        table.add_column(column, justify="right")
    for kind, counts in report.by_kind().items():
        table.add_row(kind, *[str(counts.get(c, 0)) or "" for c in used])
    table.add_section()
    table.add_row("total", *[str(report.count(c)) for c in used], style="bold")
    return table


def planner_line(report: RunReport) -> Text | None:
    """One line under the run table about the model: calls, tokens, cost, and any fallback."""
    stats = report.planner_stats
    if not stats:
        return None
    line = Text.assemble(("Model: ", "bold"), f"{stats.get('model') or 'none'}, ")
    line.append(
        f"{stats.get('calls', 0)} call(s) on {stats.get('cases', 0)} case(s) the rules left open; tokens "
        f"{stats.get('input_tokens', 0):,} in, {stats.get('output_tokens', 0):,} out, cache "
        f"{stats.get('cache_read_input_tokens', 0):,} read / {stats.get('cache_creation_input_tokens', 0):,} "
        f"written; about ${stats.get('cost_usd', 0.0):.4f}"
    )
    if stats.get("fallback"):
        line.append(f"; finished on the offline rules: {stats['fallback']}", style="yellow")
    return line


def refused_table(report: RunReport, limit: int = 10) -> Table:
    """Refused proposals: recommendations for a person to act on by hand."""
    table = Table(title="Refused by policy (recommendations for a person)", title_justify="left")
    table.add_column("kind")
    table.add_column("record")
    table.add_column("rule")
    table.add_column("why")
    refused = sorted(report.with_disposition("refused"), key=lambda o: _REFUSED_ORDER.get(o.action.kind, 9))
    for outcome in refused[:limit]:
        target = outcome.action.targets[0]
        table.add_row(
            outcome.action.kind,
            target.label or target.record_id,
            outcome.verdict.rule,
            outcome.verdict.reason,
        )
    if len(refused) > limit:
        table.add_row("…", f"{len(refused) - limit} more", "", "")
    return table


def approvals_table(approvals: Sequence[Approval], now: datetime) -> Table:
    table = Table(title_justify="left")
    # Ids are copied into the next command: they must never be cut or folded.
    table.add_column("id", no_wrap=True, min_width=16)
    table.add_column("status", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("expires", no_wrap=True)
    table.add_column("what", ratio=1)
    for approval in approvals:
        table.add_row(
            approval.id,
            Text(approval.status, style=_STATUS_STYLE.get(approval.status, "")),
            approval.action.kind,
            _relative(approval.expires_at, now) if approval.status == "pending" else "",
            describe(approval.action),
        )
    return table


def approval_panel(
    approval: Approval, owners: Mapping[str, Owner], now: datetime, *, platform_caveats: Sequence[str] = ()
) -> Panel:
    """An approval in full: what, why, the diff, the blast radius, the rule, who, when, and the
    caveats (the plan's, then the CRM's own: ``agent.crm.caveats``)."""
    action = approval.action
    parts: list[RenderableType] = [
        Text(describe(action, owners), style="bold"),
        Text(""),
        Text.assemble(("Why: ", "bold"), action.rationale),
    ]
    if action.evidence:
        evidence = ", ".join(f"{k}={v}" for k, v in action.evidence.items())
        parts.append(Text.assemble(("Evidence: ", "bold"), evidence))
    parts.append(Text.assemble(("Policy: ", "bold"), f"{approval.verdict.rule}: {approval.verdict.reason}"))
    if action.meeting is not None:
        parts.append(_meeting_table(action.meeting))
        if action.meeting.lead_zone_note:
            parts.append(Text.assemble(("Lead's zone: ", "bold"), action.meeting.lead_zone_note))
        if action.meeting.substitution:
            parts.append(Text.assemble(("Instead of the owner: ", "bold"), action.meeting.substitution))
    else:
        parts.append(_diff_table(action, owners))
    parts.append(Text.assemble(("Blast radius: ", "bold"), blast_radius(action, owners)))
    parts.append(
        Text.assemble(
            ("Requested by: ", "bold"),
            f"{approval.requested_by} via {action.planner} planner (check: {action.check or 'n/a'}); ",
            ("run ", ""),
            approval.run_id or "n/a",
        )
    )
    status_line = Text.assemble(
        ("Status: ", "bold"), (approval.status, _STATUS_STYLE.get(approval.status, ""))
    )
    if approval.status == "pending":
        status_line.append(
            f", expires {_relative(approval.expires_at, now)} ({approval.expires_at:%Y-%m-%d %H:%M} UTC)"
        )
    if approval.approvals:
        status_line.append(f"; approved so far by {', '.join(approval.approvals)}")
    if approval.decided_by:
        status_line.append(f"; decided by {approval.decided_by}")
    if approval.reason:
        status_line.append(f"; {approval.reason}")
    parts.append(status_line)
    caveats = [*(action.merge.caveats if action.merge else ()), *platform_caveats]
    if caveats:
        parts.append(Text.assemble(("Caveats: ", "bold yellow"), " ".join(caveats)))
    return Panel(Group(*parts), title=f"approval {approval.id} · {action.kind}", title_align="left")


def blast_radius(action: ProposedAction, owners: Mapping[str, Owner]) -> str:
    affected_owners = {
        str(value)
        for t in action.targets
        for value in (
            (t.changes[OWNER_FIELD].before, t.changes[OWNER_FIELD].after) if OWNER_FIELD in t.changes else ()
        )
        if value
    }
    text = f"{len(action.targets)} {action.object_type} record(s)"
    if affected_owners:
        text += "; owners affected: " + ", ".join(sorted(owner_name(o, owners) for o in affected_owners))
    if action.kind in ("merge", "delete"):
        text += "; not reversible from revgate"
    if action.meeting is not None:
        plan = action.meeting
        text += f"; a meeting in {plan.rep_name}'s calendar and an invite to {plan.lead_email}"
        text += " (cancel it with revgate meetings cancel)"
    return text


def _meeting_table(plan: MeetingPlan) -> Table:
    """The proposed time, then the alternatives, each in the rep's and the lead's local time."""
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
    table.add_column("")
    table.add_column(f"{plan.rep_name} ({plan.rep_zone})")
    table.add_column(f"{plan.lead_name} ({plan.lead_zone})")
    slots = [("proposed", plan.start, plan.end)]
    slots += [(f"or {n}", slot.start, slot.end) for n, slot in enumerate(plan.alternatives, start=1)]
    for label, start, end in slots:
        table.add_row(label, _local_span(start, end, plan.rep_zone), _local_span(start, end, plan.lead_zone))
    return table


def _local_span(start: datetime, end: datetime, zone: str) -> str:
    tz = ZoneInfo(zone)
    return f"{start.astimezone(tz):%a %d %b %H:%M}-{end.astimezone(tz):%H:%M}"


def _diff_table(action: ProposedAction, owners: Mapping[str, Owner], limit: int = 12) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
    table.add_column("record")
    table.add_column("field")
    table.add_column("before")
    table.add_column("after")
    for rows, target in enumerate(action.targets, start=1):
        label = f"{target.label or ''} ({target.record_id})".strip()
        if action.merge is not None:
            role = "survivor" if target.record_id == action.merge.survivor_id else "merged away"
            table.add_row(label, "(merge)", "", role)
        elif target.note:
            table.add_row(label, "note", "", target.note)
        elif action.kind == "delete":
            table.add_row(label, "(record)", "exists", "deleted")
        for name, change in target.changes.items():
            table.add_row(
                label, name, _value(name, change.before, owners), _value(name, change.after, owners)
            )
            label = ""
        if rows >= limit and len(action.targets) > limit:
            table.add_row(f"… and {len(action.targets) - limit} more records", "", "", "")
            break
    if action.merge is not None:
        for name, value in action.merge.field_plan.items():
            table.add_row("survivor gets", name, "", _value(name, value, owners))
    return table


def _value(name: str, value: FieldValue, owners: Mapping[str, Owner]) -> str:
    if name == OWNER_FIELD:
        return owner_name(value, owners)
    return "∅" if value is None or value == "" else str(value)


def _relative(when: datetime, now: datetime) -> str:
    seconds = (when - now).total_seconds()
    future = seconds >= 0
    seconds = abs(seconds)
    if seconds < 120:
        amount = f"{int(seconds)}s"
    elif seconds < 7200:
        amount = f"{int(seconds // 60)} min"
    elif seconds < 172800:
        amount = f"{int(seconds // 3600)} h"
    else:
        amount = f"{int(seconds // 86400)} days"
    return f"in {amount}" if future else f"{amount} ago"


def audit_lines(events: Sequence[AuditEvent]) -> Text:
    """One line per event, like a log: it reads at any terminal width."""
    text = Text()
    for event in events:
        text.append(f"{event.seq:>6} ", style="dim")
        text.append(f"{event.at:%Y-%m-%d %H:%M:%S} ")
        text.append(f"{event.event:<20}", style="bold")
        text.append(f" {event.subject or '-':<16} by {event.actor}")
        if event.rule:
            text.append(f"  [{event.rule}]", style="cyan")
        text.append(f"  #{event.hash[:8]}\n", style="dim")
    return text
