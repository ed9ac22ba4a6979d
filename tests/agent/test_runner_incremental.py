"""Incremental and chunked runs: what a run reads, what it plans over, and where its cursor goes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import cast

import pytest

from agent.crm.local import LocalCRM
from agent.crm.seed import seed_crm
from agent.models import FieldValue, ObjectType, Owner, ProposedAction, Record
from agent.planner.base import CRMSnapshot, SnapshotReader
from agent.ports import CRMClient
from agent.runner import RunReport
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
