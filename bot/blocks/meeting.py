"""Meetings in Block Kit: the ``book_meeting`` part of an approval card, the booking message
with its Reschedule and Cancel buttons, and the two modals those buttons open.

Every time is shown in each party's own zone (``Tue 1 Dec 10:00-10:30 America/New_York``),
never only in UTC: the rep and the lead read the same meeting in their own hours.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from agent.meetings.bookings import Booking
from agent.meetings.slots import Slot
from agent.models import MeetingPlan
from bot import ids
from bot.blocks.card import CardContext, Message, mrkdwn, text_sections
from bot.blocks.limits import (
    HEADER_TEXT_MAX,
    INPUT_LENGTH_MAX,
    OPTION_DESCRIPTION_MAX,
    OPTION_TEXT_MAX,
    RADIO_OPTIONS_MAX,
    SECTION_TEXT_MAX,
)
from bot.blocks.text import ELLIPSIS, escape, one_line, truncate, who

SLOT_FORMAT = "%Y-%m-%dT%H:%MZ"
"""A slot option's value: its start in UTC, to the minute."""
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# -- times ----------------------------------------------------------------------------


def local_span(start: datetime, end: datetime, zone: str) -> str:
    """``Tue 1 Dec 10:00-10:30 America/New_York`` (the end's day too when it is another day)."""
    tz = ZoneInfo(zone)
    s, e = start.astimezone(tz), end.astimezone(tz)
    until = f"{e:%H:%M}" if e.date() == s.date() else f"{e:%a} {e.day} {e:%b %H:%M}"
    return f"{s:%a} {s.day} {s:%b %H:%M}-{until} {zone}"


def both_spans(start: datetime, end: datetime, plan: MeetingPlan) -> str:
    """The rep's time, then the lead's: ``… America/New_York / … Europe/Berlin``."""
    return f"{local_span(start, end, plan.rep_zone)} / {local_span(start, end, plan.lead_zone)}"


def slot_value(start: datetime) -> str:
    """A slot option's value (see :data:`SLOT_FORMAT`)."""
    return f"{start.astimezone(UTC):{SLOT_FORMAT}}"


