"""Booking a meeting through the policy: booked at once, sent for approval, or planned again.

Every test drives the real services (runner, policy, approvals, executor, meeting writer)
over a real database, the embedded CRM and an invite folder; Ann's calendar is an iCalendar
file the test edits. See :mod:`tests.agent.meetings.booking_stack` for the setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.errors import (
    LeadNotRoutedError,
    PolicyProblem,
    RoutingFileError,
    SlotTakenError,
    ValidationFailedError,
)
from agent.executor import Executor
from agent.meetings.writer import MeetingWriter
from agent.models import Approved
from tests.agent.meetings.booking_stack import MeetingStack, minutes
from tests.agent.meetings.support import utc

# Ann works 09:00-17:00 New York; two hours' notice from 08:00 makes 10:00 the first slot.
FIRST = utc(2026, 11, 30, 15)  # 10:00 New York
SECOND = utc(2026, 11, 30, 15, 30)


@pytest.fixture
def stack(sqlite_url: str, tmp_path: Path) -> Iterator[MeetingStack]:
    built = MeetingStack(sqlite_url, tmp_path)
    yield built
    built.close()


def test_the_owner_in_both_parties_hours_is_booked_at_once(stack: MeetingStack) -> None:
    lead = stack.lead()

    result = stack.meetings.book(lead, requested_by="U0REP")

    assert result.status == "booked", result.outcome
    booking = result.booking
    assert booking is not None
    assert booking.status == "booked"
    assert (booking.start, booking.end, booking.rep_id) == (FIRST, FIRST + minutes(30), "OA")
    [activity] = stack.crm.record_meetings("lead", lead.id)  # type: ignore[attr-defined]
    assert (activity.starts_at, activity.owner_id, activity.uid) == (FIRST, "OA", booking.uid)
    assert activity.status == "scheduled"
    assert booking.crm_activity_id == activity.id
    [name] = stack.invite_files()
    event = stack.invite(name).walk("VEVENT")[0]
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (booking.uid, 0)
    assert stack.invite(name)["METHOD"] == "REQUEST"
    assert "jane@prospect.io" in str(event["ATTENDEE"])
    assert not booking.invite_pending


def test_booking_again_with_the_same_key_books_once(stack: MeetingStack) -> None:
    result = stack.meetings.book(stack.lead(), requested_by="U0REP")
    assert result.action is not None
    assert result.booking is not None

    again = stack.services.executor.execute(result.action, key=result.booking.action_id)

    assert again.meeting_id == result.booking.id
    assert len(stack.crm.record_meetings("lead", result.lead.id)) == 1  # type: ignore[attr-defined]
    assert len(stack.invite_files()) == 1


def test_a_time_outside_the_reps_hours_goes_to_approval(stack: MeetingStack) -> None:
    lead = stack.lead()
    evening = utc(2026, 11, 30, 23)  # 18:00 in New York

    result = stack.meetings.book(lead, requested_by="U0REP", at=evening)

    assert result.status == "pending"
    assert result.outcome is not None
    verdict = result.outcome.verdict
    assert verdict.gates == ("outside_working_hours",)
    assert "Mon 30 Nov 18:00 America/New_York is outside Ann Rep's working hours" in verdict.reason
    assert stack.meetings.book_store.listed() == []
    assert stack.invite_files() == []
    [card] = stack.notifier.requested
    assert card.action.meeting is not None
    assert card.action.meeting.start == evening


def test_no_overlap_of_business_hours_offers_the_reps_hours_for_approval(stack: MeetingStack) -> None:
    tokyo = stack.lead(country="JP", state=None, phone="+81 3 1234 5678")

    result = stack.meetings.book(tokyo, requested_by="U0REP")

    assert result.options is not None
    assert result.options.reason is not None
    assert result.options.reason.value == "no_overlap"
    assert result.status == "pending"
    assert result.outcome is not None
    assert result.outcome.verdict.gates == ("outside_working_hours",)
    assert "outside the lead's business hours (09:00-17:00 Asia/Tokyo" in result.outcome.verdict.reason


def test_a_lead_on_a_high_value_account_goes_to_approval(stack: MeetingStack) -> None:
    result = stack.meetings.book(stack.lead(annual_revenue=5_000_000), requested_by="U0REP")

    assert result.status == "pending"
    assert result.outcome is not None
    assert result.outcome.verdict.gates == ("high_value_changes",)


def test_an_owner_away_for_the_whole_horizon_is_replaced_by_the_next_member_with_approval(
    stack: MeetingStack,
) -> None:
    stack.calendar.write_text(
        stack.calendar.read_text().replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\nUID:leave@example.com\nDTSTAMP:20261101T000000Z\nSUMMARY:Holiday\n"
            "DTSTART;VALUE=DATE:20261130\nDTEND;VALUE=DATE:20261219\n"
            "X-MICROSOFT-CDO-BUSYSTATUS:OOF\nEND:VEVENT\nEND:VCALENDAR",
        )
    )

    result = stack.meetings.book(stack.lead(), requested_by="U0REP")

    assert result.plan is not None
    assert result.plan.rep_id == "OB"
    assert result.status == "pending"
    assert result.outcome is not None
    assert result.outcome.verdict.gates == ("other_rep",)
    reason = result.outcome.verdict.reason
    assert "not the lead's owner OA" in reason
    assert "out of office until 2026-12-18" in reason


def test_a_lead_without_an_owner_has_nobody_to_meet(stack: MeetingStack) -> None:
    with pytest.raises(LeadNotRoutedError):
        stack.meetings.book(stack.lead(owner_id=None), requested_by="U0REP")


def test_a_slot_taken_between_proposal_and_booking_is_planned_again(stack: MeetingStack) -> None:
    lead = stack.lead()
    stack.meetings.options(lead)  # the proposal reads Ann's feed (and keeps it for a minute)
    stack.busy(FIRST, FIRST + minutes(30))  # ...then someone takes 10:00 in her calendar

    result = stack.meetings.book(lead, requested_by="U0REP")

    assert result.status == "booked"
    assert len(result.replanned) == 1
    assert "no longer free" in result.replanned[0]
    assert result.booking is not None
    # 10:30 is inside the 10-minute buffer after the new 10:00-10:30 event: 11:00 is next.
    assert result.booking.start == utc(2026, 11, 30, 16)
    assert len(stack.crm.record_meetings("lead", lead.id)) == 1  # type: ignore[attr-defined]


def test_two_leads_of_one_rep_never_share_a_slot(stack: MeetingStack) -> None:
    first = stack.meetings.book(stack.lead(), requested_by="U0REP")
    second = stack.meetings.book(stack.lead(email="joe@other.io"), requested_by="U0REP")

    assert first.booking is not None
    assert second.booking is not None
    assert second.booking.start >= first.booking.end + minutes(10)


def test_the_database_refuses_a_second_claim_of_a_booked_slot(stack: MeetingStack) -> None:
    first = stack.meetings.book(stack.lead(), requested_by="U0REP")
    assert first.plan is not None
    assert first.booking is not None
    book = stack.meetings.book_store

    with pytest.raises(SlotTakenError):
        book.claim(
            meeting_id="other",
            action_id="other-action",
            approval_id=None,
            lead_id="L-other",
            plan=first.plan,
            uid="other@revgate",
            created_by="U0REP",
            buffer=minutes(0),
            now=stack.clock.now(),
        )
    assert [b.id for b in book.listed()] == [first.booking.id]


def test_an_approved_booking_whose_slot_was_taken_is_superseded_and_planned_again(
    stack: MeetingStack,
) -> None:
    lead = stack.lead()
    evening = utc(2026, 11, 30, 23)
    pending = stack.meetings.book(lead, requested_by="U0REP", at=evening)
    assert pending.outcome is not None
    assert pending.outcome.approval_id is not None
    stack.busy(evening, evening + minutes(60))

    stack.services.approvals.decide(pending.outcome.approval_id, Approved(user="U0APPROVER"))
    stack.services.worker.drain()

    approval = stack.services.approvals.get(pending.outcome.approval_id)
    assert approval.status == "superseded"
    assert approval.reason is not None
    assert "no longer free" in approval.reason
    [booking] = stack.meetings.book_store.listed()
    assert (booking.lead_id, booking.start, booking.status) == (lead.id, FIRST, "booked")


def test_an_approved_booking_fails_clearly_when_the_routing_file_is_broken(stack: MeetingStack) -> None:
    pending = stack.meetings.book(stack.lead(), requested_by="U0REP", at=utc(2026, 11, 30, 23))
    assert pending.action is not None

    def broken() -> MeetingWriter:
        raise RoutingFileError("routing.yaml", [PolicyProblem(3, "pools: unknown member")])

    executor = Executor(stack.crm, meetings=broken)

    with pytest.raises(ValidationFailedError, match=r"meetings cannot be booked: routing file routing\.yaml"):
        executor.execute(pending.action, key="k1")
    assert stack.meetings.book_store.listed() == []


def test_a_calendar_that_keeps_filling_up_ends_in_a_clear_superseded_result(
    stack: MeetingStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always_taken(plan: object, start: object, end: object, buffer: object, **kwargs: object) -> None:
        raise SlotTakenError(
            "L", "Ann Rep's slot is no longer free: it was taken by an event in their calendar"
        )

    monkeypatch.setattr(stack.meetings.writer, "check_free", always_taken)

    result = stack.meetings.book(stack.lead(), requested_by="U0REP")

    assert result.status == "superseded"
    assert len(result.replanned) == 3  # three earlier slots, then the last one's own outcome
    assert result.outcome is not None
    assert "no longer free" in result.outcome.detail
    assert stack.meetings.book_store.listed() == []


def test_an_approved_booking_is_booked_by_the_worker_under_its_approval(stack: MeetingStack) -> None:
    evening = utc(2026, 11, 30, 23)
    pending = stack.meetings.book(stack.lead(), requested_by="U0REP", at=evening)
    assert pending.outcome is not None
    approval_id = pending.outcome.approval_id
    assert approval_id is not None

    stack.services.approvals.decide(approval_id, Approved(user="U0APPROVER"))
    stack.services.worker.drain()

    assert stack.services.approvals.get(approval_id).status == "executed"
    [booking] = stack.meetings.book_store.listed()
    assert (booking.start, booking.approval_id, booking.action_id) == (evening, approval_id, approval_id)
    assert stack.invite_files() == [f"{booking.id}@revgate-0-request.ics"]
