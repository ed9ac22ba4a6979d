"""Plain-text replies the Slack edge sends: thread updates and slash-command answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from agent.describe import describe
from agent.errors import RoutingFileError
from agent.meetings.service import BookingResult
from agent.models import Approval
from agent.reports import RunInfo
from agent.routing import AssignmentNotice, RoutingResult
from agent.routing.decision import lead_label
from agent.run_report import RunReport
from bot.blocks.meeting import both_spans, crm_text, invite_text
from bot.blocks.text import escape, one_line


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
    if status == "executed" and approval.action.kind == "book_meeting":
        meeting = (approval.result or {}).get("meeting_id")
        return f":white_check_mark: Executed: the meeting is booked{f' (`{meeting}`)' if meeting else ''}."
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


def route_outcome(result: RoutingResult, *, sla: bool = True) -> str:
    """How a routing ended, in one plain line (``sla``: with the new owner's deadline)."""
    return _outcome(result, sla=sla)[1]


def _outcome(result: RoutingResult, *, sla: bool = True) -> tuple[str, str]:
    """``(emoji, line)`` for how a routing ended."""
    decision, outcome = result.decision, result.outcome
    chosen = decision.chosen.name if decision.chosen else None
    if result.dry_run:
        where = f"queue {decision.queue}" if decision.queue else chosen or "nobody"
        return ":mag:", f"Dry run: it would go to {where}; nothing was written."
    if outcome is None:
        if decision.queue is not None:
            return ":inbox_tray:", f"Left in queue {decision.queue}, unowned, for someone to pick up."
        current = decision.current.name if decision.current else "its owner"
        return ":information_source:", f"Unchanged: the lead already belongs to {current}."
    if outcome.disposition == "executed":
        if decision.queue is not None:
            holder = f" ({chosen})" if chosen else ""
            return ":inbox_tray:", f"Assigned to queue {decision.queue}{holder}."
        due = decision.sla_due_at
        due_text = f" SLA: work it by {due:%Y-%m-%d %H:%M} UTC." if due is not None and sla else ""
        return ":white_check_mark:", f"Assigned to {chosen}.{due_text}"
    if outcome.disposition == "queued":
        change = (
            f"the owner would change from {decision.current.name} to {chosen}"
            if decision.current
            else f"assigning it to {chosen} needs a person"
        )
        return ":raised_hand:", (
            f"Needs approval ({outcome.verdict.rule}): {change}; "
            f"approval card {outcome.approval_id} waits for the approvers."
        )
    if outcome.disposition == "duplicate":
        return ":hourglass:", "This owner change is already waiting for approval."
    detail = f" {outcome.detail}" if outcome.detail else ""
    return ":no_entry:", (
        f"Not done ({outcome.disposition}): {outcome.verdict.reason} ({outcome.verdict.rule}).{detail}"
    )


def route_lines(result: RoutingResult, *, explain: bool = False) -> list[str]:
    """The decision (everything, with ``explain``) and how it ended, as plain lines."""
    decision = result.decision
    shown = decision.details() if explain else decision.explanation
    return [*shown, route_outcome(result, sla=not explain)]  # explain's details name the SLA


def route_reply(result: RoutingResult, *, explain: bool = False) -> str:
    """The ``/route-lead`` answer: the explanation (all the details with ``explain``) and the outcome."""
    decision = result.decision
    shown = decision.details() if explain else decision.explanation
    emoji, outcome = _outcome(result, sla=not explain)
    lines = [f"*Route {escape(decision.lead.id)}*", *(f"• {escape(line)}" for line in shown)]
    lines.append(f"{emoji} {escape(outcome)}")
    if result.meeting is not None:
        lines.append(meeting_line(result.meeting))
    return "\n".join(lines)


def meeting_line(result: BookingResult) -> str:
    """What came of a booking, in one line (the ``/route-lead`` answer's last)."""
    plan = result.plan
    when = both_spans(plan.start, plan.end, plan) if plan is not None else ""
    outcome = result.outcome
    if result.booking is not None:
        booking = result.booking
        return f":calendar: Meeting booked: {both_spans(booking.start, booking.end, booking.plan)}."
    if outcome is None:
        why = result.options.explanation if result.options is not None else None
        return f":calendar: No meeting booked: {escape(why or 'no free slot in the horizon')}."
    if outcome.disposition == "queued":
        return (
            f":raised_hand: Meeting sent for approval (`{escape(outcome.approval_id or '')}`): {when}. "
            f"Why: {escape(one_line(outcome.verdict.reason))}"
        )
    return _not_booked(result)


def _not_booked(result: BookingResult) -> str:
    outcome = result.outcome
    assert outcome is not None
    detail = f" {outcome.detail}" if outcome.detail else ""
    return (
        f":no_entry: Meeting not booked ({escape(outcome.disposition)}): "
        f"{escape(one_line(outcome.verdict.reason + detail))}"
    )


def book_reply(result: BookingResult, *, link: str | None = None) -> str:
    """The ``/book-meeting`` answer: booked (with the message's link), sent for approval and why,
    or no slot, with the reason and the slots in the rep's hours only."""
    lead = escape(f"{result.lead.id}")
    lines = [f":arrows_counterclockwise: Planned again: {escape(why)}." for why in result.replanned]
    plan, outcome, options = result.plan, result.outcome, result.options
    if result.booking is not None:
        booking = result.booking
        bplan = booking.plan_now
        lines.append(
            f":calendar: *Meeting booked* for lead `{lead}`: {escape(bplan.title)}, "
            f"{both_spans(booking.start, booking.end, bplan)}."
        )
        lines.append(f"{crm_text(booking)} · {invite_text(booking)} · meeting `{escape(booking.id)}`")
        if link:
            lines.append(f"<{link}|Open the booking message> to reschedule or cancel it.")
    elif outcome is None or plan is None:
        why = (options.explanation if options is not None else None) or "no free slot in the horizon"
        lines.append(f":no_entry: *No slot* for lead `{lead}`: {escape(why)}.")
        if options is not None and options.note:
            lines.append(escape(options.note) + ".")
        if options is not None and options.slots:
            lines.append("In the rep's hours only:")
            lines.extend(f"• {escape(slot.describe())}" for slot in options.slots)
        lines.append("Nothing was booked.")
    elif outcome.disposition == "queued":
        lines.append(
            f":raised_hand: *Sent for approval* (`{escape(outcome.approval_id or '')}`) for lead `{lead}`: "
            f"{escape(plan.title)}, {both_spans(plan.start, plan.end, plan)}."
        )
        lines.append(f"Why: {escape(one_line(outcome.verdict.reason))}")
        if options is not None and options.explanation:
            lines.append(f"No slot fits both parties' hours: {escape(options.explanation)}.")
    else:
        lines.append(_not_booked(result))
    if plan is not None and plan.lead_zone_note and result.booking is None:
        lines.append(f"Lead's zone {plan.lead_zone}: {escape(one_line(plan.lead_zone_note))}")
    return "\n".join(lines)


def routing_file_reply(error: RoutingFileError) -> str:
    """A broken routing file, problem by problem: nobody can route until it is fixed."""
    lines = [f":warning: The routing file `{escape(error.path)}` has errors, so no lead can be routed:"]
    lines += [f"• {escape(str(problem))}" for problem in error.problems[:10]]
    if len(error.problems) > 10:
        lines.append(f"… and {len(error.problems) - 10} more.")
    lines.append("Fix it (check it with `revgate routing check`) and try again.")
    return "\n".join(lines)


def deadline(due_at: datetime, zone: tzinfo) -> str:
    """A Slack date token (shown in the reader's own time zone) with the owner's local time as fallback."""
    local = due_at.astimezone(zone)
    fallback = f"{local:%a %d %b %H:%M} {getattr(zone, 'key', None) or local.tzname() or 'UTC'}"
    return f"<!date^{int(due_at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def assignment_dm(notice: AssignmentNotice, zone: tzinfo) -> str:
    """The direct message to a lead's owner: which lead, by which rule, why, and by when to work it.

    ``zone``: the owner's working time zone (for the deadline's fallback text).
    """
    lead = notice.lead
    label = f"{escape(lead_label(lead))} (`{escape(lead.id)}`)"
    if notice.stage == "reminder":
        header = f":alarm_clock: *Reminder: a lead routed to you is still waiting:* {label}"
    elif notice.stage == "reassigned":
        header = f":arrows_counterclockwise: *A lead was reassigned to you:* {label}"
    else:
        header = f":wave: *A new lead for you:* {label}"
    lines = [header, f"Routed by rule `{escape(notice.rule)}`."]
    lines += [f"• {escape(line)}" for line in notice.lines]
    if notice.due_at is not None:
        then = "or it is escalated" if notice.stage == "reminder" else "or you get a reminder"
        lines.append(f"Please work it by {deadline(notice.due_at, zone)} ({then}).")
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
