"""Salesforce writes that take several requests or lose their answer: chained merges of four and more
records, merges refused before any call, and attempts cut short by a crash or a 5xx, resolved
through the write ledger by the next attempt without writing twice."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from agent.crm.ledger import WriteLedger
from agent.errors import CRMConflictError, CRMUnavailableError
from agent.models import Record
from agent.store.database import Database
from tests.crm.conformance import sample
from tests.support.fake_salesforce import FakeSalesforce, SfRequest
from tests.support.fake_salesforce_arrangement import (
    OrgClock,
    SalesforceArrangement,
    connect,
)

PHONE = "+14155550777"
_PARTNER = "urn:partner.soap.sforce.com"
_SOBJECT = "urn:sobject.partner.soap.sforce.com"


class Crash(Exception):
    """The process died at this point."""


class CrashingLedger(WriteLedger):
    """A ledger whose process dies the first time it is about to record ``at`` (``finish``/``progress``)."""

    def __init__(self, database: Database, *, at: str, clock: OrgClock) -> None:
        super().__init__(database, crm="salesforce", clock=clock)
        self._at = at
        self.crashed = False

    def finish(self, key: str, result_ref: str | None = None) -> None:
        self._maybe_crash("finish")
        super().finish(key, result_ref)

    def progress(self, key: str, result_ref: str) -> None:
        self._maybe_crash("progress")
        super().progress(key, result_ref)

    def _maybe_crash(self, step: str) -> None:
        if step == self._at and not self.crashed:
            self.crashed = True
            raise Crash(step)


@pytest.fixture
def arranged(salesforce: FakeSalesforce, database: Database) -> SalesforceArrangement:
    return SalesforceArrangement(salesforce, connect(salesforce, database))


def _duplicates(arranged: SalesforceArrangement, count: int) -> list[Record]:
    return [arranged.record("lead", sample("lead", n, email="jane@acme.io")) for n in range(1, count + 1)]


def _merge_calls(salesforce: FakeSalesforce) -> list[ET.Element]:
    return [_merge_request(r) for r in salesforce.requests_to("POST", "/services/Soap/u/")]


def _merge_request(request: SfRequest) -> ET.Element:
    found = ET.fromstring(request.body).find(f".//{{{_PARTNER}}}merge/{{{_PARTNER}}}request")
    assert found is not None
    return found


def _merged_ids(call: ET.Element) -> list[str]:
    return [e.text or "" for e in call.findall(f"{{{_PARTNER}}}recordToMergeIds")]


def _master_fields(call: ET.Element) -> set[str]:
    master = call.find(f"{{{_PARTNER}}}masterRecord")
    assert master is not None
    return {e.tag.rpartition("}")[2] for e in master} - {"type", "Id", "fieldsToNull"}


def _versions(records: list[Record]) -> dict[str, str]:
    return {r.id: r.version for r in records}


# -- merges of more than three records -------------------------------------------------------


@pytest.mark.parametrize(("count", "batches"), [(4, [2, 1]), (5, [2, 2]), (6, [2, 2, 1])])
def test_a_merge_of_more_than_three_records_is_chained_with_the_plan_in_the_last_call(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce, count: int, batches: list[int]
) -> None:
    survivor, *others = _duplicates(arranged, count)
    for n, other in enumerate(others):
        arranged.crm.add_note("lead", other.id, f"note {n}", idempotency_key=f"n-{n}")

    merged = arranged.crm.merge(
        "lead",
        survivor.id,
        [r.id for r in others],
        {"phone": PHONE},
        expected_versions=_versions([survivor, *others]),
        idempotency_key="m-1",
    )

    calls = _merge_calls(salesforce)
    assert [len(_merged_ids(call)) for call in calls] == batches
    assert [id_ for call in calls for id_ in _merged_ids(call)] == [r.id for r in others]
    assert [("Phone" in _master_fields(call)) for call in calls] == [False] * (len(calls) - 1) + [True]
    assert merged.get("phone") == PHONE
    assert arranged.crm.get_many("lead", [r.id for r in others]) == {}
    assert [r.id for r in arranged.crm.iter_records("lead")] == [survivor.id]
    assert sorted(n.body for n in arranged.crm.notes("lead", survivor.id)) == [
        f"note {n}" for n in range(len(others))
    ]


def test_a_chained_merge_with_one_changed_record_raises_conflict_before_any_merge_call(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    survivor, *others = _duplicates(arranged, 5)
    arranged.later(60)
    moved = arranged.change_behind_our_back(others[2], {"phone": "+14155550888"})

    with pytest.raises(CRMConflictError) as raised:
        arranged.crm.merge(
            "lead",
            survivor.id,
            [r.id for r in others],
            {"phone": PHONE},
            expected_versions=_versions([survivor, *others]),
            idempotency_key="m-1",
        )

    assert raised.value.record_id == moved.id
    assert _merge_calls(salesforce) == []
    assert len(arranged.crm.get_many("lead", [r.id for r in (survivor, *others)])) == 5


def test_a_merge_keeps_the_survivors_empty_fields_empty_whatever_the_duplicates_hold(
    arranged: SalesforceArrangement,
) -> None:
    # Salesforce may fill a master's blank field from a merged record; the plan did not ask for it.
    survivor = arranged.record("lead", {"last_name": "Doe", "company": "Acme", "email": "jane@acme.io"})
    other = arranged.record("lead", sample("lead", 2, email="jane@acme.io", title="CFO"))

    merged = arranged.crm.merge(
        "lead",
        survivor.id,
        [other.id],
        {},
        expected_versions=_versions([survivor, other]),
        idempotency_key="m-1",
    )

    assert merged.fields == survivor.fields


# -- attempts cut short ----------------------------------------------------------------------


def test_an_update_whose_process_died_before_the_ledger_finished_is_resolved_by_the_next_attempt(
    salesforce: FakeSalesforce, database: Database
) -> None:
    ledger = CrashingLedger(database, at="finish", clock=OrgClock(salesforce.org))
    crashing = connect(salesforce, database, ledger=ledger)
    lead = SalesforceArrangement(salesforce, crashing).record("lead", sample("lead", 1))
    with pytest.raises(Crash):
        crashing.update(
            "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
        )
    entry = ledger.entry("k-1")
    assert entry is not None
    assert entry.state == "started"

    restarted = connect(salesforce, database)
    written = restarted.update(
        "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
    )

    assert written.get("phone") == PHONE
    assert len(salesforce.requests_to("PATCH", "/sobjects/Lead/")) == 1
    finished = ledger.entry("k-1")
    assert finished is not None
    assert finished.done


def test_a_merge_chain_cut_short_by_a_crash_continues_where_it_stopped(
    salesforce: FakeSalesforce, database: Database
) -> None:
    ledger = CrashingLedger(database, at="progress", clock=OrgClock(salesforce.org))
    crashing = connect(salesforce, database, ledger=ledger)
    survivor, *others = _duplicates(SalesforceArrangement(salesforce, crashing), 4)
    request = {
        "object_type": "lead",
        "survivor_id": survivor.id,
        "merged_ids": [r.id for r in others],
        "field_plan": {"phone": PHONE},
        "expected_versions": _versions([survivor, *others]),
        "idempotency_key": "m-1",
    }
    with pytest.raises(Crash):
        crashing.merge(**request)  # type: ignore[arg-type]
    assert len(_merge_calls(salesforce)) == 1

    merged = connect(salesforce, database).merge(**request)  # type: ignore[arg-type]

    calls = _merge_calls(salesforce)
    assert [_merged_ids(call) for call in calls] == [[others[0].id, others[1].id], [others[2].id]]
    assert merged.get("phone") == PHONE
    assert connect(salesforce, database).get_many("lead", [r.id for r in others]) == {}


def test_a_note_whose_answer_was_a_500_is_not_added_twice_by_its_retry(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.fail("POST", "/sobjects/Note", 500, after_apply=True)

    with pytest.raises(CRMUnavailableError):
        arranged.crm.add_note("lead", lead.id, "Called back.", idempotency_key="n-1")
    note = arranged.crm.add_note("lead", lead.id, "Called back.", idempotency_key="n-1")

    assert arranged.crm.notes("lead", lead.id) == [note]
    assert len(salesforce.requests_to("POST", "/sobjects/Note")) == 1


def test_a_delete_whose_answer_was_a_500_is_done_by_its_retry_without_a_second_request(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.fail("DELETE", "/sobjects/Lead/", 500, after_apply=True)

    with pytest.raises(CRMUnavailableError):
        arranged.crm.delete("lead", lead.id, expected_version=lead.version, idempotency_key="d-1")
    arranged.crm.delete("lead", lead.id, expected_version=lead.version, idempotency_key="d-1")

    assert arranged.crm.get("lead", lead.id) is None
    assert len(salesforce.requests_to("DELETE", "/sobjects/Lead/")) == 1


def test_a_merge_whose_answer_was_a_500_is_finished_by_its_retry_without_merging_again(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    survivor, other = _duplicates(arranged, 2)
    salesforce.fail("POST", "/services/Soap/", 500, error_code="UNKNOWN_EXCEPTION", after_apply=True)
    request = {
        "object_type": "lead",
        "survivor_id": survivor.id,
        "merged_ids": [other.id],
        "field_plan": {"phone": PHONE},
        "expected_versions": _versions([survivor, other]),
        "idempotency_key": "m-1",
    }

    with pytest.raises(CRMUnavailableError):
        arranged.crm.merge(**request)  # type: ignore[arg-type]
    merged = arranged.crm.merge(**request)  # type: ignore[arg-type]

    assert merged.get("phone") == PHONE
    assert arranged.crm.get("lead", other.id) is None
    assert len(_merge_calls(salesforce)) == 1
