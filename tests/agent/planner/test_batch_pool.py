"""The pool that matches batches of likely duplicates on worker processes."""

from __future__ import annotations

import os

import pytest

from agent.crm.seed import seed_crm
from agent.planner.base import SnapshotReader
from agent.planner.batch_pool import BatchPool
from agent.planner.offline import OfflinePlanner
from tests.support.stack import Stack


def _square_with_pid(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def _fails_on_three(n: int) -> int:
    if n == 3:
        raise ValueError("three is not allowed")
    return n


def test_results_come_back_in_the_items_order_with_a_worker() -> None:
    pool = BatchPool(_square_with_pid, workers=1)

    results = list(pool.map(range(12)))

    assert [(item, square) for item, (square, _pid) in results] == [(n, n * n) for n in range(12)]
    assert {pid for _item, (_square, pid) in results} - {os.getpid()}, "some item ran on the worker"
    assert pool.stats.remote >= 1
    assert pool.stats.remote + pool.stats.local == 12
    assert pool.stats.worker_peak_kb > 0


def test_without_workers_everything_runs_here() -> None:
    pool = BatchPool(_square_with_pid, workers=0)

    results = list(pool.map(range(5)))

    assert {pid for _item, (_square, pid) in results} == {os.getpid()}
    assert (pool.stats.local, pool.stats.remote) == (5, 0)


def test_a_single_item_starts_no_worker() -> None:
    pool = BatchPool(_square_with_pid, workers=1)

    assert [square for _item, (square, _pid) in pool.map([7])] == [49]
    assert pool.stats.remote == 0


def test_small_items_start_no_worker() -> None:
    pool = BatchPool(_square_with_pid, workers=1, size=lambda n: n, min_size=100)

    assert [square for _item, (square, _pid) in pool.map([1, 2, 3])] == [1, 4, 9]
    assert pool.stats.remote == 0


def test_an_error_in_a_batch_reaches_the_run_with_its_type() -> None:
    pool = BatchPool(_fails_on_three, workers=1)
    seen: list[int] = []

    def consume() -> None:
        for item, _result in pool.map(range(8)):
            seen.append(item)

    with pytest.raises(ValueError, match="three is not allowed"):
        consume()

    assert seen == [0, 1, 2], "the items before the failing one were delivered, in order"


def test_a_run_that_stops_early_shuts_its_worker_down() -> None:
    pool = BatchPool(_square_with_pid, workers=1)
    results = pool.map(range(50))

    first = next(results)
    results.close()

    assert first[0] == 0
    assert pool.stats.remote + pool.stats.local < 50, "the remaining items were dropped"


def test_batches_planned_on_a_worker_give_the_plan_of_one_process(stack: Stack) -> None:
    seed_crm(stack.crm, records=400, seed=7, now=stack.clock.now())

    def plan(workers: int) -> tuple[list[tuple[str, str, list[str]]], int]:
        counter = iter(range(1_000_000))
        planner = OfflinePlanner(
            new_id=lambda: f"a{next(counter)}", now=stack.clock.now, workers=workers, parallel_from=0
        )
        reader = SnapshotReader(stack.crm, chunk_size=40)
        actions = [
            (a.id, a.check, sorted(a.record_ids))
            for _batch, planned in planner.plan_batches(reader.duplicate_batches())
            for a in planned
        ]
        return actions, planner.pool_stats.remote

    alone, none_remote = plan(0)
    shared, some_remote = plan(1)

    assert any(check == "fuzzy_duplicate" for _id, check, _ids in alone), "the seed holds likely duplicates"
    assert shared == alone
    assert (none_remote, some_remote > 0) == (0, True)
