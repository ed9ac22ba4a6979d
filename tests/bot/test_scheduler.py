"""The scheduler: real APScheduler triggers firing in real time, claimed slot by slot in the database.

The replica tests start real processes (``python -m tests.bot.test_scheduler``,
see :func:`_replica` at the bottom) on one PostgreSQL database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from agent.claims import JobClaims
from agent.ports import SystemClock
from agent.store.database import Database
from bot.scheduler import EPOCH, JobResult, ScheduledJob, Scheduler, every, slot_key
from bot.settings import crontab
from tests.support import waiting
from tests.support.fakes import FixedClock

ROOT = Path(__file__).resolve().parents[2]
FAR_FUTURE = DateTrigger(run_date=datetime(2099, 1, 1, tzinfo=UTC))


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    yield database
    database.dispose()


def _claims(database: Database, **options: object) -> JobClaims:
    return JobClaims(database, clock=SystemClock(), **options)  # type: ignore[arg-type]


eventually = partial(waiting.eventually, timeout=5.0)
"""The shared wait with a shorter default: the scheduler slots here are sub-second."""


class Recorder:
    """A job's ``run``: records each run key (and can fail, or take its time)."""

    def __init__(self, *, fail_first: int = 0, seconds: float = 0.0) -> None:
        self.keys: list[str] = []
        self._fail_first = fail_first
        self._seconds = seconds
        self._lock = threading.Lock()

    def __call__(self, run_key: str) -> JobResult:
        time.sleep(self._seconds)
        with self._lock:
            self.keys.append(run_key)
            if len(self.keys) <= self._fail_first:
                raise RuntimeError(f"run {len(self.keys)} fails")
        return {"key": run_key}


# -- run keys and grids --------------------------------------------------------------


def test_the_run_key_is_the_scheduled_time_in_utc_whatever_the_zone() -> None:
    paris = timezone(timedelta(hours=1))

    assert slot_key(datetime(2026, 11, 24, 8, 0, tzinfo=paris)) == "2026-11-24T07:00:00Z"
    assert slot_key(datetime(2026, 11, 24, 7, 0, tzinfo=UTC)) == "2026-11-24T07:00:00Z"
    assert slot_key(datetime(2026, 11, 24, 7, 0, 0, 500_000, tzinfo=UTC)) == "2026-11-24T07:00:00.500Z"


def test_interval_grids_are_the_same_for_replicas_started_at_different_times() -> None:
    # Fixed times: two starts within one minute (the real clock made this fail whenever the
    # test ran in the last seconds of a minute).
    started = datetime(2026, 11, 24, 11, 3, 5, 250_000, tzinfo=UTC)
    first, second = every(60), every(60)

    assert first.start_date == second.start_date == EPOCH
    next_fire = first.get_next_fire_time(None, started)
    assert next_fire == second.get_next_fire_time(None, started + timedelta(seconds=52))
    assert next_fire == datetime(2026, 11, 24, 11, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "fires_on"),
    [
        ("0 7 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]),
        ("0 7 * * 0", ["Sun", "Sun"]),
        ("0 7 * * 7", ["Sun", "Sun"]),
        ("0 7 * * 6,0", ["Sat", "Sun", "Sat"]),
        ("0 7 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]),
        ("0 7 * * */3", ["Wed", "Sat", "Sun", "Wed"]),  # 0, 3, 6: Sun, Wed, Sat
    ],
)
def test_crontab_weekdays_count_from_sunday_as_cron_does(line: str, fires_on: list[str]) -> None:
    """APScheduler 3's own ``from_crontab`` would read ``1-5`` as Tuesday to Saturday."""
    trigger = crontab(line, UTC)
    at = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # a Sunday, after 07:00
    days = []
    for _ in fires_on:
        at = trigger.get_next_fire_time(None, at + timedelta(seconds=1))
        days.append(at.strftime("%a"))

    assert at.hour == 7
    assert days == fires_on


def test_a_bad_crontab_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 5"):
        crontab("0 7 * *", UTC)
    with pytest.raises(ValueError, match="out of range"):
        crontab("0 7 * * 1-8", UTC)


def test_job_names_must_be_unique(database: Database) -> None:
    jobs = [ScheduledJob("hygiene", FAR_FUTURE, Recorder()), ScheduledJob("hygiene", FAR_FUTURE, Recorder())]

    with pytest.raises(ValueError, match="unique"):
        Scheduler(jobs, claims=_claims(database))


# -- firing in real time ---------------------------------------------------------------


def test_a_late_start_still_runs_under_the_scheduled_slots_key(database: Database) -> None:
    """Replicas fire seconds apart; the key must not move with them."""
    slot = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=3)
    run = Recorder()
    scheduler = Scheduler(
        [ScheduledJob("hygiene", DateTrigger(run_date=slot), run, misfire_grace_time=30)],
        claims=_claims(database),
        rescue_every=None,
    )
    scheduler.start()
    try:
        eventually(lambda: bool(run.keys), what="the slot to run")
    finally:
        scheduler.stop()

    assert run.keys == [slot_key(slot)]
    record = _claims(database).get("hygiene", slot_key(slot))
    assert record is not None
    assert (record.status, record.holder, record.result) == (
        "done",
        scheduler.holder,
        {"key": slot_key(slot)},
    )


