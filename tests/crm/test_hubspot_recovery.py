"""Writes whose outcome nobody saw (a crash, a 5xx mid-merge) are resolved by the next attempt."""

from __future__ import annotations

import pytest

from agent.crm.hubspot import HubSpotCRM
from agent.crm.ledger import WriteLedger
from agent.errors import CRMConflictError, CRMUnavailableError
from agent.models import Record
from agent.store.database import Database
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fake_hubspot_adapter import connect, new_ledger

NEW_PHONE = "+14155550100"


class ProcessDied(BaseException):
    """The process died: not an error anyone catches."""


class CrashingLedger(WriteLedger):
    """A ledger whose process dies between the CRM's answer and marking the key done."""

    def finish(self, key: str, result_ref: str | None = None) -> None:
        raise ProcessDied(key)


@pytest.fixture
def ledger(database: Database, hubspot: FakeHubSpot) -> WriteLedger:
    return new_ledger(database, hubspot.clock)


@pytest.fixture
def crm(hubspot: FakeHubSpot, ledger: WriteLedger) -> HubSpotCRM:
    return connect(hubspot, ledger, [])


@pytest.fixture
def crashing(hubspot: FakeHubSpot, database: Database) -> HubSpotCRM:
    """The same adapter in a process that dies before it can mark a write done."""
    return connect(hubspot, CrashingLedger(database, crm="hubspot", clock=hubspot.clock), [])


def _duplicates(hubspot: FakeHubSpot, crm: HubSpotCRM, count: int) -> list[Record]:
    records = []
    for n in range(1, count + 1):
        created = hubspot.add_contact(
            {"firstname": "Jane", "lastname": f"Doe{n}", "email": "jane@acme.io", "lifecyclestage": "lead"}
        )
        found = crm.get("lead", created)
        assert found is not None
        records.append(found)
    return records


def _merge(crm: HubSpotCRM, records: list[Record], key: str = "m") -> Record:
    survivor, *others = records
    return crm.merge(
        "lead",
        survivor.id,
        [r.id for r in others],
        {"phone": NEW_PHONE},
        expected_versions={r.id: r.version for r in records},
        idempotency_key=key,
    )


def _done(ledger: WriteLedger, key: str) -> bool:
    entry = ledger.entry(key)
    return entry is not None and entry.done


def test_an_update_whose_process_died_before_the_ledger_heard_is_resolved_without_writing_again(
    hubspot: FakeHubSpot, crm: HubSpotCRM, crashing: HubSpotCRM, ledger: WriteLedger
) -> None:
    lead = _duplicates(hubspot, crm, 1)[0]
    with pytest.raises(ProcessDied):
        crashing.update(
            "lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u"
        )
    assert not _done(ledger, "u")

    again = crm.update(
        "lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u"
    )

    assert again.get("phone") == NEW_PHONE
    assert len(hubspot.requests_to("update")) == 1
    assert _done(ledger, "u")


def test_an_update_claimed_but_never_sent_is_written_by_the_next_attempt(
    hubspot: FakeHubSpot, crm: HubSpotCRM, ledger: WriteLedger
) -> None:
    lead = _duplicates(hubspot, crm, 1)[0]
    ledger.claim("u", "update", lead.id)  # the process died right after claiming the key

    written = crm.update(
        "lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u"
    )

    assert written.get("phone") == NEW_PHONE
    assert len(hubspot.requests_to("update")) == 1
    assert _done(ledger, "u")


def test_a_started_update_whose_record_changed_meanwhile_is_a_conflict(
    hubspot: FakeHubSpot, crm: HubSpotCRM, ledger: WriteLedger
) -> None:
    lead = _duplicates(hubspot, crm, 1)[0]
    ledger.claim("u", "update", lead.id)
    hubspot.later(60)
    hubspot.edit("contacts", lead.id, {"phone": "+14155550999"})

    with pytest.raises(CRMConflictError):
        crm.update("lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u")

    assert hubspot.requests_to("update") == []
    assert ledger.entry("u") is None


def test_a_note_whose_process_died_before_the_ledger_heard_is_not_added_twice(
    hubspot: FakeHubSpot, crm: HubSpotCRM, crashing: HubSpotCRM
) -> None:
    lead = _duplicates(hubspot, crm, 1)[0]
    with pytest.raises(ProcessDied):
        crashing.add_note("lead", lead.id, "Met at the expo.", idempotency_key="n")

    note = crm.add_note("lead", lead.id, "Met at the expo.", idempotency_key="n")

    assert crm.notes("lead", lead.id) == [note]
    assert len(hubspot.requests_to("create")) == 1


def test_a_merge_whose_process_died_before_the_ledger_heard_is_finished_without_merging_again(
    hubspot: FakeHubSpot, crm: HubSpotCRM, crashing: HubSpotCRM, ledger: WriteLedger
) -> None:
    records = _duplicates(hubspot, crm, 3)
    with pytest.raises(ProcessDied):
        _merge(crashing, records)
    merges = len(hubspot.requests_to("merge"))

    merged = _merge(crm, records)

    assert merges == 2
    assert len(hubspot.requests_to("merge")) == merges
    assert merged.get("phone") == NEW_PHONE
    assert {hubspot.current_id("contacts", r.id) for r in records} == {merged.id}
    assert _done(ledger, "m")


def test_a_merge_chain_that_met_a_500_after_its_first_merge_is_finished_by_the_retry(
    hubspot: FakeHubSpot, crm: HubSpotCRM, ledger: WriteLedger
) -> None:
    records = _duplicates(hubspot, crm, 3)
    crm.add_note("lead", records[2].id, "on the last duplicate", idempotency_key="n")
    hubspot.fail_next("merge", status=500, applied=True)
    with pytest.raises(CRMUnavailableError):
        _merge(crm, records)
    assert not _done(ledger, "m")

    merged = _merge(crm, records)

    assert [r.status for r in hubspot.requests_to("merge")] == [500, 200]
    assert {hubspot.current_id("contacts", r.id) for r in records} == {merged.id}
    assert merged.get("phone") == NEW_PHONE
    assert [n.body for n in crm.notes("lead", merged.id)] == ["on the last duplicate"]
    assert _done(ledger, "m")


def test_a_merge_whose_record_changed_in_between_merges_nothing(
    hubspot: FakeHubSpot, crm: HubSpotCRM
) -> None:
    records = _duplicates(hubspot, crm, 3)
    hubspot.later(60)
    hubspot.edit("contacts", records[2].id, {"jobtitle": "CFO"})

    with pytest.raises(CRMConflictError) as raised:
        _merge(crm, records)

    assert raised.value.record_id == records[2].id
    assert hubspot.writes() == []
    assert {hubspot.current_id("contacts", r.id) for r in records} == {r.id for r in records}


def test_a_merge_clears_what_the_duplicates_filled_in_that_the_survivor_had_empty(
    hubspot: FakeHubSpot, crm: HubSpotCRM
) -> None:
    survivor, other = _duplicates(hubspot, crm, 2)
    hubspot.edit("contacts", other.id, {"jobtitle": "CFO"})
    other = crm.get("lead", other.id) or other

    merged = crm.merge(
        "lead",
        survivor.id,
        [other.id],
        {},
        expected_versions={survivor.id: survivor.version, other.id: other.version},
        idempotency_key="m",
    )

    assert merged.get("title") is None
    assert merged.get("last_name") == survivor.get("last_name")
