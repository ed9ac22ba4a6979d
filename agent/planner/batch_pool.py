"""Match batches of likely duplicates on a worker process while the run goes on.

The fuzzy duplicate check on a batch is pure (people in, drafts out) and the batches
are independent, and it is the costliest part of a run's first phase. So a run hands
batches to worker processes and meanwhile reads the next batch, submits the
proposals of the previous one and, when its workers are busy, matches a batch
itself. Results come back in the batches' order: the planner draws ids in that
order, so the plan is exactly the one a single process makes.

Workers are started with ``spawn``: the bot runs threads (the scheduler, Socket Mode),
and forking a threaded process can copy a lock in the held state.
"""

from __future__ import annotations

import multiprocessing
import resource
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

QUEUED_PER_WORKER = 2
"""Batches handed to each worker ahead of time, so it never waits for the run to send one."""


@dataclass
class PoolStats:
    """What a pool did: for the run report and the benchmark's memory figure."""

    remote: int = 0
    """Batches matched on a worker."""
    local: int = 0
    """Batches matched in the run's own process."""
    worker_peak_kb: int = 0
    """The largest peak resident set of a worker (``ru_maxrss``, kilobytes)."""


@dataclass
class _Slot(Generic[Item, Result]):
    item: Item
    future: Future[tuple[Result, int]] | None = None
    result: Result | None = None
    done: bool = False


@dataclass
class BatchPool(Generic[Item, Result]):
    """Maps ``work`` over items in order, on ``workers`` processes plus this one.

    ``work`` must be a module-level function (it is pickled by name), and items and
    results must pickle. With ``workers=0`` everything runs here, one item at a time.
    """

    work: Callable[[Item], Result]
    workers: int = 1
    stats: PoolStats = field(default_factory=PoolStats)
    size: Callable[[Item], int] = field(default=lambda _item: 1)
    """An item's size (records in a batch), for ``min_size``."""
    min_size: int = 0
    """Workers start only when the first two items hold at least this much together (a worker
    takes a second or two to start: small runs are faster without one)."""

    def map(self, items: Iterable[Item]) -> Iterator[tuple[Item, Result]]:
        """``(item, work(item))`` for each item, in the items' order (one item: no workers)."""
        iterator = iter(items)
        ahead = list(islice(iterator, 2))
        if self.workers <= 0 or len(ahead) < 2 or sum(map(self.size, ahead)) < self.min_size:
            for item in chain(ahead, iterator):
                self.stats.local += 1
                yield item, self.work(item)
            return
        items = chain(ahead, iterator)
        context = multiprocessing.get_context("spawn")
        executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        try:
            # Start the workers now: they import while this process reads the first batch.
            for _ in range(self.workers):
                executor.submit(_warm_up)
            yield from self._ordered(executor, items)
        finally:
            # On an error or an abandoned run, batches not started yet are dropped.
            executor.shutdown(wait=True, cancel_futures=True)

    def _ordered(self, executor: ProcessPoolExecutor, items: Iterable[Item]) -> Iterator[tuple[Item, Result]]:
        window: deque[_Slot[Item, Result]] = deque()
        capacity = self.workers * QUEUED_PER_WORKER
        for item in items:
            slot: _Slot[Item, Result] = _Slot(item)
            if sum(1 for s in window if s.future is not None and not s.future.done()) < capacity:
                slot.future = executor.submit(_measured, self.work, item)
            window.append(slot)
            yield from self._ready(window)
            if len(window) > capacity:
                # The workers are busy: match a batch here rather than wait for them.
                self._run_one_here(window)
                yield from self._ready(window, wait=len(window) > capacity)
        while window:
            self._run_one_here(window)
            yield from self._ready(window, wait=True)

    def _run_one_here(self, window: deque[_Slot[Item, Result]]) -> None:
        for slot in window:
            if slot.future is None and not slot.done:
                slot.result, slot.done = self.work(slot.item), True
                self.stats.local += 1
                return

    def _ready(
        self, window: deque[_Slot[Item, Result]], *, wait: bool = False
    ) -> Iterator[tuple[Item, Result]]:
        """Pop the slots at the head that are finished (waiting for the first one if ``wait``)."""
        while window:
            head = window[0]
            if head.future is not None and not head.done:
                if not (wait or head.future.done()):
                    return
                head.result, peak = head.future.result()
                head.done = True
                self.stats.remote += 1
                self.stats.worker_peak_kb = max(self.stats.worker_peak_kb, peak)
            if not head.done:
                return
            window.popleft()
            wait = False
            yield head.item, head.result  # type: ignore[misc]  # set with done


def _measured(work: Callable[[Item], Result], item: Item) -> tuple[Result, int]:
    """Runs in the worker: the result and the worker's peak resident set so far (kilobytes)."""
    result = work(item)
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _warm_up() -> None:
    """Nothing: submitted once per worker so that the workers start before the first batch."""