def test_a_slot_missed_while_down_is_caught_up_at_start(database: Database) -> None:
    now = datetime.now(UTC)
    missed = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    daily = CronTrigger(hour=missed.hour, minute=missed.minute, timezone=UTC)
    caught_up, not_caught_up = Recorder(), Recorder()
    scheduler = Scheduler(
        [
            ScheduledJob("hygiene", daily, caught_up, misfire_grace_time=3600, catch_up=True),
            ScheduledJob("enrichment", daily, not_caught_up, misfire_grace_time=3600),
        ],
        claims=_claims(database),
        rescue_every=None,
    )
    scheduler.start()
    try:
        eventually(lambda: bool(caught_up.keys), what="the catch-up")
        next_times = scheduler.next_fire_times()
    finally:
        scheduler.stop()

    assert caught_up.keys == [slot_key(missed)]
    assert not_caught_up.keys == []
    assert next_times == {"hygiene": missed + timedelta(days=1), "enrichment": missed + timedelta(days=1)}


def test_unclaimed_jobs_run_on_every_replica(database: Database) -> None:
    runs = [Recorder(), Recorder()]
    schedulers = [
        Scheduler(
            [ScheduledJob("tick", every(0.5), run, claimed=False)],
            claims=_claims(database),
            rescue_every=None,
        )
        for run in runs
    ]
    for scheduler in schedulers:
        scheduler.start()
    try:
        eventually(lambda: all(len(run.keys) >= 2 for run in runs), what="two ticks on each replica")
    finally:
        for scheduler in schedulers:
            scheduler.stop()

    assert set(runs[0].keys[:2]) & set(runs[1].keys)
    assert _claims(database).history("tick") == []


def test_stop_waits_for_the_run_in_flight_and_records_its_outcome(database: Database) -> None:
    slot = datetime.now(UTC)
    run = Recorder(seconds=0.6)
    scheduler = Scheduler(
        [ScheduledJob("hygiene", DateTrigger(run_date=slot), run)],
        claims=_claims(database),
        rescue_every=None,
    )
    scheduler.start()
    eventually(lambda: _claims(database).get("hygiene", slot_key(slot)) is not None, what="the claim")

    scheduler.stop(wait=True)

    assert run.keys == [slot_key(slot)]
    record = _claims(database).get("hygiene", slot_key(slot))
    assert record is not None
    assert record.status == "done"
    assert not scheduler.running


