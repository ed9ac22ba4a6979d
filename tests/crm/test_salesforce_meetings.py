"""The Salesforce adapter records meetings (Events) as the meeting port says.

The conformance suite against the fake Salesforce, then what only a remote CRM can do: a 429
on the create (retried, written once) and a 5xx after the Event was created (not re-sent;
the retry with the same key finds the Event by its uid and returns it), how an Event
looks in Salesforce (uid in the description, a cancelled one shown as free time), and which
Events a person logged are busy time (all but those shown as free).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.crm.salesforce import SalesforceCRM
from agent.errors import CRMUnavailableError, CRMValidationError
from agent.models import MeetingActivity, Owner, Record
from agent.store.database import Database
from tests.crm.conformance import sample
from tests.crm.meetings_conformance import MeetingArrangement, MeetingConformance, at
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.fake_salesforce_arrangement import RecordingSleep, SalesforceArrangement, connect

EVENTS = "/sobjects/Event"


class TestSalesforceMeetings(MeetingConformance):
    @pytest.fixture
    def arranged(self, salesforce: FakeSalesforce, database: Database) -> MeetingArrangement:
        return SalesforceArrangement(salesforce, connect(salesforce, database))


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def crm(salesforce: FakeSalesforce, database: Database, sleep: RecordingSleep) -> SalesforceCRM:
    return connect(salesforce, database, sleep=sleep)


@pytest.fixture
def rep(salesforce: FakeSalesforce, crm: SalesforceCRM) -> Owner:
    return SalesforceArrangement(salesforce, crm).owner("MR1")


@pytest.fixture
def lead(salesforce: FakeSalesforce, crm: SalesforceCRM, rep: Owner) -> Record:
    return SalesforceArrangement(salesforce, crm).record("lead", sample("lead", 1), owner_id=rep.id)


def _book(crm: SalesforceCRM, lead: Record, rep: Owner) -> MeetingActivity:
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


def _events(salesforce: FakeSalesforce) -> list[dict[str, object]]:
    return salesforce.org.query("Event")


def test_an_event_carries_the_uid_in_its_description_and_is_busy_time_on_the_lead(
    salesforce: FakeSalesforce, crm: SalesforceCRM, lead: Record, rep: Owner
) -> None:
    recorded = _book(crm, lead, rep)

    row = salesforce.org.row(recorded.id)
    assert row is not None
    assert (row["WhoId"], row["OwnerId"], row["Subject"], row["ShowAs"]) == (
        lead.id,
        rep.id,
        "Intro call",
        "Busy",
    )
    assert row["Description"] == "Agenda\n\nrevgate-uid: b7e1@revgate.test"
    assert row["StartDateTime"] == "2026-12-07T10:00:00.000+0000"


def test_a_cancelled_event_is_kept_prefixed_and_shown_as_free_time(
    salesforce: FakeSalesforce, crm: SalesforceCRM, lead: Record, rep: Owner
) -> None:
    recorded = _book(crm, lead, rep)

    cancelled = crm.update_meeting(recorded.id, status="cancelled", idempotency_key="cancel-1")

    row = salesforce.org.row(recorded.id)
    assert row is not None
    assert (row["Subject"], row["ShowAs"], row["IsDeleted"]) == ("Canceled: Intro call", "Free", False)
    assert (cancelled.status, cancelled.title) == ("cancelled", "Intro call")


def test_a_rate_limited_create_is_retried_and_the_event_written_once(
    salesforce: FakeSalesforce, crm: SalesforceCRM, lead: Record, rep: Owner, sleep: RecordingSleep
) -> None:
    salesforce.fail("POST", EVENTS, 429, retry_after=2)

    recorded = _book(crm, lead, rep)

    assert len(salesforce.requests_to("POST", EVENTS)) == 2
    assert sleep.waits == [2.0]
    assert [row["Id"] for row in _events(salesforce)] == [recorded.id]


def test_a_create_that_failed_after_it_was_applied_is_not_sent_again(
    salesforce: FakeSalesforce, crm: SalesforceCRM, lead: Record, rep: Owner
) -> None:
    salesforce.fail("POST", EVENTS, 500, after_apply=True)

    with pytest.raises(CRMUnavailableError):
        _book(crm, lead, rep)
    assert len(salesforce.requests_to("POST", EVENTS)) == 1

    recorded = _book(crm, lead, rep)

    assert len(salesforce.requests_to("POST", EVENTS)) == 1
    assert [row["Id"] for row in _events(salesforce)] == [recorded.id]
    assert recorded.uid == "b7e1@revgate.test"
    assert _book(crm, lead, rep) == recorded


def test_a_move_that_failed_after_it_was_applied_is_not_sent_again(
    salesforce: FakeSalesforce, crm: SalesforceCRM, lead: Record, rep: Owner
) -> None:
    recorded = _book(crm, lead, rep)
    salesforce.fail("PATCH", f"{EVENTS}/", 503, after_apply=True)

    with pytest.raises(CRMUnavailableError):
        crm.update_meeting(recorded.id, starts_at=at(3), ends_at=at(4), idempotency_key="move-1")
    moved = crm.update_meeting(recorded.id, starts_at=at(3), ends_at=at(4), idempotency_key="move-1")

    assert (moved.starts_at, moved.ends_at) == (at(3), at(4))
    assert len(salesforce.requests_to("PATCH", f"{EVENTS}/")) == 1


def test_events_revgate_did_not_record_are_busy_time_unless_shown_as_free(
    salesforce: FakeSalesforce, crm: SalesforceCRM, lead: Record, rep: Owner
) -> None:
    def by_hand(hour: int, show_as: str | None, **more: str) -> str:
        values = {
            "OwnerId": rep.id,
            "Subject": f"Logged by hand ({show_as})",
            "StartDateTime": f"2026-12-07T1{hour}:00:00Z",
            "EndDateTime": f"2026-12-07T1{hour}:30:00Z",
            **more,
        }
        if show_as is not None:
            values["ShowAs"] = show_as
        return salesforce.org.create("Event", values)

    on_lead = by_hand(0, "Busy", WhoId=lead.id)
    no_show_as = by_hand(1, None)
    away = by_hand(2, "OutOfOffice")
    free = by_hand(3, "Free")
    recorded = _book(crm, lead, rep)

    listed = crm.owner_meetings(rep.id, at(0), at(8))

    assert [m.id for m in listed] == [on_lead, recorded.id, no_show_as, away]
    assert [(m.uid, m.object_type, m.record_id) for m in listed[:1]] == [("", "lead", lead.id)]
    assert [(m.uid, m.record_id) for m in listed[2:]] == [("", ""), ("", "")]
    shown_free = crm.get_meeting(free)
    assert shown_free is not None
    assert (shown_free.status, shown_free.uid, shown_free.title) == ("scheduled", "", "Logged by hand (Free)")


def test_an_event_revgate_did_not_record_is_not_changed_and_a_deleted_event_is_gone(
    salesforce: FakeSalesforce, crm: SalesforceCRM, lead: Record, rep: Owner
) -> None:
    by_hand = salesforce.org.create(
        "Event",
        {
            "WhoId": lead.id,
            "OwnerId": rep.id,
            "Subject": "Logged by hand",
            "StartDateTime": "2026-12-07T10:00:00Z",
            "EndDateTime": "2026-12-07T10:30:00Z",
        },
    )
    before = salesforce.org.row(by_hand)
    recorded = _book(crm, lead, rep)
    salesforce.org.delete("Event", recorded.id)

    with pytest.raises(CRMValidationError, match="change it in the CRM"):
        crm.update_meeting(by_hand, starts_at=at(3), ends_at=at(4), idempotency_key="move-hand")

    assert salesforce.requests_to("PATCH", f"{EVENTS}/") == []
    assert salesforce.org.row(by_hand) == before
    assert crm.get_meeting(recorded.id) is None
    assert [m.id for m in crm.owner_meetings(rep.id, at(0), at(8))] == [by_hand]
