"""The inbox: work a Slack listener hands on after its ack, stored, then run by a consumer.

Why: a decision (approve, reject, undo) or a command's reply costs tens of
milliseconds of Python and database work. Run in the web process, that work
takes the GIL from the request threads and Slack waits longer for its acks
(see ``bench/ack_latency.py``). So the web process only *appends* the work:
:class:`InboxWriter` batches appends into one INSERT on a thread of its own,
after the ack has left. :class:`InboxConsumer` runs the stored tasks, in the
same process (``revgate serve``) or in ``revgate worker`` beside
``revgate serve --no-worker``.

Delivery: a task is stored within milliseconds of its ack; only a crash in that
window loses it (the card still shows its buttons, so the click can be
repeated). Once stored, a task runs at least once: a row claimed by a consumer
that died is taken over after ``lease``. Every task is safe to repeat: decisions
are guarded state transitions keyed by the approval id, and a repeated one only
answers "already approved".
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update

from agent.ports import Clock
from agent.store.database import Database
from agent.store.rows import Base, InboxRow
from bot.background import BackgroundLoop

log = logging.getLogger(__name__)

INBOX = Base.metadata.tables[InboxRow.__tablename__]

Task = Callable[[dict[str, Any]], None]
"""Runs one stored task from its JSON payload."""


@dataclass(frozen=True)
class _Claimed:
    seq: int
    task: str
    payload: dict[str, Any]
    attempts: int


class InboxWriter:
    """Appends tasks from request threads; a single thread stores them in batches."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        on_stored: Callable[[], None] = lambda: None,
        max_batch: int = 200,
        linger: float = 0.05,
        retry_after: float = 0.5,
    ) -> None:
        self._db = database
        self._clock = clock
        self._on_stored = on_stored
        self._max_batch = max_batch
        self._linger = linger
        self._retry_after = retry_after
        self._queue: queue.SimpleQueue[tuple[str, dict[str, Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def put(self, task: str, payload: dict[str, Any]) -> None:
        """Queue ``task`` for storing; never blocks the request thread."""
        self._queue.put((task, payload))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="revgate-inbox-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Store everything queued so far, then stop."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            stopping = first is None
            batch = [] if first is None else [first]
            # Under a burst, waiting a few milliseconds turns many small
            # transactions into one: less GIL time taken from the request threads.
            deadline = time.monotonic() + self._linger
            while not stopping and len(batch) < self._max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                else:
                    batch.append(item)
            if batch:
                self._store(batch, give_up=stopping)
            if stopping:
                return

    def _store(self, batch: list[tuple[str, dict[str, Any]]], *, give_up: bool) -> None:
        while True:
            try:
                now = self._clock.now()
                rows = [
                    {
                        "task": task,
                        "payload": payload,
                        "status": "pending",
                        "attempts": 0,
                        "available_at": now,
                        "created_at": now,
                    }
                    for task, payload in batch
                ]
                with self._db.transaction() as session:
                    # A Core insert: the ORM's bulk machinery costs more CPU than the write.
                    session.execute(insert(INBOX), rows)
                break
            except Exception:
                # The database is down or busy: keep the batch and try again,
                # unless the process is stopping (then say what is lost).
                if give_up:
                    log.exception("inbox: could not store %d task(s) at shutdown", len(batch))
                    return
                log.exception("inbox: storing %d task(s) failed; retrying", len(batch))
                threading.Event().wait(self._retry_after)
        self._on_stored()


class InboxConsumer(BackgroundLoop):
    """Claims stored tasks and runs them on a small pool; any number of consumers may share a database.

    One thread by default: on the 2-core machine of ``bench/ack_latency.py``, two
    or four threads made acks slower (the decisions compete with the requests for
    CPU and the database) without draining a burst any sooner.
    """

    def __init__(
        self,
        database: Database,
        clock: Clock,
        tasks: Mapping[str, Task],
        *,
        holder: str,
        threads: int = 1,
        poll_interval: float = 0.25,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 3,
    ) -> None:
        super().__init__("revgate-inbox", self._run_pass, wake=threading.Event(), poll_interval=poll_interval)
        self._db = database
        self._clock = clock
        self._tasks = dict(tasks)
        self._holder = holder
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="revgate-task")
        self._lease = lease
        self._max_attempts = max_attempts

    def stop(self, timeout: float = 30.0) -> bool:
        stopped = super().stop(timeout)
        self._pool.shutdown(wait=stopped)
        return stopped

    def run_until_empty(self) -> int:
        """Run every task that is due now; returns how many ran (tests and ``drain``)."""
        total = 0
        while ran := self._run_batch():
            total += ran
        return total

    def _run_pass(self) -> None:
        while not self.stopping and self._run_batch():
            pass

    def _run_batch(self) -> int:
        claimed = self._claim(limit=self._threads * 2)
        list(self._pool.map(self._run, claimed))
        return len(claimed)

    def _claim(self, *, limit: int) -> list[_Claimed]:
        now = self._clock.now()
        stale_before = now - self._lease
        due = (InboxRow.status == "pending") & (InboxRow.available_at <= now)
        abandoned = (InboxRow.status == "claimed") & (InboxRow.claimed_at <= stale_before)
        with self._db.reading() as session:
            candidates = (
                session.execute(
                    select(InboxRow.seq).where(or_(due, abandoned)).order_by(InboxRow.seq).limit(limit)
                )
                .scalars()
                .all()
            )
        if not candidates:
            return []
        with self._db.transaction() as session:
            won = session.execute(
                update(InboxRow)
                .where(InboxRow.seq.in_(candidates), or_(due, abandoned))
                .values(
                    status="claimed",
                    claimed_by=self._holder,
                    claimed_at=now,
                    attempts=InboxRow.attempts + 1,
                )
                .returning(InboxRow.seq, InboxRow.task, InboxRow.payload, InboxRow.attempts)
                .execution_options(synchronize_session=False)
            ).all()
        return sorted((_Claimed(*row) for row in won), key=lambda claimed: claimed.seq)

    def _run(self, row: _Claimed) -> None:
        task = self._tasks.get(row.task)
        try:
            if task is None:
                raise LookupError(f"no task named {row.task!r}")
            task(row.payload)
        except Exception as error:
            log.exception("inbox: task %s #%d failed (attempt %d)", row.task, row.seq, row.attempts)
            self._failed(row, f"{type(error).__name__}: {error}")
            return
        with self._db.transaction() as session:
            # Done work is deleted: decisions are in the audit log, replies are in Slack.
            session.execute(
                delete(InboxRow).where(InboxRow.seq == row.seq, InboxRow.claimed_by == self._holder)
            )

    def _failed(self, row: _Claimed, error: str) -> None:
        dead = row.attempts >= self._max_attempts or row.task not in self._tasks
        backoff = timedelta(seconds=2**row.attempts)
        with self._db.transaction() as session:
            session.execute(
                update(InboxRow)
                .where(InboxRow.seq == row.seq, InboxRow.claimed_by == self._holder)
                .values(
                    status="dead" if dead else "pending",
                    available_at=self._clock.now() + backoff,
                    last_error=error[:2000],
                )
            )


def pending_count(database: Database) -> int:
    """Tasks stored and not yet run (``revgate worker`` health, tests)."""
    with database.reading() as session:
        return int(
            session.execute(
                select(func.count()).select_from(InboxRow).where(InboxRow.status.in_(("pending", "claimed")))
            ).scalar_one()
        )
