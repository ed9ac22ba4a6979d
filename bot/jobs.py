"""revgate's scheduled jobs, built from the Slack runtime and the settings.

=================  ==========================  =======  ==========================================
job                when                        claimed  run key
=================  ==========================  =======  ==========================================
``hygiene``        ``REVGATE_HYGIENE_CRON``    yes      the slot, UTC (``2026-11-24T07:00:00Z``)
``enrichment``     ``REVGATE_ENRICHMENT_CRON`` yes      the slot, UTC
``summary:<ch>``   the channel's local time    yes      the channel's local date (``2026-11-24``)
``tick``           ``REVGATE_TICK_SECONDS``    no       the slot, UTC (expiry, then routing SLA)
``outbox_drain``   ``REVGATE_TICK_SECONDS``    no       the slot, UTC
=================  ==========================  =======  ==========================================

Runs and summaries are claimed: two hygiene passes over the same slot would
plan the same changes twice (and queue duplicate approvals), and a summary must
reach its channel once a day. Keying the summary by the *local date* (not the
fire time) is what makes it once per channel per day even if its time setting
changes between restarts.

The tick and the outbox drain run on every replica without a claim, on purpose:
every approval transition the tick makes is one guarded ``UPDATE ... WHERE
status = 'pending'`` (a second replica's attempt is a no-op), and the outbox
claims its rows one by one; a claim per minute would only add a row per
minute to ``job_claims`` and make a dead replica's tick wait for a lease. The
tick (``agent.expiry.ExpiryTicker``) keeps that property for its reminders and
escalations too: each is guarded on the value it read.

The tick also moves the routing SLA clocks (``agent.routing.sla.tick``: reminders,
escalations, reassignments of leads not worked in time). It runs after the expiry
tick, and its failure (a broken routing file, say) is logged without stopping the
expiry tick: the two are independent clocks sharing one schedule.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

from agent.claims import JobClaims
from agent.errors import RoutingFileError
from agent.planner.offline import ENRICHMENT_CHECKS
from agent.routing import sla
from agent.run_report import RunReport
from bot.container import Services
from bot.scheduler import ScheduledJob, Scheduler, every
from bot.settings import SummaryChannel, crontab

if TYPE_CHECKING:
    from bot.runtime import SlackRuntime

log = logging.getLogger(__name__)

PostSummary = Callable[[str, date], object]
"""``post_summary(channel, day)``: post the daily summary for ``day`` (the channel's local date)."""

HYGIENE_GRACE = int(timedelta(hours=3).total_seconds())
"""A hygiene pass up to three hours late is still worth running (and is caught up after a restart)."""
ENRICHMENT_GRACE = int(timedelta(minutes=30).total_seconds())
"""Hourly: later than half an hour, the next slot is nearer."""
SUMMARY_GRACE = int(timedelta(hours=3).total_seconds())
"""A morning summary posted before lunch is still read; one posted in the evening is noise."""


def build_jobs(
    runtime: SlackRuntime,
    *,
    post_summary: PostSummary | None = None,
    tick: Callable[[], object] | None = None,
    sla_tick: Callable[[], object] | None = None,
) -> list[ScheduledJob]:
    """Every scheduled job of this deployment.

    ``tick`` defaults to the expiry ticker (reminders, escalation, expiry), ``sla_tick`` to the
    routing SLA clocks and the meetings still out of step (:func:`run_routing_tick`); the tick
    job runs both. Without ``post_summary`` no
    summary job is scheduled (a warning says so when channels are configured).
    """
    settings = runtime.settings
    services = runtime.services
    zone = settings.timezone
    lease = timedelta(seconds=settings.claim_lease_seconds)
    tick = tick or services.expiry_ticker().tick
    sla_tick = sla_tick or partial(run_routing_tick, services)
    jobs = [
        ScheduledJob(
            "hygiene",
            crontab(settings.hygiene_cron, zone),
            partial(run_hygiene, services),
            lease=lease,
            misfire_grace_time=HYGIENE_GRACE,
            catch_up=True,
        ),
        ScheduledJob(
            "enrichment",
            crontab(settings.enrichment_cron, zone),
            partial(run_enrichment, services),
            lease=lease,
            misfire_grace_time=ENRICHMENT_GRACE,
            catch_up=True,
        ),
        ScheduledJob(
            "tick",
            every(settings.tick_seconds),
            partial(_tick, tick, sla_tick),
            claimed=False,
            misfire_grace_time=settings.tick_seconds,
        ),
        ScheduledJob(
            "outbox_drain",
            every(settings.tick_seconds),
            # Only a nudge: the pump drains (and claims rows) on its own thread,
            # in the processes that run it; elsewhere the wake changes nothing.
            partial(_call, runtime.pump.wake),
            claimed=False,
            misfire_grace_time=settings.tick_seconds,
        ),
    ]
    if post_summary is not None:
        jobs += summary_jobs(settings.summary_channels, post_summary, lease=lease)
    elif settings.summary_channels:
        log.warning("REVGATE_SUMMARY_CHANNEL is set but no summary poster is wired: no summary is scheduled")
    return jobs


def build_scheduler(
    runtime: SlackRuntime,
    *,
    post_summary: PostSummary | None = None,
    tick: Callable[[], object] | None = None,
    holder: str | None = None,
) -> Scheduler:
    """The process's scheduler over the runtime's database; the rescue pass runs every tick."""
    settings = runtime.settings
    claims = JobClaims(runtime.services.database, clock=runtime.services.clock)
    return Scheduler(
        build_jobs(runtime, post_summary=post_summary, tick=tick),
        claims=claims,
        holder=holder,
        timezone=settings.timezone,
        rescue_every=timedelta(seconds=settings.tick_seconds),
    )


def summary_jobs(
    channels: Sequence[SummaryChannel], post_summary: PostSummary, *, lease: timedelta
) -> list[ScheduledJob]:
    """One daily job per channel, at its local time in its own zone, keyed by its local date."""
    return [
        ScheduledJob(
            f"summary:{target.channel}",
            CronTrigger(hour=target.at.hour, minute=target.at.minute, timezone=target.timezone),
            partial(_post_summary, post_summary, target.channel),
            lease=lease,
            run_key=partial(local_day_key, target.timezone),
            misfire_grace_time=SUMMARY_GRACE,
            catch_up=True,
        )
        for target in channels
    ]


def local_day_key(zone: tzinfo, scheduled_at: datetime) -> str:
    """The summary's run key: the date the slot falls on in the channel's zone."""
    return scheduled_at.astimezone(zone).date().isoformat()


FULL_RUN_EVERY = timedelta(days=7)
"""Scheduled hygiene is incremental, with a full pass this often (stale records only show in one)."""


def run_hygiene(services: Services, run_key: str) -> dict[str, Any]:
    """A hygiene pass with the configured planner (Claude when a key is set).

    Incremental (the records changed since the last run's cursor), except when
    no full pass has completed within :data:`FULL_RUN_EVERY`.
    """
    runner = services.runner
    last_full = runner.last_full_run_at("hygiene")
    full = last_full is None or services.clock.now() - last_full >= FULL_RUN_EVERY
    since = None if full else runner.last_cursor("hygiene")
    report = runner.run(services.planner(), job="hygiene", trigger=f"schedule:{run_key}", since=since)
    return report_result(report)


def run_enrichment(services: Services, run_key: str) -> dict[str, Any]:
    """An offline pass restricted to the enrichment checks (formats, title keyword table)."""
    planner = services.offline_planner().restricted_to(ENRICHMENT_CHECKS)
    report = services.runner.run(planner, job="enrichment", trigger=f"schedule:{run_key}")
    return report_result(report)


def report_result(report: RunReport) -> dict[str, Any]:
    """What the claim row keeps of a run: its id and how many proposals went each way."""
    counts = Counter(outcome.disposition for outcome in report.outcomes)
    return {"run_id": report.run_id, **dict(sorted(counts.items()))}


def _post_summary(post_summary: PostSummary, channel: str, run_key: str) -> dict[str, Any]:
    post_summary(channel, date.fromisoformat(run_key))
    return {"channel": channel, "day": run_key}


def run_sla_tick(services: Services) -> sla.SlaReport:
    """Move the routing SLA clocks that are due (see :mod:`agent.routing.sla`).

    Raises:
        RoutingFileError: the routing file has errors.
    """
    report = sla.tick(services.routing(), services.clock.now())
    if report.reminded or report.escalated or report.reassigned:
        log.info(
            "routing SLA: %d reminded, %d escalated, reassigned %s",
            report.reminded,
            report.escalated,
            ", ".join(report.reassigned) or "none",
        )
    return report


def run_routing_tick(services: Services) -> sla.SlaReport:
    """The SLA clocks (:func:`run_sla_tick`), then the meetings whose CRM activity or invite is
    behind (a mail server that was down, a crash mid-booking): each is brought up to date."""
    report = run_sla_tick(services)
    synced = services.meetings().sync_pending()
    if synced:
        log.info("meetings: %d brought back in step with the CRM and the invites", synced)
    return report


def _tick(expiry_tick: Callable[[], object], sla_tick: Callable[[], object], _run_key: str) -> None:
    try:
        expiry_tick()
    finally:
        try:
            sla_tick()
        except RoutingFileError as error:
            log.error("routing SLA clocks not moved: %s", error)
        except Exception:
            # The SLA clocks must not take the approvals' expiry down with them (nor
            # the other way round); the scheduler logs what the expiry tick raises.
            log.exception("routing SLA tick failed")


def _call(task: Callable[[], object], _run_key: str) -> None:
    task()


__all__ = [
    "ENRICHMENT_GRACE",
    "HYGIENE_GRACE",
    "SUMMARY_GRACE",
    "PostSummary",
    "build_jobs",
    "build_scheduler",
    "local_day_key",
    "report_result",
    "run_enrichment",
    "run_hygiene",
    "run_sla_tick",
    "summary_jobs",
]