def test_the_heartbeat_keeps_a_long_run_from_being_taken_over(database: Database) -> None:
    slot = datetime.now(UTC)
    lease = timedelta(seconds=0.6)
    run = Recorder(seconds=1.5)
    scheduler = Scheduler(
        [ScheduledJob("hygiene", DateTrigger(run_date=slot), run, lease=lease)],
        claims=_claims(database),
        rescue_every=None,
    )
    scheduler.start()
    try:
        eventually(lambda: _claims(database).get("hygiene", slot_key(slot)) is not None, what="the claim")
        time.sleep(1.0)  # past the first lease: only the heartbeat keeps the claim alive now
        intruder = _claims(database).claim("hygiene", slot_key(slot), holder="intruder", lease=lease)
    finally:
        scheduler.stop()

    assert intruder is None
    record = _claims(database).get("hygiene", slot_key(slot))
    assert record is not None
    assert (record.status, record.holder, record.attempts) == ("done", scheduler.holder, 1)


def test_a_failed_run_is_recorded_then_retried_by_the_rescue_pass(database: Database) -> None:
    slot = datetime.now(UTC)
    run = Recorder(fail_first=1)
    claims = _claims(database, retry_after=timedelta(milliseconds=200))
    scheduler = Scheduler(
        [ScheduledJob("hygiene", DateTrigger(run_date=slot), run)],
        claims=claims,
        rescue_every=timedelta(seconds=0.25),
    )
    scheduler.start()
    try:
        eventually(lambda: len(run.keys) == 2, what="the retry")
        eventually(lambda: getattr(claims.get("hygiene", slot_key(slot)), "status", None) == "done")
    finally:
        scheduler.stop()

    assert run.keys == [slot_key(slot), slot_key(slot)]
    record = claims.get("hygiene", slot_key(slot))
    assert record is not None
    assert (record.status, record.attempts, record.result) == ("done", 2, {"key": slot_key(slot)})


# -- several replicas on one PostgreSQL database ----------------------------------------


