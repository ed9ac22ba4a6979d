"""Plain-text replies the Slack edge sends: thread updates and slash-command answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent.describe import describe
from agent.models import Approval
from agent.reports import RunInfo
from agent.routing import RouteDecision
from agent.run_report import RunReport


def who(user: str | None) -> str:
    """A Slack mention for user ids, the text otherwise."""
    if user and user[:1] in ("U", "W") and user[1:].isalnum():
        return f"<@{user}>"
    return user or "someone"


def thread_reply(approval: Approval) -> str:
    """What happened, for the card's thread."""
    status = approval.status
    if status == "approved":
        approvers = ", ".join(who(u) for u in approval.approvals) or who(approval.decided_by)
        return f"Approved by {approvers}; executing."
    if status == "executed":
        result = approval.result or {}
        written = result.get("written") or []
        skipped = result.get("skipped") or {}
        text = f":white_check_mark: Executed: {len(written)} record(s) written."
        if skipped:
            text += f" {len(skipped)} skipped because they changed since the proposal: " + ", ".join(
                sorted(skipped)[:10]
            )
        return text
    if status == "failed":
        error = approval.reason or "unknown error"
        return f":warning: Failed: {error}. Nothing was half-written; a person should look."
    if status == "superseded":
        why = approval.reason or "the record changed"
        return f":arrows_counterclockwise: Superseded: {why}. It will be re-proposed."
    if status == "rejected":
        return (
            f"Rejected by {who(approval.decided_by)}: {approval.reason}. The agent will not propose it again."
        )
    if status == "expired":
        return f":hourglass: Expired without a decision ({approval.reason or 'dropped'})."
    if status == "undone":
        return ":leftwards_arrow_with_hook: Undone: the previous values are back."
    return f"Now {status}."


def route_reply(decision: RouteDecision, report: RunReport | None) -> str:
    lines = [f"*Route {decision.lead.id}*", *(f"• {line}" for line in decision.explanation)]
    if report is not None and report.outcomes:
        outcome = report.outcomes[0]
        if outcome.disposition == "executed":
            lines.append(
                f":white_check_mark: Assigned to {decision.chosen.name if decision.chosen else '?'}."
            )
        elif outcome.disposition == "queued":
            lines.append(f":raised_hand: Needs approval ({outcome.verdict.rule}); card posted for approvers.")
        elif outcome.disposition == "duplicate":
            lines.append("This change is already waiting for approval.")
        else:
            lines.append(
                f":no_entry: Not done: {outcome.verdict.reason} ({outcome.verdict.rule}) {outcome.detail}"
            )
    return "\n".join(lines)


def approvals_reply(pending: Sequence[Approval]) -> str:
    if not pending:
        return "Nothing is waiting for your approval."
    lines = [f"*{len(pending)} waiting for you:*"]
    for approval in pending[:20]:
        lines.append(f"• `{approval.id}` {describe(approval.action)} ({approval.verdict.rule})")
    if len(pending) > 20:
        lines.append(f"… and {len(pending) - 20} more.")
    return "\n".join(lines)


def runs_reply(runs: Sequence[RunInfo], today: Mapping[str, int]) -> str:
    lines = [
        f"*Today:* {today.get('executed', 0)} executed, {today.get('queued', 0)} queued, "
        f"{today.get('refused', 0)} refused; {today.get('pending_now', 0)} pending approval now."
    ]
    for run in runs:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(run.counts.items())) or "nothing proposed"
        when = f"{run.started_at:%Y-%m-%d %H:%M} UTC"
        lines.append(f"• `{run.id}` {run.job} ({run.trigger}) {run.status} at {when}: {counts}")
    return "\n".join(lines)


def run_done_reply(report: RunReport) -> str:
    return (
        f"Hygiene run `{report.run_id}` done: {report.count('executed')} executed, "
        f"{report.count('queued')} queued for approval, {report.count('refused')} refused."
    )
