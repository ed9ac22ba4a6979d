"""The HubSpot adapter records meetings (the meetings engagement) as the meeting port says.

The conformance suite against the fake HubSpot, then what only a remote CRM can do: a 429
on the create (retried, written once) and a 5xx after the meeting was created (not re-sent;
the retry with the same key finds the meeting by its uid and returns it); and which
outcomes of a meeting logged by hand are busy time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.crm.hubspot import HubSpotCRM
from agent.crm.hubspot_meetings import hubspot_time
from agent.errors import CRMUnavailableError, CRMValidationError
from agent.models import MeetingActivity, Owner, Record
from agent.store.database import Database
from tests.crm.conformance import sample
from tests.crm.meetings_conformance import MeetingArrangement, MeetingConformance, at
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fake_hubspot_adapter import HubSpotArrangement, connect, new_ledger


class TestHubSpotMeetings(MeetingConformance):
    @pytest.fixture
    def arranged(self, hubspot: FakeHubSpot, database: Database) -> MeetingArrangement:
        return HubSpotArrangement(hubspot, connect(hubspot, new_ledger(database, hubspot.clock), sleeps=[]))


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def crm(hubspot: FakeHubSpot, database: Database, sleeps: list[float]) -> HubSpotCRM:
    return connect(hubspot, new_ledger(database, hubspot.clock), sleeps)


@pytest.fixture
def rep(hubspot: FakeHubSpot, crm: HubSpotCRM) -> Owner:
    return HubSpotArrangement(hubspot, crm).owner("MR1")


@pytest.fixture
def lead(hubspot: FakeHubSpot, crm: HubSpotCRM, rep: Owner) -> Record:
    return HubSpotArrangement(hubspot, crm).record("lead", sample("lead", 1), owner_id=rep.id)


def _book(crm: HubSpotCRM, lead: Record, rep: Owner) -> MeetingActivity:
    return crm.record_meeting(
        "lead",
        lead.id,
        owner_id=rep.id,
        title="Intro call",
        starts_at=at(1),
        ends_at=at(1) + timedelta(minutes=30),
        body="Agenda",
        uid="b7e1@revgate.test",
        idempotency_key="book-1",
    )


def test_record_meeting_keeps_the_uid_in_the_internal_notes_and_associates_the_contact(
    hubspot: FakeHubSpot, crm: HubSpotCRM, lead: Record, rep: Owner
) -> None:
    recorded = _book(crm, lead, rep)

    properties = hubspot.properties("meetings", recorded.id)
    assert "revgate-uid: b7e1@revgate.test" in properties["hs_internal_meeting_notes"]
    assert properties["hs_meeting_outcome"] == "SCHEDULED"
    assert properties["hs_timestamp"] == properties["hs_meeting_start_time"] == "2026-12-07T10:00:00.000Z"
    assert hubspot.meeting_ids("contacts", lead.id) == [recorded.id]


def test_a_rate_limited_create_is_retried_and_the_meeting_written_once(
    hubspot: FakeHubSpot, crm: HubSpotCRM, lead: Record, rep: Owner, sleeps: list[float]
) -> None:
    hubspot.fail_next("create", status=429, retry_after=2, object_type="meetings")

    recorded = _book(crm, lead, rep)

    assert [r.status for r in hubspot.requests_to("create", "meetings")] == [429, 201]
    assert sleeps == [2.0]
    assert hubspot.meeting_ids("contacts", lead.id) == [recorded.id]


def test_a_create_that_failed_after_it_was_applied_is_not_sent_again(
    hubspot: FakeHubSpot, crm: HubSpotCRM, lead: Record, rep: Owner
) -> None:
    hubspot.fail_next("create", status=500, applied=True, object_type="meetings")

    with pytest.raises(CRMUnavailableError):
        _book(crm, lead, rep)
    assert len(hubspot.requests_to("create", "meetings")) == 1

    recorded = _book(crm, lead, rep)

    assert len(hubspot.requests_to("create", "meetings")) == 1
    assert hubspot.meeting_ids("contacts", lead.id) == [recorded.id]
    assert recorded.uid == "b7e1@revgate.test"
    assert _book(crm, lead, rep) == recorded


def test_a_cancel_that_failed_after_it_was_applied_is_not_sent_again(
    hubspot: FakeHubSpot, crm: HubSpotCRM, lead: Record, rep: Owner
) -> None:
    recorded = _book(crm, lead, rep)
    hubspot.fail_next("update", status=502, applied=True, object_type="meetings")

    with pytest.raises(CRMUnavailableError):
        crm.update_meeting(recorded.id, status="cancelled", idempotency_key="cancel-1")
    cancelled = crm.update_meeting(recorded.id, status="cancelled", idempotency_key="cancel-1")

    assert cancelled.status == "cancelled"
    assert len(hubspot.requests_to("update", "meetings")) == 1
    assert hubspot.properties("meetings", recorded.id)["hs_meeting_outcome"] == "CANCELED"


def _by_hand(hubspot: FakeHubSpot, rep: Owner, hour: float, outcome: str | None) -> str:
    start = at(hour)
    properties = {
        "hs_timestamp": hubspot_time(start),
        "hs_meeting_title": f"Logged by hand ({outcome})",
        "hs_meeting_start_time": hubspot_time(start),
        "hs_meeting_end_time": hubspot_time(start + timedelta(minutes=30)),
        "hubspot_owner_id": rep.id,
    }
    if outcome is not None:
        properties["hs_meeting_outcome"] = outcome
    return hubspot.add_object("meetings", properties)


def test_meetings_revgate_did_not_record_are_busy_unless_canceled_or_rescheduled(
    hubspot: FakeHubSpot, crm: HubSpotCRM, lead: Record, rep: Owner
) -> None:
    ids = {
        outcome: _by_hand(hubspot, rep, hour, outcome)
        for hour, outcome in enumerate((None, "SCHEDULED", "COMPLETED", "NO_SHOW", "CANCELED", "RESCHEDULED"))
    }
    recorded = _book(crm, lead, rep)

    listed = crm.owner_meetings(rep.id, at(0), at(8))

    assert [m.id for m in listed] == [
        ids[None],
        ids["SCHEDULED"],
        recorded.id,  # at the same time: by id
        ids["COMPLETED"],
        ids["NO_SHOW"],
    ]
    assert [(m.uid, m.record_id) for m in listed if m.id != recorded.id] == [("", "")] * 4
    for outcome in ("CANCELED", "RESCHEDULED"):
        unbusy = crm.get_meeting(ids[outcome])
        assert unbusy is not None
        assert (unbusy.status, unbusy.uid) == ("cancelled", "")


def test_a_meeting_revgate_did_not_record_is_not_changed(
    hubspot: FakeHubSpot, crm: HubSpotCRM, rep: Owner
) -> None:
    by_hand = _by_hand(hubspot, rep, 1, "SCHEDULED")
    before = hubspot.properties("meetings", by_hand)

    with pytest.raises(CRMValidationError, match="change it in the CRM"):
        crm.update_meeting(by_hand, status="cancelled", idempotency_key="cancel-hand")

    assert hubspot.requests_to("update", "meetings") == []
    assert hubspot.properties("meetings", by_hand) == before
