"""Moving and cancelling a booked meeting keeps the CRM activity, the invite and the row in step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.errors import (
    CRMUnavailableError,
    InviteDeliveryError,
    MeetingClosedError,
    MeetingNotFoundError,
    SlotTakenError,
)
from agent.meetings.bookings import Booking
from tests.agent.meetings.booking_stack import MeetingStack, minutes
from tests.agent.meetings.support import utc

FIRST = utc(2026, 11, 30, 15)
AFTERNOON = utc(2026, 11, 30, 19)  # 14:00 New York


@pytest.fixture
def stack(database_url: str, tmp_path: Path) -> Iterator[MeetingStack]:
    built = MeetingStack(database_url, tmp_path)
    yield built
    built.close()


def _booked(stack: MeetingStack) -> Booking:
    result = stack.meetings.book(stack.lead(), requested_by="U0REP")
    assert result.booking is not None
    assert result.booking.start == FIRST
    return result.booking


def test_a_reschedule_moves_the_crm_activity_and_sends_the_next_invite_version(stack: MeetingStack) -> None:
    booking = _booked(stack)

    moved = stack.meetings.move(booking.id, AFTERNOON, by="U0REP")

    assert (moved.start, moved.end, moved.sequence, moved.status) == (
        AFTERNOON,
        AFTERNOON + minutes(30),
        1,
        "booked",
    )
    [activity] = stack.crm.record_meetings("lead", booking.lead_id)  # type: ignore[attr-defined]
    assert (activity.starts_at, activity.ends_at, activity.status) == (AFTERNOON, moved.end, "scheduled")
    assert stack.invite_files() == [
        f"{booking.id}@revgate-0-request.ics",
        f"{booking.id}@revgate-1-request.ics",
    ]
    event = stack.invite(f"{booking.id}@revgate-1-request.ics").walk("VEVENT")[0]
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (booking.uid, 1)
    assert event.decoded("DTSTART") == AFTERNOON
    assert not moved.invite_pending


def test_a_cancellation_cancels_the_crm_activity_sends_the_cancel_and_frees_the_slot(
    stack: MeetingStack,
) -> None:
    booking = _booked(stack)
    stack.meetings.move(booking.id, AFTERNOON, by="U0REP")

    cancelled = stack.meetings.cancel(booking.id, by="U0REP", reason="the lead asked to talk next month")

    assert (cancelled.status, cancelled.sequence) == ("cancelled", 2)
    [activity] = stack.crm.record_meetings("lead", booking.lead_id)  # type: ignore[attr-defined]
    assert activity.status == "cancelled"
    assert stack.crm.owner_meetings("OA", FIRST, AFTERNOON + minutes(60)) == []  # type: ignore[attr-defined]
    cancel = stack.invite(f"{booking.id}@revgate-2-cancel.ics")
    assert cancel["METHOD"] == "CANCEL"
    event = cancel.walk("VEVENT")[0]
    assert (str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (booking.uid, 2, "CANCELLED")
    # The slot is free again: the next booking of Ann's takes 10:00.
    again = stack.meetings.book(stack.lead(email="next@prospect.io"), requested_by="U0REP")
    assert again.booking is not None
    assert again.booking.start == FIRST


def test_a_cancelled_meeting_can_be_neither_moved_nor_cancelled_again(stack: MeetingStack) -> None:
    booking = _booked(stack)
    stack.meetings.cancel(booking.id, by="U0REP", reason="no longer needed")

    with pytest.raises(MeetingClosedError, match="cancelled"):
        stack.meetings.move(booking.id, AFTERNOON, by="U0REP")
    with pytest.raises(MeetingClosedError):
        stack.meetings.cancel(booking.id, by="U0REP", reason="twice")
    assert len(stack.invite_files()) == 2


def test_moving_onto_a_busy_time_is_refused_and_changes_nothing(stack: MeetingStack) -> None:
    booking = _booked(stack)
    stack.busy(AFTERNOON, AFTERNOON + minutes(60))

    with pytest.raises(SlotTakenError, match="no longer free"):
        stack.meetings.move(booking.id, AFTERNOON, by="U0REP")

    assert stack.meetings.book_store.get(booking.id) == booking
    [activity] = stack.crm.record_meetings("lead", booking.lead_id)  # type: ignore[attr-defined]
    assert activity.starts_at == FIRST
    assert len(stack.invite_files()) == 1


def test_a_meeting_can_move_to_a_time_overlapping_its_own(stack: MeetingStack) -> None:
    booking = _booked(stack)

    moved = stack.meetings.move(booking.id, FIRST + minutes(15), by="U0REP")

    assert moved.start == FIRST + minutes(15)


def test_an_unknown_meeting_is_not_found(stack: MeetingStack) -> None:
    with pytest.raises(MeetingNotFoundError):
        stack.meetings.cancel("nope", by="U0REP", reason="x")


def test_the_slots_offered_for_a_move_leave_out_the_meetings_own_time(stack: MeetingStack) -> None:
    booking = _booked(stack)

    same, slots = stack.meetings.slots_for(booking.id)

    assert same == booking
    assert slots
    assert all(slot.span != booking.span for slot in slots)
    assert all(slot.end - slot.start == minutes(30) for slot in slots)
    # Its own time and buffer do not block it: the half hour right after it is offered first.
    assert slots[0].start == FIRST + minutes(30)


def test_an_invite_the_mail_server_refused_is_sent_by_the_next_sync(
    stack: MeetingStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = stack.meetings.writer
    real = writer._invites

    class Refusing:
        def send(self, **kwargs: object) -> str:
            raise InviteDeliveryError("mail server said 451 try again later")

    monkeypatch.setattr(writer, "_invites", Refusing())
    booking = _booked(stack)
    assert booking.status == "booked"
    assert booking.invite_pending
    assert stack.meetings.book_store.pending_sync() == [booking]

    monkeypatch.setattr(writer, "_invites", real)
    assert stack.meetings.sync_pending() == 1

    assert not stack.meetings.book_store.get(booking.id).invite_pending
    assert stack.invite_files() == [f"{booking.id}@revgate-0-request.ics"]
    assert stack.meetings.book_store.pending_sync() == []


def test_a_booking_that_crashed_after_its_claim_is_finished_once_by_the_replay(
    stack: MeetingStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = stack.meetings.writer
    lead = stack.lead()
    options = stack.meetings.options(lead)
    action = stack.meetings._proposal(options, options.slots[0].span, lead, stack.meetings.rules, "U0REP")

    def crash(booking: Booking) -> Booking:
        raise KeyboardInterrupt  # the process dies between the claim and the CRM write

    monkeypatch.setattr(writer, "sync", crash)
    with pytest.raises(KeyboardInterrupt):
        writer.book_meeting(action, key="k1")
    monkeypatch.undo()
    [claimed] = stack.meetings.book_store.pending_sync()
    assert claimed.status == "booking"

    result = writer.book_meeting(action, key="k1")
    writer.book_meeting(action, key="k1")

    assert result.meeting_id == claimed.id
    assert stack.meetings.book_store.get(claimed.id).status == "booked"
    assert len(stack.crm.record_meetings("lead", lead.id)) == 1  # type: ignore[attr-defined]
    assert stack.invite_files() == [f"{claimed.id}@revgate-0-request.ics"]


def test_a_move_stands_when_the_crm_is_down_and_the_next_sync_catches_the_crm_up(
    stack: MeetingStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking = _booked(stack)

    def down(*args: object, **kwargs: object) -> None:
        raise CRMUnavailableError("HTTP 503")

    monkeypatch.setattr(stack.crm, "update_meeting", down)
    moved = stack.meetings.move(booking.id, AFTERNOON, by="U0REP")
    assert (moved.start, moved.sequence) == (AFTERNOON, 1)
    assert moved.invite_pending  # the invite waits for the CRM
    monkeypatch.undo()

    assert stack.meetings.sync_pending() == 1

    [activity] = stack.crm.record_meetings("lead", booking.lead_id)  # type: ignore[attr-defined]
    assert activity.starts_at == AFTERNOON
    assert f"{booking.id}@revgate-1-request.ics" in stack.invite_files()
