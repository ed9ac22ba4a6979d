"""The scheduled jobs: what runs when, what each job does, and the summary's once-a-day rule."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.date import DateTrigger
from slack_sdk import WebClient
from sqlalchemy import select

from agent.claims import JobClaims
from agent.facts import gather_facts
from agent.models import Owner, ProposedAction
from agent.planner.base import snapshot_from
from agent.planner.offline import ENRICHMENT_CHECKS
from agent.policy import evaluate
from agent.ports import SystemClock
from agent.store.database import Database
from agent.store.rows import ProposalRow, RoutingAssignmentRow, RunRow
from bot.jobs import build_jobs, local_day_key, summary_jobs
from bot.runtime import SlackRuntime, build_runtime
from bot.scheduler import ScheduledJob, Scheduler
from bot.settings import Settings, SummaryChannel
from tests.support.fakes import FixedClock, sequential_ids
from tests.support.stack import merge_action

NOWHERE = "http://127.0.0.1:9/"  # the jobs under test never call Slack
RUN_KEY = "2026-11-24T07:00:00Z"


def _runtime(database_url: str, clock: FixedClock | None = None, **env: str) -> SlackRuntime:
    settings = Settings(DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test", **env)  # type: ignore[arg-type]
    return build_runtime(
        settings,
        clock=clock or FixedClock(),
        new_id=sequential_ids("j"),
        client=WebClient(token="xoxb-test", base_url=NOWHERE),
        poll_interval=60,
    )


@pytest.fixture
def runtime(sqlite_url: str) -> Iterator[SlackRuntime]:
    built = _runtime(sqlite_url)
    yield built
    built.services.close()


def _job(jobs: list[ScheduledJob], name: str) -> ScheduledJob:
    return next(job for job in jobs if job.name == name)


def _never(_channel: str, _day: date) -> None:
    raise AssertionError("no summary expected")


# -- what is scheduled, and when -----------------------------------------------------------


def test_every_job_is_scheduled_with_the_configured_times_and_zones(sqlite_url: str) -> None:
    runtime = _runtime(
        sqlite_url,
        REVGATE_TIMEZONE="America/New_York",
        REVGATE_HYGIENE_CRON="30 6 * * 1-5",
        REVGATE_SUMMARY_CHANNEL="#revops, #emea=Europe/Paris@09:30",
        REVGATE_TICK_SECONDS="30",
    )
    try:
        jobs = build_jobs(runtime, post_summary=_never)
    finally:
        runtime.services.close()
    friday_noon = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)

    def next_fire(name: str) -> datetime:
        return _job(jobs, name).trigger.get_next_fire_time(None, friday_noon)  # type: ignore[no-any-return]

    assert [(job.name, job.claimed) for job in jobs] == [
        ("hygiene", True),
        ("enrichment", True),
        ("tick", False),
        ("outbox_drain", False),
        ("summary:#revops", True),
        ("summary:#emea", True),
    ]
    new_york, paris = ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris")
    # Weekdays at 06:30 New York time: Friday noon's next run is Monday's.
    assert next_fire("hygiene") == datetime(2026, 11, 30, 6, 30, tzinfo=new_york)
    assert next_fire("enrichment") == datetime(2026, 11, 27, 12, 15, tzinfo=new_york)
    assert next_fire("summary:#revops") == datetime(2026, 11, 28, 8, 0, tzinfo=new_york)
    assert next_fire("summary:#emea") == datetime(2026, 11, 28, 9, 30, tzinfo=paris)
    tick = _job(jobs, "tick").trigger  # a 30-second grid, the same on every replica
    assert tick.get_next_fire_time(None, friday_noon + timedelta(seconds=1)) == friday_noon + timedelta(
        seconds=30
    )
    assert all(job.lease == timedelta(seconds=900) for job in jobs if job.claimed)


def test_without_a_summary_poster_no_summary_is_scheduled_and_a_warning_says_so(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = _runtime(sqlite_url, REVGATE_SUMMARY_CHANNEL="#revops")
    try:
        with caplog.at_level(logging.WARNING, logger="bot.jobs"):
            names = [job.name for job in build_jobs(runtime)]
    finally:
        runtime.services.close()

    assert names == ["hygiene", "enrichment", "tick", "outbox_drain"]
    assert "REVGATE_SUMMARY_CHANNEL is set but no summary poster is wired" in caplog.text


def test_the_summary_key_is_the_local_date_of_the_slot() -> None:
    slot = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)

    assert local_day_key(ZoneInfo("America/Los_Angeles"), slot) == "2026-11-24"
    assert local_day_key(ZoneInfo("Asia/Tokyo"), slot) == "2026-11-25"


# -- what each job does --------------------------------------------------------------------


def _seed_messy_leads(runtime: SlackRuntime) -> None:
    crm = runtime.services.crm
    crm.create_owner(Owner(id="U0REP", name="Rep", email="rep@acme.io", active=True))
    crm.create_record(
        "lead",
        {"first_name": "JANE", "last_name": "doe", "email": "Jane@Acme.io", "status": "New", "title": "CFO"},
        owner_id=None,
    )
    crm.create_record(
        "lead", {"first_name": "Bob", "last_name": "Stone", "email": "bob@initech.io", "status": "New"}
    )


def _runs(runtime: SlackRuntime) -> list[RunRow]:
    with runtime.services.database.reading() as session:
        return list(session.execute(select(RunRow)).scalars())


def _proposed_kinds(runtime: SlackRuntime, run_id: str) -> set[str]:
    with runtime.services.database.reading() as session:
        rows = session.execute(select(ProposalRow).where(ProposalRow.run_id == run_id)).scalars()
        return {str(row.action["kind"]) for row in rows}


def test_the_hygiene_job_runs_a_full_pass_named_after_its_slot(runtime: SlackRuntime) -> None:
    _seed_messy_leads(runtime)

    result = _job(build_jobs(runtime), "hygiene").run(RUN_KEY)

    (run,) = _runs(runtime)
    assert result is not None
    assert result["run_id"] == run.id
    assert (run.job, run.trigger, run.status) == ("hygiene", f"schedule:{RUN_KEY}", "completed")
    with runtime.services.database.reading() as session:
        stored = len(session.execute(select(ProposalRow).where(ProposalRow.run_id == run.id)).all())
    assert stored >= 3
    assert sum(count for name, count in result.items() if name != "run_id") == stored
    # The full pass includes owner assignment for the unowned leads, not just formats.
    assert {"normalize_field", "assign_owner"} <= _proposed_kinds(runtime, run.id)


def test_the_enrichment_job_only_tidies_and_fills_in_data(runtime: SlackRuntime) -> None:
    _seed_messy_leads(runtime)

    result = _job(build_jobs(runtime), "enrichment").run(RUN_KEY)

    (run,) = _runs(runtime)
    assert result is not None
    assert (run.job, run.trigger, run.planner) == ("enrichment", f"schedule:{RUN_KEY}", "offline")
    assert _proposed_kinds(runtime, run.id) == {"normalize_field", "enrich_data"}
    jane = runtime.services.crm.search("lead", "email", "jane@acme.io")
    assert [(r.get("first_name"), r.get("job_function"), r.get("seniority")) for r in jane] == [
        ("Jane", "finance", "c_level")
    ]


def test_the_enrichment_planner_leaves_alone_what_the_full_pass_would_merge(runtime: SlackRuntime) -> None:
    crm = runtime.services.crm
    first = crm.create_record("lead", {"first_name": "ann", "last_name": "lee", "email": "ann@acme.io"})
    second = crm.create_record("lead", {"first_name": "Ann", "last_name": "Lee", "email": "ann@acme.io"})
    crm.create_record(
        "lead", {"first_name": "JANE", "last_name": "Doe", "email": "jane@acme.io", "title": "CFO"}
    )
    snapshot = snapshot_from(crm)

    full = runtime.services.offline_planner().plan(snapshot)
    restricted = runtime.services.offline_planner().restricted_to(ENRICHMENT_CHECKS)
    enrichment, again = restricted.plan(snapshot), restricted.plan(snapshot)

    assert "merge" in {action.kind for action in full}
    assert {action.kind for action in enrichment} == {"normalize_field", "enrich_data"}
    touched = {target.record_id for action in enrichment for target in action.targets}
    assert touched.isdisjoint({first.id, second.id})  # reserved for the merge
    assert [(a.kind, a.record_ids) for a in again] == [(a.kind, a.record_ids) for a in enrichment]
    with pytest.raises(ValueError, match="unknown checks: spelling"):
        runtime.services.offline_planner().restricted_to(frozenset({"spelling"}))


def _queue_merge(runtime: SlackRuntime) -> str:
    crm = runtime.services.crm
    first = crm.create_record("lead", {"first_name": "Ann", "last_name": "Lee", "email": "ann@acme.io"})
    second = crm.create_record("lead", {"first_name": "Ann", "last_name": "Lee", "email": "ANN@acme.io"})
    action: ProposedAction = merge_action(first, second)
    policy = runtime.services.policy
    verdict = evaluate(policy, action, gather_facts(action, crm.get_many("lead", action.record_ids), policy))
    approval = runtime.services.approvals.request(action, verdict, run_id=None, requested_by="agent")
    assert approval is not None
    return approval.id


def test_the_tick_job_expires_due_approvals_by_default(sqlite_url: str) -> None:
    clock = FixedClock()
    runtime = _runtime(sqlite_url, clock)
    try:
        approval_id = _queue_merge(runtime)
        tick = _job(build_jobs(runtime), "tick")
        tick.run(RUN_KEY)
        still_pending = runtime.services.approvals.get(approval_id).status
        clock.advance(hours=73)  # the default policy gives merges 72 hours

        tick.run(RUN_KEY)

        assert still_pending == "pending"
        assert runtime.services.approvals.get(approval_id).status == "expired"
    finally:
        runtime.services.close()


def test_the_tick_job_calls_the_tick_it_is_given(runtime: SlackRuntime) -> None:
    ticks: list[str] = []

    _job(build_jobs(runtime, tick=lambda: ticks.append("tick")), "tick").run(RUN_KEY)

    assert ticks == ["tick"]


ALWAYS = 'hours: "00:00-24:00", days: [mon, tue, wed, thu, fri, sat, sun]'
ROUTING = f"""timezone: UTC
rules:
  - name: everyone
    when: {{field: status, equals: New}}
    then: {{pool: reps}}
  - name: catch-all
    then: {{queue: triage}}
