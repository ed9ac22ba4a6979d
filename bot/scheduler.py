"""Scheduled jobs on every replica; the database decides which replica runs each slot.

Every ``revgate serve`` and ``revgate worker`` runs an APScheduler 3
``BackgroundScheduler`` with the default in-memory job store: the schedules are
code and settings, so each process rebuilds them at start-up, and no job store is
shared between processes (APScheduler's FAQ: that cannot work). Coordination is
the ``job_claims`` table instead (:mod:`agent.claims`): when a job fires, every
replica computes the slot's *run key* and claims it; one wins and runs it,
renewing its lease from a heartbeat thread, and records the outcome.

**The run key comes from the scheduled fire time, never from the clock.**
Replicas fire the same slot at slightly different instants (and a busy one
late), so ``now()`` would give each its own key. APScheduler 3 does not pass the
scheduled time to a job (agronholm/apscheduler#297; only 4.x exposes it, through
its job context), and ``Job.next_run_time`` already names the *following* slot
by the time the job runs. What does carry it is the executor interface: the
scheduler calls ``executor.submit_job(job, run_times)`` with the scheduled
times it is due for. :class:`SlotExecutor` is the stock thread pool executor
that hands each of those times to the job as its last argument, and still runs
it through APScheduler's own ``run_job`` (misfire checks, events, logging).

Triggers must put every replica on the same grid: cron triggers do by nature;
interval triggers must be anchored (:func:`every` starts them at a fixed epoch,
not at process start). A missed slot is caught up at start-up when the job asks
for it (``catch_up``): a replica that starts within a job's misfire grace after
a slot that every replica missed runs it then (the claim stops a second run).
A slot claimed by a replica that then died is taken over, after its lease, by
the *rescue pass* any replica runs every ``rescue_every``; so is a failed slot
with attempts left (see ``agent.claims`` for the bounds).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import Any

from apscheduler.executors.base import run_job  # type: ignore[import-untyped]
from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from agent.claims import Claim, JobClaims

log = logging.getLogger(__name__)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Where interval grids start, so every replica's grid has the same slots."""
RESCUE_JOB = "_rescue"
PRUNE_EVERY = 3600.0
"""Seconds between two prunings of settled claims by one replica."""


def every(seconds: float) -> IntervalTrigger:
    """An interval trigger whose slots are the same on every replica (anchored at :data:`EPOCH`)."""
    return IntervalTrigger(seconds=seconds, start_date=EPOCH, timezone=UTC)


