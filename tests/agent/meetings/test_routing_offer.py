"""Routing offers a meeting as its last step when the lead asked for one (``meetings.offer_when``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.meetings.booking_stack import MeetingStack
from tests.agent.meetings.support import utc


@pytest.fixture
def stack(sqlite_url: str, tmp_path: Path) -> Iterator[MeetingStack]:
    built = MeetingStack(sqlite_url, tmp_path)
    built.clock.current = utc(2026, 11, 30, 15)  # 10:00 in New York: the pool is at work
    yield built
    built.close()


def test_a_lead_that_asked_for_a_meeting_gets_one_with_its_new_owner(stack: MeetingStack) -> None:
    lead = stack.lead(owner_id=None, lead_source="Demo request")

    result = stack.services.routing().route(lead.id, requested_by="U0REP")

    assert result.status == "open"
    assert result.meeting is not None
    assert result.meeting.status == "booked"
    booking = result.meeting.booking
    assert booking is not None
    assert booking.rep_id == result.decision.placement.owner_id
    assert stack.crm.get("lead", lead.id).owner_id == booking.rep_id  # type: ignore[union-attr]


def test_a_lead_that_did_not_ask_is_routed_without_a_meeting(stack: MeetingStack) -> None:
    lead = stack.lead(owner_id=None, lead_source="Web")

    result = stack.services.routing().route(lead.id, requested_by="U0REP")

    assert result.status == "open"
    assert result.meeting is None
    assert stack.meetings.book_store.listed() == []
    asked, why = stack.services.routing().wants_meeting(result.decision)
    assert not asked
    assert why == "lead_source in [Demo request]: 'Web'"


def test_a_lead_left_in_a_queue_gets_no_meeting(stack: MeetingStack) -> None:
    lead = stack.lead(owner_id=None, lead_source="Demo request", country="FR", state=None)

    result = stack.services.routing().route(lead.id, requested_by="U0REP")

    assert result.status == "queued"
    assert result.meeting is None
    assert stack.meetings.book_store.listed() == []


def test_a_lead_routed_again_keeps_the_meeting_it_has(stack: MeetingStack) -> None:
    lead = stack.lead(owner_id=None, lead_source="Demo request")
    first = stack.services.routing().route(lead.id, requested_by="U0REP")
    assert first.meeting is not None

    again = stack.services.routing().route(lead.id, requested_by="U0REP")

    assert again.meeting is None
    assert len(stack.meetings.book_store.listed(lead_id=lead.id)) == 1