pools:
  reps:
    members: [{{owner: U0REP, {ALWAYS}}}]
queues:
  triage: {{}}
sla: {{remind_after: 30, escalate_after: 60, reassign_after: 120}}
"""


def _stages(runtime: SlackRuntime) -> list[tuple[str, int]]:
    with runtime.services.database.reading() as session:
        return [(row.status, row.stage) for row in session.scalars(select(RoutingAssignmentRow))]


def test_the_tick_job_also_moves_the_routing_sla_clocks(sqlite_url: str, tmp_path: Path) -> None:
    clock = FixedClock()
    (tmp_path / "routing.yaml").write_text(ROUTING)
    runtime = _runtime(sqlite_url, clock, REVGATE_ROUTING=str(tmp_path / "routing.yaml"))
    try:
        _seed_messy_leads(runtime)
        (lead, *_) = runtime.services.crm.search("lead", "email", "bob@initech.io")
        runtime.services.routing().route(lead.id, requested_by="U1")
        tick = _job(build_jobs(runtime), "tick")
        tick.run(RUN_KEY)
        on_time = _stages(runtime)
        clock.advance(minutes=31)

        tick.run(RUN_KEY)

        assert on_time == [("open", 0)]
        assert _stages(runtime) == [("open", 1)]  # reminded; escalated at 60 working minutes
    finally:
        runtime.services.close()


def test_a_broken_routing_file_does_not_stop_the_expiry_tick(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FixedClock()
    (tmp_path / "routing.yaml").write_text(ROUTING.replace("queue: triage}", "queue: nowhere}"))
    runtime = _runtime(sqlite_url, clock, REVGATE_ROUTING=str(tmp_path / "routing.yaml"))
    try:
        approval_id = _queue_merge(runtime)
        clock.advance(hours=73)

        with caplog.at_level(logging.ERROR, logger="bot.jobs"):
            _job(build_jobs(runtime), "tick").run(RUN_KEY)

        assert runtime.services.approvals.get(approval_id).status == "expired"
        assert "routing SLA clocks not moved: routing file" in caplog.text
        assert "sends to queue 'nowhere', which is not defined" in caplog.text
    finally:
        runtime.services.close()


def test_the_outbox_job_wakes_the_pump_to_execute_what_was_approved(runtime: SlackRuntime) -> None:
    approval_id = _queue_merge(runtime)
    runtime.services.approvals.approve(approval_id, "U0APPROVER")
    runtime.pump.start()  # polls once a minute: only a wake makes it drain now
    try:
        time.sleep(0.2)
        waiting = runtime.services.approvals.get(approval_id).status

        _job(build_jobs(runtime), "outbox_drain").run(RUN_KEY)

        deadline = time.monotonic() + 5
        while (
            runtime.services.approvals.get(approval_id).status != "executed" and time.monotonic() < deadline
        ):
            time.sleep(0.02)
    finally:
        runtime.pump.stop()

    assert waiting == "approved"
    assert runtime.services.approvals.get(approval_id).status == "executed"


def test_the_runtime_starts_the_scheduler_only_when_asked_and_enabled(sqlite_url: str) -> None:
    off = _runtime(sqlite_url, REVGATE_SCHEDULER="off")
    off.start(background=False, scheduler=True)
    off.stop()
    on = _runtime(sqlite_url)
    on.start(background=False)
    on.stop()
    runtime = _runtime(sqlite_url)
    runtime.start(background=False, scheduler=True)
    scheduler = runtime.scheduler
    names = set(scheduler.next_fire_times()) if scheduler else set()
    runtime.stop()

    assert off.scheduler is None
    assert on.scheduler is None
    assert scheduler is not None
    assert names == {"hygiene", "enrichment", "tick", "outbox_drain"}
    assert not scheduler.running


# -- the daily summary, once per channel per day, across restarts (PostgreSQL) ---------------


class Posts:
    def __init__(self) -> None:
        self.made: list[tuple[str, date]] = []

    def __call__(self, channel: str, day: date) -> None:
        self.made.append((channel, day))


def _run_once(url: str, jobs: list[ScheduledJob], *, expect: int, posts: Posts, holder: str) -> list[str]:
    """A fresh replica (its own engine) on the database: start, let each job fire once, stop."""
    fired: list[str] = []

    def recording(key: Callable[[datetime], str]) -> Callable[[datetime], str]:
        def run_key(at: datetime) -> str:
            fired.append(key(at))
            return fired[-1]

        return run_key

    database = Database(url, auto_upgrade=False)
    scheduler = Scheduler(
        [dataclasses.replace(job, run_key=recording(job.run_key)) for job in jobs],
        claims=JobClaims(database, clock=SystemClock()),
        holder=holder,
        rescue_every=None,
    )
    scheduler.start()
    try:
        deadline = time.monotonic() + 5
        while len(fired) < expect and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        scheduler.stop(wait=True)
        database.dispose()
    assert len(fired) == expect, fired
    return fired


@pytest.mark.postgres
def test_the_daily_summary_posts_once_per_channel_per_day_across_restarts(postgres_url: str) -> None:
    paris, new_york = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
    # A summary time one minute ago: each start catches the slot up, as a restart would.
    slot = datetime.now(paris).replace(second=0, microsecond=0) - timedelta(minutes=1)
    today, yesterday = slot.date(), slot.date() - timedelta(days=1)
    revops = SummaryChannel("#revops", paris, slot.time())
    other_slot = slot.astimezone(new_york)
    emea = SummaryChannel("#sales", new_york, other_slot.time())
    lease = timedelta(minutes=15)
    posts = Posts()

    # Yesterday's summary, posted by a replica that then went away.
    (yesterdays,) = summary_jobs([revops], posts, lease=lease)
    late = dataclasses.replace(
        yesterdays, trigger=DateTrigger(run_date=slot - timedelta(days=1)), misfire_grace_time=None
    )
    _run_once(postgres_url, [late], expect=1, posts=posts, holder="replica-1")
    # Today, after a restart: today's slot is new, so it posts.
    fired_today = _run_once(
        postgres_url, summary_jobs([revops], posts, lease=lease), expect=1, posts=posts, holder="replica-2"
    )
    # Restarted again, with a second channel: #revops is done for today, #sales is not.
    _run_once(
        postgres_url,
        summary_jobs([revops, emea], posts, lease=lease),
        expect=2,
        posts=posts,
        holder="replica-3",
    )

    assert fired_today == [today.isoformat()]
    assert posts.made == [("#revops", yesterday), ("#revops", today), ("#sales", other_slot.date())]
    database = Database(postgres_url, auto_upgrade=False)
    claims = JobClaims(database, clock=SystemClock())
    record = claims.get("summary:#revops", today.isoformat())
    database.dispose()
    assert record is not None
    assert (record.holder, record.status, record.result) == (
        "replica-2",
        "done",
        {"channel": "#revops", "day": today.isoformat()},
    )


def test_scheduled_hygiene_is_incremental_with_a_weekly_full_pass(sqlite_url: str) -> None:
    clock = FixedClock()
    runtime = _runtime(sqlite_url, clock)
    try:
        _seed_messy_leads(runtime)
        hygiene = _job(build_jobs(runtime), "hygiene")
        hygiene.run(RUN_KEY)
        clock.advance(days=1)
        runtime.services.crm.create_record(
            "lead", {"first_name": "NEW", "last_name": "lead", "email": "new@acme.io", "status": "New"}
        )
        hygiene.run("2026-11-25T07:00:00Z")
        clock.advance(days=7)
        hygiene.run("2026-12-02T07:00:00Z")

        runs = sorted(_runs(runtime), key=lambda r: r.started_at)
        scopes = [(run.stats or {}).get("scope") or {} for run in runs]
        assert [scope.get("mode") for scope in scopes] == ["full", "incremental", "full"]
        assert scopes[1].get("since") == (runs[0].stats or {}).get("cursor")
        assert scopes[0].get("since") is None
        assert scopes[2].get("since") is None
    finally:
        runtime.services.close()
