"""Meetings in Block Kit: the ``book_meeting`` approval card, the booking message and its modals.

Built from plain data (no database); every payload passes slack_sdk's validation and
``bot.blocks.limits``. The pending card is compared with ``snapshots/book_meeting_card.json``;
regenerate it after an intended change with ``UPDATE_SNAPSHOTS=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.meetings.bookings import Booking
from agent.meetings.slots import Slot
from agent.models import MeetingPlan, MeetingSlot, ProposedAction, Target, Verdict
from bot import ids
from bot.blocks import build_approval_message, build_details_modal
from bot.blocks.meeting import (
    build_cancel_modal,
    build_meeting_message,
    build_reschedule_modal,
    local_span,
    meeting_closed,
    parse_slot_value,
    slot_value,
)
from bot.blocks.replies import help_text
from tests.bot.blocks import (
    STATUSES,
    action_ids,
    all_text,
    approval,
    assert_valid_message,
    assert_valid_view,
    buttons,
    context,
)

SNAPSHOT = Path(__file__).parent / "snapshots" / "book_meeting_card.json"
START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 New York, 16:00 Berlin
NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"


def plan(**overrides: object) -> MeetingPlan:
    values: dict[str, object] = {
        "rep_id": "O1",
        "rep_name": "Ada Lovelace",
        "rep_email": "ada@example.com",
        "lead_name": "Hans Meier",
        "lead_email": "hans@beispiel.de",
        "start": START,
        "end": START + timedelta(minutes=30),
        "rep_zone": NEW_YORK,
        "rep_hours": "09:00-17:00",
        "lead_zone": BERLIN,
        "lead_zone_note": "from phone, high confidence: +49 is Germany",
        "title": "Intro call: Hans Meier (Beispiel) and Ada Lovelace",
        "alternatives": [
            MeetingSlot(start=START + timedelta(minutes=30 * n), end=START + timedelta(minutes=30 * n + 30))
            for n in range(1, 4)
        ],
    }
    values.update(overrides)
    return MeetingPlan.model_validate(values)


def meeting_action(**overrides: object) -> ProposedAction:
    return ProposedAction(
        id="act-meet",
        kind="book_meeting",
        object_type="lead",
        targets=[Target(record_id="L1", version="v1", label="Hans Meier (Beispiel)")],
        meeting=plan(**overrides),
        rationale="Hans Meier is owned by Ada Lovelace; the first 30-minute slot free in both parties' hours",
        evidence={"lead_zone": BERLIN, "zone_source": "phone"},
        planner="meetings",
        check="meeting",
    )


def meeting_approval(status: str = "pending", **overrides: object):  # type: ignore[no-untyped-def]
    verdict = Verdict(
        outcome="require_approval",
        reason="Hans Meier (Beispiel) is on a high-value account (annual_revenue 5,000,000)",
        rule="requires_approval: high_value_changes",
        gates=("high_value_changes",),
    )
    return approval(meeting_action(**overrides), status, verdict=verdict)  # type: ignore[arg-type]


def booking(**overrides: object) -> Booking:
    values: dict[str, object] = {
        "id": "m000001",
        "action_id": "act-meet",
        "approval_id": None,
        "lead_id": "L1",
        "rep_id": "O1",
        "status": "booked",
        "start": START,
        "end": START + timedelta(minutes=30),
        "uid": "m000001@revgate",
        "sequence": 0,
        "invite_sequence": 0,
        "crm_activity_id": "MA1",
        "plan": plan(),
        "created_by": "U0REP",
        "created_at": START - timedelta(days=1),
        "updated_at": START - timedelta(days=1),
        "cancel_reason": None,
        "revision": 1,
    }
    values.update(overrides)
    return Booking(**values)  # type: ignore[arg-type]


def slot(start: datetime, minutes: int = 30) -> Slot:
    return Slot(start, start + timedelta(minutes=minutes), ZoneInfo(NEW_YORK), ZoneInfo(BERLIN), True)


# -- times ------------------------------------------------------------------------------------


def test_a_span_is_shown_in_the_zone_with_the_day_unpadded() -> None:
    end = START + timedelta(minutes=30)
    assert local_span(START, end, NEW_YORK) == "Tue 1 Dec 10:00-10:30 America/New_York"
    assert local_span(START, end, BERLIN) == "Tue 1 Dec 16:00-16:30 Europe/Berlin"
    late = datetime(2026, 12, 1, 22, 45, tzinfo=UTC)
    assert (
        local_span(late, late + timedelta(minutes=30), BERLIN)
        == "Tue 1 Dec 23:45-Wed 2 Dec 00:15 Europe/Berlin"
    )


def test_slot_values_round_trip_and_anything_else_is_refused() -> None:
    assert slot_value(START) == "2026-12-01T15:00Z"
    assert parse_slot_value("2026-12-01T15:00Z") == START
    for garbage in ("", "tomorrow", "2026-12-01T15:00", "2026-12-01T15:00:00+00:00", "2026-13-01T15:00Z"):
        assert parse_slot_value(garbage) is None


# -- the approval card ------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_of_a_meeting_card_renders(status: str) -> None:
    assert_valid_message(build_approval_message(meeting_approval(status), context()))


def test_the_pending_meeting_card_matches_its_snapshot() -> None:
    payload = assert_valid_message(build_approval_message(meeting_approval(), context()))
    rendered = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert SNAPSHOT.exists(), "no snapshot yet: run with UPDATE_SNAPSHOTS=1 and review it"
    assert rendered == SNAPSHOT.read_text(encoding="utf-8")


def test_the_card_shows_the_meeting_in_both_zones_with_the_zone_note_and_the_alternatives() -> None:
    text = all_text(build_approval_message(meeting_approval(), context()).to_dict())

    assert "Hans Meier (hans@beispiel.de) with Ada Lovelace (ada@example.com)" in text
    assert "Intro call: Hans Meier (Beispiel) and Ada Lovelace" in text
    assert (
        "*Ada Lovelace's time:* Tue 1 Dec 10:00-10:30 America/New_York (works 09:00-17:00, Mon-Fri)" in text
    )
    assert "*Hans Meier's time:* Tue 1 Dec 16:00-16:30 Europe/Berlin" in text
    assert "Lead's zone Europe/Berlin: from phone, high confidence: +49 is Germany" in text
    assert "• Tue 1 Dec 10:30-11:00 America/New_York / Tue 1 Dec 16:30-17:00 Europe/Berlin" in text
    assert "• Tue 1 Dec 11:30-12:00 America/New_York / Tue 1 Dec 17:30-18:00 Europe/Berlin" in text
    assert "no field changes" not in text
    assert "high_value_changes" in text


def test_a_substitution_says_why_the_rep_is_not_the_owner() -> None:
    why = "owner Grace Hopper is out of office until 2026-12-18; proposing Ada Lovelace from pool na"
    text = all_text(build_approval_message(meeting_approval(substitution=why), context()).to_dict())

    assert f"*Not the owner:* {why}" in text


def test_a_meeting_card_has_no_edit_and_its_buttons_carry_the_approval_id() -> None:
    message = build_approval_message(meeting_approval(), context())

    assert action_ids(message.blocks) == [
        ids.ACTION_APPROVE,
        ids.ACTION_REJECT,
        ids.ACTION_DETAILS,
    ]
    assert {b.value for b in buttons(message.blocks)} == {"apr_0001"}


def test_many_alternatives_end_with_and_n_more() -> None:
    many = [
        MeetingSlot(start=START + timedelta(hours=n), end=START + timedelta(hours=n, minutes=30))
        for n in range(1, 31)
    ]
    text = all_text(build_approval_message(meeting_approval(alternatives=many), context()).to_dict())

    assert "… and 20 more (see Details)" in text


def test_an_executed_meeting_card_names_the_booked_meeting() -> None:
    executed = meeting_approval("executed")
    executed = executed.model_copy(update={"result": {"written": ["L1"], "meeting_id": "m000001"}})

    text = all_text(build_approval_message(executed, context()).to_dict())

    assert "the meeting is booked (`m000001`; its message has Reschedule and Cancel)." in text
    assert "wrote 1 record" not in text


def test_details_show_the_meeting() -> None:
    view = build_details_modal(meeting_approval(), context())

    text = all_text(assert_valid_view(view))
    assert "Tue 1 Dec 16:00-16:30 Europe/Berlin" in text
    assert "Other free slots" in text


def test_text_from_the_crm_cannot_ping_anyone() -> None:
    text = all_text(build_approval_message(meeting_approval(lead_name="<!channel> Bob"), context()).to_dict())

    assert "<!channel>" not in text
    assert "&lt;!channel&gt; Bob" in text


# -- the booking message ----------------------------------------------------------------------


def test_a_booked_meeting_has_reschedule_and_cancel_carrying_the_meeting_id() -> None:
    message = build_meeting_message(booking())

    payload = assert_valid_message(message)
    assert action_ids(message.blocks) == [ids.ACTION_RESCHEDULE, ids.ACTION_CANCEL]
    assert {b.value for b in buttons(message.blocks)} == {"m000001"}
    text = all_text(payload)
    assert "Meeting booked: Hans Meier and Ada Lovelace" in text
    assert "Tue 1 Dec 10:00-10:30 America/New_York" in text
    assert "Tue 1 Dec 16:00-16:30 Europe/Berlin" in text
    assert "CRM activity `MA1`" in text
    assert "Invite v0 sent to hans@beispiel.de" in text
    assert "Booked by <@U0REP>" in text
    assert message.text.startswith("Meeting booked: Intro call")


def test_a_moved_meeting_shows_its_new_time_and_a_pending_invite() -> None:
    later = START + timedelta(days=1)
    moved = booking(start=later, end=later + timedelta(minutes=30), sequence=1, invite_sequence=0, revision=2)

    text = all_text(assert_valid_message(build_meeting_message(moved)))

    assert "Meeting rescheduled" in text
    assert "Wed 2 Dec 10:00-10:30 America/New_York" in text
    assert "Wed 2 Dec 16:00-16:30 Europe/Berlin" in text
    assert "Tue 1 Dec" not in text
    assert "Invite v1 not sent to hans@beispiel.de yet (revgate retries)" in text


def test_a_cancelled_meeting_says_who_and_why_and_has_no_buttons() -> None:
    cancelled = booking(
        status="cancelled", sequence=1, invite_sequence=1, cancel_reason="lead <asked> to wait"
    )

    message = build_meeting_message(cancelled, cancelled_by="U0BOSS")

    text = all_text(assert_valid_message(message))
    assert buttons(message.blocks) == []
    assert "Meeting cancelled" in text
    assert ":x: *Cancelled* by <@U0BOSS>: lead &lt;asked&gt; to wait" in text
    assert "Cancellation sent to hans@beispiel.de" in text
    assert "CRM activity `MA1` (cancelled)" in text


def test_a_crm_without_meetings_and_a_crm_not_written_yet_are_told_apart() -> None:
    assert "none (this CRM keeps no meetings)" in all_text(
        build_meeting_message(booking(crm_activity_id="")).to_dict()
    )
    assert "not written yet" in all_text(build_meeting_message(booking(crm_activity_id=None)).to_dict())


def test_closed_meetings_are_answered_in_words() -> None:
    cancelled = booking(status="cancelled", cancel_reason="no longer needed")
    assert meeting_closed(cancelled, "U0BOSS") == (
        "This meeting was already cancelled by <@U0BOSS>: no longer needed. Nothing was changed."
    )
    assert "someone" in meeting_closed(cancelled, None)
    assert "still being booked" in meeting_closed(booking(status="booking"), None)


# -- the modals -------------------------------------------------------------------------------


def test_reschedule_lists_at_most_ten_free_slots_in_both_zones() -> None:
    slots = [slot(START + timedelta(hours=n)) for n in range(1, 15)]

    view = build_reschedule_modal(booking(), slots)

    payload = assert_valid_view(view)
    assert view.callback_id == ids.VIEW_RESCHEDULE
    assert json.loads(view.private_metadata or "") == {"meeting": "m000001", "revision": 1}
    (field,) = [b for b in payload["blocks"] if b.get("block_id") == ids.BLOCK_SLOT]
    options = field["element"]["options"]
    assert field["element"]["type"] == "radio_buttons"
    assert field["element"]["action_id"] == ids.INPUT_SLOT
    assert len(options) == 10
    assert options[0]["value"] == "2026-12-01T16:00Z"
    assert options[0]["text"]["text"] == "Tue 1 Dec 11:00-11:30 America/New_York"
    assert options[0]["description"]["text"] == "Tue 1 Dec 17:00-17:30 Europe/Berlin for the lead"
    assert all(parse_slot_value(o["value"]) is not None for o in options)


def test_a_slot_outside_the_leads_hours_says_so() -> None:
    evening = Slot(START, START + timedelta(minutes=30), ZoneInfo(NEW_YORK), ZoneInfo(BERLIN), False)

    payload = assert_valid_view(build_reschedule_modal(booking(), [evening]))

    assert "Tue 1 Dec 16:00-16:30 Europe/Berlin: outside the lead's hours" in all_text(payload)


def test_reschedule_without_free_slots_has_nothing_to_submit() -> None:
    view = build_reschedule_modal(booking(), [])

    assert_valid_view(view)
    assert view.submit is None


def test_cancel_asks_for_a_required_reason() -> None:
    view = build_cancel_modal(booking())

    payload = assert_valid_view(view)
    assert view.callback_id == ids.VIEW_CANCEL
    assert json.loads(view.private_metadata or "") == {"meeting": "m000001"}
    (reason,) = [b for b in payload["blocks"] if b.get("block_id") == ids.BLOCK_CANCEL_REASON]
    assert reason["optional"] is False
    assert reason["element"]["action_id"] == ids.INPUT_CANCEL_REASON
    assert "Tue 1 Dec 16:00-16:30 Europe/Berlin for Hans Meier" in all_text(payload)


def test_meeting_ids_share_their_prefix() -> None:
    meeting_ids = [
        ids.ACTION_RESCHEDULE,
        ids.ACTION_CANCEL,
        ids.VIEW_RESCHEDULE,
        ids.VIEW_CANCEL,
        ids.BLOCK_SLOT,
        ids.INPUT_SLOT,
        ids.BLOCK_CANCEL_REASON,
        ids.INPUT_CANCEL_REASON,
    ]
    assert all(value.startswith("meeting_") for value in meeting_ids)
    others = [getattr(ids, n) for n in dir(ids) if n.isupper() and getattr(ids, n) not in meeting_ids]
    assert not any(isinstance(value, str) and value.startswith("meeting_") for value in others)


def test_help_lists_book_meeting() -> None:
    assert "`/book-meeting <lead id or email>`" in help_text()


def test_a_booking_copied_with_replace_keeps_its_plan() -> None:
    # The message shows the meeting's current time even when the stored plan is older.
    moved = replace(booking(), start=START + timedelta(hours=2), end=START + timedelta(hours=2, minutes=30))
    assert "Tue 1 Dec 12:00-12:30 America/New_York" in all_text(build_meeting_message(moved).to_dict())
