"""Everything the Slack edge runs on, built once: services, Web API client, card sync, outbox pump."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from slack_sdk import WebClient

from agent.crm.caveats import merge_caveats
from agent.policy import approval_requirement
from agent.ports import Clock, RecordLinks
from bot.blocks import CardContext
from bot.blocks.card import no_record_url
from bot.container import Services, build_services
from bot.directory import SlackGroupDirectory
from bot.inbox import InboxConsumer, InboxWriter
from bot.jobs import build_scheduler
from bot.meeting_notifier import MeetingMessages, use_slack_for_meetings
from bot.notifier import CardSync, WakeNotifier
from bot.nudges import nudge_for
from bot.pump import OutboxPump
from bot.routing_notifier import use_slack_for_routing
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.slack_client import make_web_client
from bot.summary_post import post_summary
from bot.tasks import build_tasks

DEFAULT_APPROVALS_CHANNEL = "#revops-approvals"

log = logging.getLogger(__name__)


@dataclass
class SlackRuntime:
    settings: Settings
    services: Services
    client: WebClient
    directory: SlackGroupDirectory
    cards: CardSync
    pump: OutboxPump
    inbox: InboxWriter
    """Where listeners send the work that follows their ack (decisions, commands)."""
    consumer: InboxConsumer
    """Runs that work: here, or in ``revgate worker`` (see :meth:`start`)."""
    meeting_messages: MeetingMessages
    """Booked meetings' messages (Reschedule / Cancel), kept in step like the cards."""
    background: bool = True
    modals: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="revgate-modal")
    )
    """Opening modals: a trigger id lives 3 seconds, so this never queues behind other work."""
    post_summary: Callable[[str, date], object] | None = None
    """Posts the daily summary (channel, local day); without it no summary job is scheduled."""
    scheduler: Scheduler | None = None
    """The scheduled jobs, when ``start(scheduler=True)`` started them."""

    def after_ack(self, task: str, **payload: Any) -> None:
        """Hand the named task (see ``bot.tasks``) on to the inbox; ``payload`` must be plain JSON."""
        self.inbox.put(task, payload)

    def open_modal(self, task: Callable[..., object], *args: object) -> Future[object]:
        """Run a ``views.open`` task right after the ack, ahead of other work; failures are logged."""

        def run() -> object:
            try:
                return task(*args)
            except Exception:
                log.exception("opening a modal failed: %s", getattr(task, "__name__", task))
                raise

        return self.modals.submit(run)

    def card_context(self) -> CardContext:
        policy = self.services.policy
        crm = self.services.crm
        return CardContext(
            owners={o.id: o for o in crm.owners()},
            now=self.services.clock.now(),
            undo_window=policy.undo_window,
            record_url=crm.record_url if isinstance(crm, RecordLinks) else no_record_url,
            platform_caveats=lambda a: (
                merge_caveats(crm.name, len(a.record_ids)) if a.kind == "merge" else ()
            ),
            approvals_needed=lambda a: approval_requirement(policy, a.verdict.gates).min_approvals,
        )

    def start(self, *, background: bool = True, scheduler: bool = False) -> None:
        """Start the background threads (inbox, card sync, outbox) and catch up on what was left.

        ``background=False`` leaves all but the inbox writer to a ``revgate
        worker`` process: they are driven by the database alone, so they can run
        anywhere, and the web process then spends its CPU on acking.
        ``scheduler=True`` also starts the scheduled jobs (unless
        ``REVGATE_SCHEDULER`` is off): every replica fires them, the database
        picks one replica per run.
        """
        self.background = background
        self.inbox.start()
        if background:
            self.consumer.start()
            self.consumer.wake()
            self.cards.start()
            self.meeting_messages.start()
            self.pump.start()
            self.cards.sync_once_later()
            self.pump.wake()
        if scheduler and self.settings.scheduler:
            self.scheduler = build_scheduler(self, post_summary=self.post_summary)
            self.scheduler.start()

    def stop(self) -> None:
        """Finish what is in flight; anything left waits in the database for the next start."""
        if self.scheduler is not None:
            # First, while the services its jobs use are open: a run in flight
            # finishes and records its outcome, and no new one starts.
            self.scheduler.stop(wait=True)
        self.modals.shutdown(wait=True)
        self.inbox.stop()
        self.consumer.stop()
        self.pump.stop()
        self.cards.stop()
        self.meeting_messages.stop()
        self.services.close()


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    new_id: Callable[[], str] | None = None,
    client: WebClient | None = None,
    card_interval: float = 1.0,
    poll_interval: float = 5.0,
) -> SlackRuntime:
    """Wire the Slack edge. Raises ``SettingsError`` without ``SLACK_BOT_TOKEN``."""
    client = client or make_web_client(settings)
    directory = SlackGroupDirectory(client)
    notifier = WakeNotifier()
    services = build_services(settings, clock=clock, new_id=new_id, notifier=notifier, directory=directory)
    channel = approvals_channel(settings, services)
    # Before anything builds the routing or meeting service: each takes its notifier then.
    use_slack_for_routing(services, client, channel=channel)
    meeting_messages = MeetingMessages(
        client,
        services.database,
        clock=services.clock,
        channel=channel,
        poll_interval=poll_interval,
    )
    use_slack_for_meetings(services, meeting_messages)
    notifier.also.append(meeting_messages.wake)
    runtime = SlackRuntime(
        settings=settings,
        services=services,
        client=client,
        directory=directory,
        cards=None,  # type: ignore[arg-type]  # set below: the sync needs the runtime's context
        pump=OutboxPump(services.worker, poll_interval=poll_interval),
        inbox=None,  # type: ignore[arg-type]  # set below: the tasks need the runtime
        consumer=None,  # type: ignore[arg-type]
        meeting_messages=meeting_messages,
    )
    runtime.consumer = InboxConsumer(
        services.database,
        services.clock,
        build_tasks(runtime),
        holder=services.worker.worker_id,
        poll_interval=min(poll_interval, 0.25),
    )
    runtime.inbox = InboxWriter(services.database, services.clock, on_stored=runtime.consumer.wake)
    runtime.post_summary = _summary_poster(runtime)
    runtime.cards = CardSync(
        client,
        services.approvals,
        channel=channel,
        context=runtime.card_context,
        nudge=lambda approval: nudge_for(approval, services.policy),
        wake=notifier.event,
        min_interval=card_interval,
        poll_interval=poll_interval,
    )
    return runtime


def approvals_channel(settings: Settings, services: Services) -> str:
    """Where approval cards, booked meetings' messages and routing alerts without a channel
    of their own go."""
    return settings.approvals_channel or services.policy.approvals_channel or DEFAULT_APPROVALS_CHANNEL


def _summary_poster(runtime: SlackRuntime) -> Callable[[str, date], object] | None:
    """The scheduled summary for a channel: posted on the morning of ``day``, about the day before.

    Reporting the finished day counts every decision once; a summary of "today so
    far" at 08:00 would never show what happens after it.
    """
    zones = {c.channel: c.timezone for c in runtime.settings.summary_channels}
    if not zones:
        return None

    def post(channel: str, day: date) -> object:
        return post_summary(runtime, channel=channel, day=day - timedelta(days=1), tz=zones[channel])

    return post
