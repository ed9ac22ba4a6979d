"""The remote adapters' idempotency keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from agent.crm.ledger import LedgerEntry, WriteLedger
from agent.errors import CRMConflictError, CRMUnavailableError, CRMValidationError
from agent.store.database import Database
from tests.support.fakes import FixedClock


@pytest.fixture
def ledger(db: Database) -> WriteLedger:
    return WriteLedger(db, crm="hubspot", clock=FixedClock())


def test_a_new_key_is_claimed_and_reads_back_started(ledger: WriteLedger) -> None:
    assert ledger.claim("k-1", "update", "101") is None

    entry = ledger.entry("k-1")

    assert entry is not None
    assert (entry.operation, entry.record_id, entry.state, entry.done) == ("update", "101", "started", False)


def test_a_finished_key_is_a_replay_with_what_it_produced(ledger: WriteLedger) -> None:
    ledger.claim("k-1", "add_note", "101")
    ledger.finish("k-1", "note-9")

    again = ledger.claim("k-1", "add_note", "101")

    assert again is not None
    assert again.done
    assert again.result_ref == "note-9"


def test_a_key_claimed_twice_without_finishing_reports_the_unfinished_attempt(ledger: WriteLedger) -> None:
    ledger.claim("k-1", "merge", "101")
    ledger.progress("k-1", "205")

    again = ledger.claim("k-1", "merge", "101")

    assert again is not None
    assert (again.state, again.result_ref) == ("started", "205")


def test_a_released_key_can_be_claimed_again(ledger: WriteLedger) -> None:
    ledger.claim("k-1", "update", "101")
    ledger.release("k-1")

    assert ledger.entry("k-1") is None
    assert ledger.claim("k-1", "update", "101") is None


def test_release_never_forgets_a_finished_write(ledger: WriteLedger) -> None:
    ledger.claim("k-1", "update", "101")
    ledger.finish("k-1")

    ledger.release("k-1")

    entry = ledger.entry("k-1")
    assert entry is not None
    assert entry.done


@pytest.mark.parametrize(("operation", "record_id"), [("delete", "101"), ("update", "102")])
def test_a_key_reused_for_another_write_is_refused(
    ledger: WriteLedger, operation: str, record_id: str
) -> None:
    ledger.claim("k-1", "update", "101")

    with pytest.raises(CRMValidationError, match="already used for update of 101"):
        ledger.claim("k-1", operation, record_id)


def test_each_crm_has_its_own_keys(db: Database, ledger: WriteLedger) -> None:
    salesforce = WriteLedger(db, crm="salesforce", clock=FixedClock())
    ledger.claim("k-1", "update", "101")
    ledger.finish("k-1")

    assert salesforce.claim("k-1", "delete", "00Q1") is None
    assert salesforce.entry("k-1") is not None
    hubspot_entry = ledger.entry("k-1")
    assert hubspot_entry is not None
    assert hubspot_entry.operation == "update"


@pytest.mark.parametrize("key", ["", "k" * 121])
def test_an_empty_or_overlong_key_is_a_caller_error(ledger: WriteLedger, key: str) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        ledger.claim(key, "update", "101")


def test_of_two_concurrent_claims_exactly_one_wins(ledger: WriteLedger) -> None:
    results: list[LedgerEntry | None] = []
    start = threading.Barrier(8)

    def claim() -> None:
        start.wait()
        results.append(ledger.claim("k-race", "update", "101"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    assert results.count(None) == 1
    losers = [r for r in results if isinstance(r, LedgerEntry)]
    assert len(losers) == 7
    assert {(r.operation, r.record_id, r.state) for r in losers} == {("update", "101", "started")}


def test_a_write_the_crm_refused_frees_its_key(ledger: WriteLedger) -> None:
    ledger.claim("k-1", "update", "101")

    with pytest.raises(CRMConflictError), ledger.sending("k-1"):
        raise CRMConflictError("101", "v1", "v2")

    assert ledger.entry("k-1") is None


def test_a_write_that_met_a_5xx_keeps_its_key_started(ledger: WriteLedger) -> None:
    ledger.claim("k-1", "update", "101")

    with pytest.raises(CRMUnavailableError), ledger.sending("k-1"):
        raise CRMUnavailableError("502 from the CRM")

    entry = ledger.entry("k-1")
    assert entry is not None
    assert entry.state == "started"


def test_a_refused_step_after_an_applied_one_keeps_the_key_and_its_progress(ledger: WriteLedger) -> None:
    ledger.claim("k-1", "merge", "101")
    ledger.progress("k-1", "1")

    with pytest.raises(CRMValidationError), ledger.sending("k-1", releasable=False):
        raise CRMValidationError("the CRM refused the second merge call")

    entry = ledger.entry("k-1")
    assert entry is not None
    assert (entry.state, entry.result_ref) == ("started", "1")