def _spawn(mode: str, url: str, holder: str, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.bot.test_scheduler", mode, url, holder, str(log), *extra],
        cwd=ROOT,
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _lines(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        _, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return process.returncode, stderr.decode()


@pytest.mark.postgres
def test_three_replica_processes_run_each_slot_exactly_once(postgres_url: str, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    holders = ["r1", "r2", "r3"]
    replicas = [_spawn("every", postgres_url, holder, log) for holder in holders]
    try:
        eventually(
            lambda: sum(words[0] == "ready" for words in _lines(log)) == 3, timeout=30, what="three replicas"
        )

        def fired_by_all() -> list[str]:
            fired: dict[str, set[str]] = defaultdict(set)
            for words in _lines(log):
                if words[0] == "fired":
                    fired[words[1]].add(words[2])
            return [key for key, who in fired.items() if who == set(holders)]

        eventually(lambda: len(fired_by_all()) >= 2, timeout=10, what="two slots fired by every replica")
    finally:
        outcomes = [_stop(replica) for replica in replicas]

    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    fired: dict[str, set[str]] = defaultdict(set)
    ran: dict[str, list[str]] = defaultdict(list)
    for words in _lines(log):
        if words[0] == "fired":
            fired[words[1]].add(words[2])
        elif words[0] == "ran":
            ran[words[1]].append(words[2])
    assert len([key for key, who in fired.items() if who == set(holders)]) >= 2
    # Every slot that any replica fired ran exactly once, on one replica.
    assert {key: len(who) for key, who in ran.items()} == dict.fromkeys(fired, 1)
    database = Database(postgres_url, auto_upgrade=False)
    try:
        claims = JobClaims(database, clock=SystemClock())
        for key, (holder,) in ran.items():
            record = claims.get("hygiene", key)
            assert record is not None
            assert (record.status, record.holder, record.attempts) == ("done", holder, 1)
    finally:
        database.dispose()


@pytest.mark.postgres
def test_a_claim_held_by_a_killed_process_is_taken_over_after_its_lease(
    postgres_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    slot = datetime.now(UTC).replace(microsecond=0)
    key = slot_key(slot)
    database = Database(postgres_url, auto_upgrade=False)
    claims = JobClaims(database, clock=SystemClock())
    dead = _spawn("hang", postgres_url, "dead", log, slot.isoformat())
    try:
        eventually(lambda: ["started", key, "dead"] in _lines(log), timeout=30, what="the run to start")
        first = claims.get("hygiene", key)
        time.sleep(0.6)
        renewed = claims.get("hygiene", key)
    finally:
        _stop(dead, signal.SIGKILL)
    assert first is not None
    assert renewed is not None
    assert renewed.lease_until > first.lease_until  # the heartbeat was renewing it
    held = claims.get("hygiene", key)
    assert held is not None
    assert (held.status, held.holder) == ("running", "dead")

    run = Recorder()
    rescuer = Scheduler(
        [ScheduledJob("hygiene", FAR_FUTURE, run, lease=timedelta(seconds=5))],
        claims=claims,
        holder="rescuer",
        rescue_every=timedelta(seconds=0.2),
    )
    rescuer.start()
    try:
        eventually(lambda: bool(run.keys), timeout=5, what="the takeover")
        eventually(lambda: getattr(claims.get("hygiene", key), "status", None) == "done")
    finally:
        rescuer.stop()
    record = claims.get("hygiene", key)
    database.dispose()

    assert run.keys == [key]
    assert record is not None
    assert (record.status, record.holder, record.attempts) == ("done", "rescuer", 2)
    assert record.claimed_at >= held.lease_until  # not before the dead holder's lease ran out
    assert ["started", key, "dead"] in _lines(log)


@pytest.mark.postgres
def test_a_replica_firing_a_slot_whose_claim_expired_takes_it_over(postgres_url: str) -> None:
    slot = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    database = Database(postgres_url, auto_upgrade=False)
    past = FixedClock(datetime.now(UTC) - timedelta(minutes=20))
    abandoned = JobClaims(database, clock=past).claim(
        "hygiene", slot_key(slot), holder="gone", lease=timedelta(minutes=15)
    )
    assert abandoned is not None
    claims = JobClaims(database, clock=SystemClock())
    run = Recorder()
    scheduler = Scheduler(
        [ScheduledJob("hygiene", DateTrigger(run_date=slot), run, misfire_grace_time=60)],
        claims=claims,
        rescue_every=None,
    )
    scheduler.start()
    try:
        eventually(lambda: getattr(claims.get("hygiene", slot_key(slot)), "status", None) == "done")
    finally:
        scheduler.stop()
    record = claims.get("hygiene", slot_key(slot))
    database.dispose()

    assert run.keys == [slot_key(slot)]
    assert record is not None
    assert (record.holder, record.attempts) == (scheduler.holder, 2)


# -- the replica process ---------------------------------------------------------------


def _replica(mode: str, url: str, holder: str, log_path: str, *extra: str) -> None:
    """One replica: schedules ``hygiene``, logs what it fires and runs, stops on SIGTERM."""

    def log(*words: str) -> None:
        with open(log_path, "a") as out:
            out.write(" ".join(words) + "\n")

    def fired(at: datetime) -> str:
        key = slot_key(at)
        log("fired", key, holder)
        return key

    def ran(key: str) -> JobResult:
        log("ran", key, holder)
        return {"holder": holder}

    def hang(key: str) -> JobResult:
        log("started", key, holder)
        time.sleep(60)
        return None

    if mode == "every":
        job = ScheduledJob("hygiene", every(1), ran, run_key=fired, lease=timedelta(seconds=5))
    else:
        slot = datetime.fromisoformat(extra[0])
        job = ScheduledJob(
            "hygiene", DateTrigger(run_date=slot), hang, lease=timedelta(seconds=1), misfire_grace_time=None
        )
    database = Database(url, auto_upgrade=False)
    scheduler = Scheduler(
        [job], claims=JobClaims(database, clock=SystemClock()), holder=holder, rescue_every=None
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    log("ready", holder)
    stop.wait()
    scheduler.stop(wait=True)
    database.dispose()


if __name__ == "__main__":
    _replica(*sys.argv[1:])