def parse_slot_value(value: str) -> datetime | None:
    """The start a slot option's value names, or ``None`` when it is not one."""
    try:
        return datetime.strptime(value, SLOT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _days(days: Sequence[int]) -> str:
    ordered = sorted(set(days))
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{_DAYS[ordered[0]]}-{_DAYS[ordered[-1]]}"
    return ", ".join(_DAYS[d] for d in ordered)


# -- the approval card's part ---------------------------------------------------------


def meeting_lines(plan: MeetingPlan, *, max_alternatives: int | None = None) -> list[str]:
    """Who with whom, the time in both zones, the lead's zone, a substitution and the other slots."""
    lines = [
        f"*Meeting:* {escape(one_line(plan.title))}",
        f"{escape(plan.lead_name)} ({escape(plan.lead_email or 'no email')}) with "
        f"{escape(plan.rep_name)} ({escape(plan.rep_email)})",
        f"• *{escape(plan.rep_name)}'s time:* {local_span(plan.start, plan.end, plan.rep_zone)} "
        f"(works {plan.rep_hours}, {_days(plan.rep_days)})",
        f"• *{escape(plan.lead_name)}'s time:* {local_span(plan.start, plan.end, plan.lead_zone)}",
    ]
    if plan.lead_zone_note:
        lines.append(f"Lead's zone {plan.lead_zone}: {escape(one_line(plan.lead_zone_note))}")
    if plan.substitution:
        lines.append(f":twisted_rightwards_arrows: *Not the owner:* {escape(one_line(plan.substitution))}")
    alternatives = plan.alternatives
    if alternatives:
        shown = alternatives if max_alternatives is None else alternatives[:max_alternatives]
        lines.append("*Other free slots* (after booking, Reschedule offers them):")
        lines.extend(f"• {both_spans(slot.start, slot.end, plan)}" for slot in shown)
        if len(alternatives) > len(shown):
            lines.append(f"{ELLIPSIS} and {len(alternatives) - len(shown)} more (see Details)")
    return lines


def meeting_sections(plan: MeetingPlan, ctx: CardContext) -> list[SectionBlock]:
    """The meeting on a ``book_meeting`` card (in place of a diff: a booking changes no field)."""
    return text_sections("meeting", meeting_lines(plan, max_alternatives=ctx.max_items), max_blocks=2)


# -- the booking message --------------------------------------------------------------


def build_meeting_message(booking: Booking, *, cancelled_by: str | None = None) -> Message:
    """A booked meeting: the time in both zones, the CRM activity, the invite, and the buttons.

    Reschedule and Cancel (each button's value is the meeting id) while the meeting is
    live; a cancelled meeting says who cancelled it and why, and has no buttons.
    """
    plan = booking.plan_now
    cancelled = booking.status == "cancelled"
    if cancelled:
        state = "Meeting cancelled"
    elif booking.sequence:
        state = "Meeting rescheduled"
    else:
        state = "Meeting booked"
    header = truncate(f"{state}: {one_line(plan.lead_name)} and {one_line(plan.rep_name)}", HEADER_TEXT_MAX)
    lines = meeting_lines(plan)[:4]  # not the alternatives: they were the proposal's
    if cancelled:
        reason = escape(one_line(booking.cancel_reason or "no reason given"))
        lines.append(f":x: *Cancelled* by {who(cancelled_by)}: {reason}")
    blocks: list[Block] = [
        HeaderBlock(block_id="meeting_header", text=PlainTextObject(text=header, emoji=False)),
        *text_sections("meeting", lines, max_blocks=1),
        ContextBlock(
            block_id="meeting_meta",
            elements=[mrkdwn(truncate(t, SECTION_TEXT_MAX)) for t in _meta(booking)],
        ),
    ]
    if booking.live:
        blocks.append(_meeting_actions(booking))
    fallback = f"{state}: {one_line(plan.title)}, {local_span(booking.start, booking.end, plan.rep_zone)}"
    return Message(text=truncate(escape(fallback), SECTION_TEXT_MAX), blocks=blocks)


def crm_text(booking: Booking) -> str:
    """Where the meeting is in the CRM."""
    if booking.crm_activity_id is None:
        return "CRM activity: not written yet (revgate retries)"
    if not booking.crm_activity_id:
        return "CRM activity: none (this CRM keeps no meetings)"
    state = " (cancelled)" if booking.status == "cancelled" else ""
    return f"CRM activity `{escape(booking.crm_activity_id)}`{state}"


def invite_text(booking: Booking) -> str:
    """Whether the lead has the latest invite (or the cancellation)."""
    what = "Cancellation" if booking.status == "cancelled" else f"Invite v{booking.sequence}"
    to = escape(booking.plan.lead_email or "the lead")
    if booking.invite_pending:
        return f":hourglass: {what} not sent to {to} yet (revgate retries)"
    return f"{what} sent to {to}"


def _meta(booking: Booking) -> list[str]:
    return [
        crm_text(booking),
        invite_text(booking),
        f"Booked by {who(booking.created_by)}",
        f"id `{escape(booking.id)}`",
    ]


def _meeting_actions(booking: Booking) -> ActionsBlock:
    return ActionsBlock(
        block_id="meeting_actions",
        elements=[
            ButtonElement(
                text=PlainTextObject(text="Reschedule"), action_id=ids.ACTION_RESCHEDULE, value=booking.id
            ),
            ButtonElement(
                text=PlainTextObject(text="Cancel"),
                action_id=ids.ACTION_CANCEL,
                value=booking.id,
                style="danger",
            ),
        ],
    )


# -- the modals -------------------------------------------------------------------------


def build_reschedule_modal(booking: Booking, slots: Sequence[Slot]) -> View:
    """The free slots (at most 10) as radio buttons: the rep's time, the lead's as description.

    ``private_metadata``: ``{"meeting": id, "revision": n}``; a submission for a meeting
    changed since is refused.
    """
    plan = booking.plan_now
    shown = list(slots[:RADIO_OPTIONS_MAX])
    options = [_slot_option(slot) for slot in shown]
    blocks: list[Block] = [_now_section(booking)]
    if options:
        blocks.append(
            InputBlock(
                block_id=ids.BLOCK_SLOT,
                label="New time",
                element=RadioButtonsElement(action_id=ids.INPUT_SLOT, options=options),
                hint=(
                    f"Free in {plan.rep_name}'s calendar and hours. The CRM activity moves and "
                    f"{plan.lead_name} gets the updated invite."
                ),
            )
        )
    else:
        none = "No free slot in the horizon; nothing to move to."
        blocks.append(SectionBlock(block_id="meeting_no_slot", text=mrkdwn(none)))
    return View(
        type="modal",
        callback_id=ids.VIEW_RESCHEDULE,
        private_metadata=json.dumps({"meeting": booking.id, "revision": booking.revision}),
        title="Reschedule meeting",
        submit="Move" if options else None,
        close="Cancel" if options else "Close",
        blocks=blocks,
    )


def build_cancel_modal(booking: Booking) -> View:
    """Ask why: a cancellation needs a reason, shown on the message and kept in the audit log."""
    return View(
        type="modal",
        callback_id=ids.VIEW_CANCEL,
        private_metadata=json.dumps({"meeting": booking.id}),
        title="Cancel meeting",
        submit="Cancel meeting",
        close="Keep it",
        blocks=[
            _now_section(booking),
            InputBlock(
                block_id=ids.BLOCK_CANCEL_REASON,
                label="Why cancel it?",
                element=PlainTextInputElement(
                    action_id=ids.INPUT_CANCEL_REASON,
                    multiline=True,
                    max_length=INPUT_LENGTH_MAX,
                    placeholder="e.g. the lead asked to talk next month",
                ),
                hint=(
                    f"Required. Shown on the meeting's message; {booking.plan.lead_name} gets the "
                    "cancellation and the CRM activity is marked cancelled."
                ),
                optional=False,
            ),
        ],
    )


def _now_section(booking: Booking) -> SectionBlock:
    plan = booking.plan_now
    text = "\n".join(
        [
            f"*{escape(one_line(plan.title))}*",
            f"Now: {local_span(booking.start, booking.end, plan.rep_zone)} for {escape(plan.rep_name)}",
            f"{local_span(booking.start, booking.end, plan.lead_zone)} for {escape(plan.lead_name)}",
        ]
    )
    return SectionBlock(block_id="meeting_now", text=mrkdwn(truncate(text, SECTION_TEXT_MAX)))


def _slot_option(slot: Slot) -> Option:
    rep = local_span(slot.start, slot.end, slot.rep_zone.key)
    lead = local_span(slot.start, slot.end, slot.lead_zone.key)
    # Descriptions hold 75 characters: the slot's own note would not fit beside the time.
    lead += ": outside the lead's hours" if not slot.inside_lead_hours else " for the lead"
    return Option(
        value=slot_value(slot.start),
        text=PlainTextObject(text=truncate(rep, OPTION_TEXT_MAX)),
        description=PlainTextObject(text=truncate(lead, OPTION_DESCRIPTION_MAX)),
    )


def meeting_closed(booking: Booking, by: str | None) -> str:
    """The answer to a Reschedule or Cancel on a meeting that cannot change any more."""
    if booking.status == "cancelled":
        reason = escape(one_line(booking.cancel_reason or "no reason given"))
        return f"This meeting was already cancelled by {who(by)}: {reason}. Nothing was changed."
    return "This meeting is still being booked; try again in a moment. Nothing was changed."