def slot_key(scheduled_at: datetime) -> str:
    """The default run key: the scheduled fire time in UTC, to the millisecond when it has one."""
    millis = round(scheduled_at.timestamp() * 1000)
    at = datetime.fromtimestamp(millis // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{at}.{millis % 1000:03d}Z" if millis % 1000 else f"{at}Z"


def default_holder() -> str:
    """``host:pid:random``: names this process in claims (the random part survives pid reuse)."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(3)}"


JobResult = Mapping[str, Any] | None


@dataclass(frozen=True)
class ScheduledJob:
    """One schedule: ``run(run_key)`` at every slot of ``trigger``.

    ``claimed`` jobs run on one replica per slot; the others (``claimed=False``)
    run on every replica and must be safe to run concurrently. ``run`` gets the
    run key only, so the rescue pass can rerun a slot from its claim row alone.
    """

    name: str
    trigger: Any
    """An APScheduler 3 trigger; interval triggers should come from :func:`every`."""
    run: Callable[[str], JobResult]
    lease: timedelta = timedelta(minutes=15)
    run_key: Callable[[datetime], str] = slot_key
    claimed: bool = True
    misfire_grace_time: int | None = 300
    """Seconds a slot may start late (a busy pool, a catch-up); later than that it is skipped."""
    catch_up: bool = False
    """At start-up, run the last slot if it is within ``misfire_grace_time`` (nobody may have run it)."""


class SlotExecutor(ThreadPoolExecutor):  # type: ignore[misc]  # APScheduler 3 is untyped
    """APScheduler's thread pool executor, handing each job its scheduled time as the last argument.

    It overrides ``_do_submit_job``, the method ``BaseExecutor`` leaves abstract
    for executors to implement, and reuses the pool's own bookkeeping; the
    ``apscheduler<4`` pin in pyproject keeps these 3.x internals stable.
    """

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        alias = job._jobstore_alias

        def run_each_slot() -> list[Any]:
            events: list[Any] = []
            for run_time in run_times:  # one with coalesce=True
                events += run_job(_AtSlot(job, run_time), alias, [run_time], self._logger.name)
            return events

        future = self._pool.submit(run_each_slot)
        future.add_done_callback(partial(self._settle, job.id))

    def _settle(self, job_id: str, future: Future[list[Any]]) -> None:
        error = future.exception()
        if error is not None:
            self._run_job_error(job_id, error, error.__traceback__)
        else:
            self._run_job_success(job_id, future.result())


class _AtSlot:
    """A job as ``run_job`` reads it (id, func, args, kwargs, grace), with the slot's time appended."""

    def __init__(self, job: Any, run_time: datetime) -> None:
        self._job = job
        self.id = job.id
        self.func = job.func
        self.args = (*job.args, run_time)
        self.kwargs = job.kwargs
        self.misfire_grace_time = job.misfire_grace_time

    def __str__(self) -> str:
        return str(self._job)


class Scheduler:
    """The jobs of one process, claimed slot by slot in the database."""

    def __init__(
        self,
        jobs: Sequence[ScheduledJob],
        *,
        claims: JobClaims,
        holder: str | None = None,
        timezone: tzinfo = UTC,
        rescue_every: timedelta | None = timedelta(minutes=1),
        rescue_within: timedelta = timedelta(days=1),
    ) -> None:
        """``rescue_every=None``: no rescue pass; it looks at slots claimed within ``rescue_within``."""
        names = [job.name for job in jobs]
        if len(set(names)) != len(names) or RESCUE_JOB in names:
            raise ValueError(f"job names must be unique and not {RESCUE_JOB!r}: {names}")
        self.jobs = {job.name: job for job in jobs}
        self.holder = holder or default_holder()
        self._claims = claims
        self._timezone = timezone
        self._rescue_every = rescue_every
        self._rescue_within = rescue_within
        # A replica runs one slot of a job at a time, whether it fired or was rescued.
        self._running = {job.name: threading.Lock() for job in jobs}
        self._pruned_at: float | None = None
        self._aps: Any = None

    @property
    def running(self) -> bool:
        return self._aps is not None

    def start(self) -> None:
        """Add every job (catching up a missed slot where asked) and start the scheduler thread."""
        if self._aps is not None:
            return
        aps = BackgroundScheduler(
            executors={"default": SlotExecutor(max_workers=len(self.jobs) + 1)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=self._timezone,
        )
        now = datetime.now(UTC)
        for job in self.jobs.values():
            options: dict[str, Any] = {}
            missed = self._missed_slot(job, now)
            if missed is not None:
                options["next_run_time"] = missed
            aps.add_job(
                self._fire,
                trigger=job.trigger,
                args=(job,),
                id=job.name,
                name=job.name,
                misfire_grace_time=job.misfire_grace_time,
                **options,
            )
        if self._rescue_every is not None:
            aps.add_job(
                self._rescue,
                trigger=every(self._rescue_every.total_seconds()),
                id=RESCUE_JOB,
                name=RESCUE_JOB,
                misfire_grace_time=None,
            )
        aps.start()
        self._aps = aps
        for job in aps.get_jobs():
            log.info("scheduled %s, next at %s", job.id, job.next_run_time)

    def stop(self, wait: bool = True) -> None:
        """Stop firing; with ``wait``, let the slots in flight finish (and record their outcome)."""
        if self._aps is None:
            return
        aps, self._aps = self._aps, None
        aps.shutdown(wait=wait)

    def next_fire_times(self) -> dict[str, datetime | None]:
        """Each job's next scheduled time (the scheduler must be running)."""
        if self._aps is None:
            return {}
        return {job.id: job.next_run_time for job in self._aps.get_jobs() if job.id != RESCUE_JOB}

    @staticmethod
    def _missed_slot(job: ScheduledJob, now: datetime) -> datetime | None:
        if not job.catch_up or job.misfire_grace_time is None:
            return None
        window_start = now - timedelta(seconds=job.misfire_grace_time)
        first: datetime | None = job.trigger.get_next_fire_time(None, window_start)
        return first if first is not None and first <= now else None

    # -- running slots ----------------------------------------------------------

    def _fire(self, job: ScheduledJob, scheduled_at: datetime | None = None) -> None:
        """Called by :class:`SlotExecutor` with the slot's scheduled time.

        (The default only satisfies APScheduler's check of the arguments at
        ``add_job``; the executor always passes the time.)
        """
        if scheduled_at is None:
            raise RuntimeError("scheduled jobs run through SlotExecutor, which passes the scheduled time")
        run_key = job.run_key(scheduled_at)
        with self._running[job.name]:
            self.run_slot(job, run_key)

    def run_slot(self, job: ScheduledJob, run_key: str) -> bool:
        """Run one slot if this replica wins it (always, for unclaimed jobs); ``True`` if it ran."""
        if not job.claimed:
            try:
                job.run(run_key)
            except Exception:
                log.exception("%s %s failed", job.name, run_key)
            return True
        claim = self._claims.claim(job.name, run_key, holder=self.holder, lease=job.lease)
        if claim is None:
            log.debug("%s %s: claimed elsewhere or settled", job.name, run_key)
            return False
        self._run_claimed(job, claim)
        return True

    def _run_claimed(self, job: ScheduledJob, claim: Claim) -> None:
        log.info("%s %s: running (attempt %d)", job.name, claim.run_key, claim.attempt)
        heartbeat = Heartbeat(self._claims, claim)
        heartbeat.start()
        try:
            result = job.run(claim.run_key)
        except Exception as error:
            heartbeat.stop()
            log.exception("%s %s failed", job.name, claim.run_key)
            self._claims.fail(claim, f"{type(error).__name__}: {error}")
            return
        heartbeat.stop()
        self._claims.finish(claim, _jsonable(result))
        log.info("%s %s: done", job.name, claim.run_key)

    def _rescue(self, _scheduled_at: datetime | None = None) -> None:
        """Take over slots whose holder died, and failed slots whose retry is due."""
        claimed = [name for name, job in self.jobs.items() if job.claimed]
        if self._prune_due():
            self._claims.prune()
        for name, run_key in self._claims.takeable(claimed, within=self._rescue_within):
            lock = self._running[name]
            if not lock.acquire(blocking=False):
                continue  # this replica is running the job now; a later pass will look again
            try:
                self.run_slot(self.jobs[name], run_key)
            finally:
                lock.release()

    def _prune_due(self) -> bool:
        """Settled claims are pruned by the rescue pass, about once an hour per replica."""
        now = time.monotonic()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return False
        self._pruned_at = now
        return True


class Heartbeat:
    """Renews a claim every third of its lease until stopped; notes when the claim was lost."""

    def __init__(self, claims: JobClaims, claim: Claim, *, every: timedelta | None = None) -> None:
        self._claims = claims
        self._claim = claim
        self._every = (every or claim.lease / 3).total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"revgate-heartbeat-{claim.job}", daemon=True)
        self.lost = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            try:
                renewed = self._claims.renew(self._claim)
            except Exception:  # a database blip: the lease still has two thirds left
                log.exception("%s %s: heartbeat failed", self._claim.job, self._claim.run_key)
                continue
            if renewed is None:
                self.lost = True
                return


def _jsonable(result: JobResult) -> dict[str, Any]:
    """The job's result as stored in the claim row (anything not JSON becomes its string)."""
    return dict(json.loads(json.dumps(dict(result or {}), default=str)))


__all__ = [
    "EPOCH",
    "Heartbeat",
    "JobResult",
    "ScheduledJob",
    "Scheduler",
    "SlotExecutor",
    "default_holder",
    "every",
    "slot_key",
]
