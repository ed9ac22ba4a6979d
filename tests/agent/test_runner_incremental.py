"""Incremental and chunked runs: what a run reads, what it plans over, and where its cursor goes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import cast

import pytest

from agent import run_pass, run_report
from agent.crm.local import LocalCRM
from agent.crm.seed import seed_crm
from agent.models import FieldValue, ObjectType, Owner, ProposedAction, Record
from agent.planner.base import CRMSnapshot, SnapshotReader
from agent.ports import CRMClient
from agent.run_report import RunReport
from tests.support.stack import Stack


def _touch(stack: Stack, record: Record, **changes: FieldValue) -> Record:
    return stack.crm.update(
        record.object_type,
        record.id,
        changes,
        expected_version=record.version,
        idempotency_key=f"k-{record.id}",
    )


def _planned_ids(report: RunReport) -> set[str]:
    return {rid for outcome in report.outcomes for rid in outcome.action.record_ids}


def _plan_shape(report: RunReport) -> set[tuple[str, str]]:
    """(kind, record id) of everything proposed, bulk bundles opened up: which part of the
    allowed changes went straight through depends on the order the budget met them."""
    return {(o.action.kind, rid) for o in report.outcomes for rid in o.action.record_ids}


def _merge_groups(report: RunReport) -> list[tuple[str, ...]]:
    return sorted(tuple(sorted(o.action.record_ids)) for o in report.outcomes if o.action.kind == "merge")


class FailingPlanner:
    name = "failing"

    def plan(self, snapshot: CRMSnapshot) -> list[ProposedAction]:
        raise RuntimeError("planner broke")


def test_an_incremental_run_plans_only_over_records_changed_since(stack: Stack) -> None:
    stack.owner("O1")
    old = stack.lead(first_name="JANE", email="old@acme.io", owner_id="O1")
    stack.later(days=5)
    since = stack.clock.now()
    fresh = stack.lead(first_name="MARY", email="mary@acme.io", owner_id="O1")

    report = stack.services.runner.run(stack.services.offline_planner(), dry_run=True, since=since)

    assert report.records_read == 1
    assert _planned_ids(report) == {fresh.id}
    full = stack.services.runner.run(stack.services.offline_planner(), dry_run=True)
    assert full.records_read == 2
    assert _planned_ids(full) == {old.id, fresh.id}


def test_the_cursor_advances_only_with_a_completed_real_run(stack: Stack) -> None:
    runner, planner = stack.services.runner, stack.services.offline_planner()
    stack.owner("O1")
    stack.lead(email="a@acme.io", owner_id="O1")
    assert runner.last_cursor() is None

    first = runner.run(planner)
    assert first.cursor == stack.clock.now()
    assert runner.last_cursor() == first.cursor

    stack.later(hours=1)
    changed = stack.lead(email="b@acme.io", owner_id="O1")
    runner.run(planner, dry_run=True, since=runner.last_cursor())
    with pytest.raises(RuntimeError, match="planner broke"):
        runner.run(FailingPlanner(), since=runner.last_cursor())
    assert runner.last_cursor() == first.cursor, "a dry run and a failed run leave the cursor alone"

    second = runner.run(planner, since=runner.last_cursor())
    assert runner.last_cursor() == changed.updated_at == second.cursor
    assert runner.last_cursor(job="enrichment") is None


def test_an_exact_email_duplicate_of_an_unchanged_lead_is_found_when_one_side_changed(stack: Stack) -> None:
    stack.owner("O1")
    unchanged = stack.lead(email="Ann@Example.com", first_name="Ann", owner_id="O1")
    other = stack.lead(email="someone@else.io", first_name="Ann", owner_id="O1")
    stack.later(days=3)
    since = stack.clock.now()
    _touch(stack, other, email=" ann@example.com")

    report = stack.services.runner.run(stack.services.offline_planner(), dry_run=True, since=since)

    merges = [o.action for o in report.outcomes if o.action.kind == "merge"]
    assert [sorted(m.record_ids) for m in merges] == [sorted([unchanged.id, other.id])]
    assert report.records_read == 1
    assert report.context_records == 1


def test_accounts_of_an_inactive_owner_are_planned_even_when_unchanged(stack: Stack) -> None:
    stack.owner("O1")
    stack.owner("O2", active=False)
    orphaned = stack.account(owner_id="O2")
    stack.account(owner_id="O1")
    stack.later(days=1)

    report = stack.services.runner.run(
        stack.services.offline_planner(), dry_run=True, since=stack.clock.now()
    )

    assert report.records_read == 0
    assert [o.action.record_ids for o in report.outcomes if o.action.kind == "change_owner"] == [
        [orphaned.id]
    ]


def test_a_chunked_run_plans_what_one_snapshot_plans_with_one_bundle_per_kind(stack: Stack) -> None:
    seed_crm(stack.crm, records=100, seed=7, now=stack.clock.now())
    runner, planner = stack.services.runner, stack.services.offline_planner()

    whole = runner.run(planner, dry_run=True, chunk_size=None)
    chunked = runner.run(planner, dry_run=True, chunk_size=9)

    assert _plan_shape(chunked) == _plan_shape(whole)
    assert _merge_groups(chunked) == _merge_groups(whole)
    assert chunked.records_read == whole.records_read == 100
    bundles = [(o.action.kind, o.action.object_type) for o in chunked.outcomes if o.action.check == "bulk"]
    assert bundles
    assert len(bundles) == len(set(bundles)), "one bulk approval per kind and type for the whole run"
    merged = [rid for o in chunked.outcomes if o.action.kind == "merge" for rid in o.action.record_ids]
    assert len(merged) == len(set(merged)), "a duplicate group is planned in one chunk only"


class SearchOnlyCRM:
    """The CRM port without the local CRM's extras (no duplicate grouping, no count)."""

    def __init__(self, crm: LocalCRM) -> None:
        self._crm = crm

    def iter_records(
        self, object_type: ObjectType, *, changed_since: datetime | None = None, batch_size: int = 1000
    ) -> Iterator[Record]:
        return self._crm.iter_records(object_type, changed_since=changed_since, batch_size=batch_size)

    def search(self, object_type: ObjectType, field: str, value: FieldValue) -> list[Record]:
        return self._crm.search(object_type, field, value)

    def get_many(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        return self._crm.get_many(object_type, record_ids)

    def owners(self) -> list[Owner]:
        return self._crm.owners()


def test_without_crm_side_grouping_duplicates_are_found_by_exact_email_lookups(stack: Stack) -> None:
    stack.owner("O1")
    unchanged = stack.lead(email="ann@example.com", owner_id="O1")
    other = stack.lead(email="x@else.io", owner_id="O1")
    stack.later(days=1)
    since = stack.clock.now()
    _touch(stack, other, email="ANN@example.com")

    reader = SnapshotReader(cast(CRMClient, SearchOnlyCRM(stack.crm)), since=since)
    snapshots = list(reader.snapshots())

    assert [sorted(r.id for r in s.records()) for s in snapshots] == [sorted([unchanged.id, other.id])]
    assert reader.cursor == stack.clock.now()


def _jon_smiths(stack: Stack) -> tuple[Record, Record]:
    """Two leads the engine takes for one person (a typo in the first name, one phone and company)."""
    person = {"last_name": "Smith", "company": "Globex", "phone": "+14155550100"}
    first = stack.lead(first_name="Jonathan", email="jsmith@globex.com", **person)
    second = stack.lead(first_name="Jonathon", email="jonathan@globex.com", **person)
    return first, second


def _fillers(stack: Stack, count: int) -> None:
    surnames = ("Okafor", "Lindqvist", "Haddad", "Moreau", "Tanaka", "Novak", "Silva", "Kowalski")
    for n in range(count):
        stack.lead(
            first_name=f"Ann{chr(97 + n)}",
            last_name=surnames[n % len(surnames)],
            email=f"ann{n}@firm{n}.io",
            company=f"Firm {n}",
            phone=f"+1650253{n:04d}",
        )


def test_a_chunked_run_merges_duplicates_that_fall_in_different_chunks(stack: Stack) -> None:
    stack.owner("O1")
    first = stack.lead(
        first_name="Jonathan", last_name="Smith", email="jsmith@globex.com", company="Globex",
        phone="+14155550100", owner_id="O1",
    )  # fmt: skip
    _fillers(stack, 6)
    second = stack.lead(
        first_name="JONATHON", last_name="Smith", email="jonathan@globex.com", company="Globex",
        phone="+14155550100", owner_id="O1",
    )  # fmt: skip

    report = stack.services.runner.run(stack.services.offline_planner(), dry_run=True, chunk_size=3)

    merges = [o.action for o in report.outcomes if o.action.check == "fuzzy_duplicate"]
    assert [sorted(m.record_ids) for m in merges] == [sorted([first.id, second.id])]
    others = [o.action for o in report.outcomes if o.action.check != "fuzzy_duplicate"]
    assert not any({first.id, second.id} & set(a.record_ids) for a in others), (
        "the merge's records are left alone"
    )


def test_an_incremental_run_finds_the_unchanged_duplicate_of_a_changed_lead(stack: Stack) -> None:
    stack.owner("O1")
    first, second = _jon_smiths(stack)
    _fillers(stack, 4)
    stack.later(days=2)
    since = stack.clock.now()
    second = _touch(stack, second, title="CTO")

    report = stack.services.runner.run(stack.services.offline_planner(), dry_run=True, since=since)

    assert report.records_read == 1
    merges = [sorted(o.action.record_ids) for o in report.outcomes if o.action.check == "fuzzy_duplicate"]
    assert merges == [sorted([first.id, second.id])]


def test_an_incremental_run_leaves_unchanged_duplicates_to_the_full_run(stack: Stack) -> None:
    _jon_smiths(stack)
    stack.later(days=2)
    since = stack.clock.now()

    report = stack.services.runner.run(stack.services.offline_planner(), dry_run=True, since=since)

    assert [o for o in report.outcomes if o.action.check == "fuzzy_duplicate"] == []


def test_every_chunk_of_leads_is_matched_against_every_account(stack: Stack) -> None:
    stack.account(name="Initech", domain="initech.com", industry="Software")
    _fillers(stack, 5)
    lead = stack.lead(first_name="Li", last_name="Wei", email="li@initech.com", company="Initech Old")

    report = stack.services.runner.run(stack.services.offline_planner(), dry_run=True, chunk_size=2)

    (match,) = [o.action for o in report.outcomes if o.action.check == "lead_account_match"]
    assert match.record_ids == [lead.id]
    assert {name: change.after for name, change in match.targets[0].changes.items()} == {
        "company": "Initech",
        "industry": "Software",
    }


def test_a_chunked_run_asks_for_a_large_bulk_change_in_parts(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_crm(stack.crm, records=300, seed=7, now=stack.clock.now())
    monkeypatch.setattr(run_pass, "BUNDLE_MAX_RECORDS", 20)
    monkeypatch.setattr(run_report, "REPORT_TARGETS", 5)

    report = stack.services.runner.run(stack.services.offline_planner(), chunk_size=40)

    bulk = [o for o in report.outcomes if o.action.check == "bulk"]
    by_key: dict[tuple[str, str], list[int]] = {}
    for outcome in bulk:
        part = outcome.action.evidence.get("part")
        by_key.setdefault((outcome.action.kind, outcome.action.object_type), []).append(
            int(part) if part is not None else 0
        )
    split = {key: parts for key, parts in by_key.items() if len(parts) > 1}
    assert split, "some kind was held back past the limit"
    for parts in split.values():
        assert parts == list(range(1, len(parts) + 1)), "parts are numbered in order"
    assert all(o.records_touched <= 20 + 40 for o in bulk), "a part is cut once it reaches the limit"
    assert all(len(o.action.targets) <= 5 for o in bulk), "the report keeps only the first targets"
    stored = {a.id: len(a.action.targets) for a in stack.services.approvals.recent(["pending"])}
    assert all(stored[o.approval_id] == o.records_touched for o in bulk if o.approval_id), (
        "the approval holds every target"
    )


@pytest.mark.parametrize("chunk_size", [None, 2])
def test_a_run_does_not_propose_a_note_the_record_already_carries(
    stack: Stack, chunk_size: int | None
) -> None:
    runner, planner = stack.services.runner, stack.services.offline_planner()
    lead = stack.lead(email="bad@@acme.io")
    _fillers(stack, 3)

    first = runner.run(planner, dry_run=True, chunk_size=chunk_size)
    (note,) = [
        o.action for o in first.outcomes if o.action.kind == "add_note" and lead.id in o.action.record_ids
    ]
    body = note.targets[0].note
    assert body is not None
    assert "[ref revgate:invalid_email:" in body
    stack.crm.add_note("lead", lead.id, body, idempotency_key="already-noted")
    second = runner.run(planner, dry_run=True, chunk_size=chunk_size)

    assert not [o for o in second.outcomes if o.action.kind == "add_note" and lead.id in o.action.record_ids]
