"""Everything the Slack edge runs on, built once: services, Web API client, card sync, outbox pump."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_sdk import WebClient

from agent.policy import approval_requirement
from agent.ports import Clock
from agent.routing import SimpleRouter
from bot.blocks import CardContext
from bot.container import Services, build_services
from bot.directory import SlackGroupDirectory
from bot.notifier import CardSync, WakeNotifier
from bot.pump import OutboxPump
from bot.settings import Settings
from bot.slack_client import make_web_client

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
    router: SimpleRouter
    background: bool = True
    work: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="revgate-work")
    )
    """Where listeners send the work that follows their ack (decisions, commands)."""
    modals: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="revgate-modal")
    )
    """Opening modals: a trigger id lives 3 seconds, so this never queues behind other work."""

    def after_ack(self, task: Callable[..., object], *args: object) -> Future[object]:
        """Run ``task`` in the work pool; failures are logged, never lost silently."""
        return self._submit(self.work, task, *args)

    def open_modal(self, task: Callable[..., object], *args: object) -> Future[object]:
        """Run a ``views.open`` task right after the ack, ahead of other work."""
        return self._submit(self.modals, task, *args)

    @staticmethod
    def _submit(pool: ThreadPoolExecutor, task: Callable[..., object], *args: object) -> Future[object]:

        def run() -> object:
            try:
                return task(*args)
            except Exception:
                log.exception("work after ack failed: %s", getattr(task, "__name__", task))
                raise

        return pool.submit(run)

    def card_context(self) -> CardContext:
        policy = self.services.policy
        return CardContext(
            owners={o.id: o for o in self.services.crm.owners()},
            now=self.services.clock.now(),
            undo_window=policy.undo_window,
            approvals_needed=lambda a: approval_requirement(policy, a.verdict.gates).min_approvals,
        )

    def start(self, *, background: bool = True) -> None:
        """Start the background threads (card sync, outbox) and catch up on what was left.

        ``background=False`` leaves them to a ``revgate worker`` process: both are
        driven by the database alone, so they can run anywhere, and the web
        process then spends its CPU on acking.
        """
        self.background = background
        if background:
            self.cards.start()
            self.pump.start()
            self.cards.sync_once_later()
            self.pump.wake()

    def stop(self) -> None:
        """Finish what is in flight; anything left waits in the database for the next start."""
        self.modals.shutdown(wait=True)
        self.work.shutdown(wait=True)
        self.pump.stop()
        self.cards.stop()
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
    channel = settings.approvals_channel or services.policy.approvals_channel or DEFAULT_APPROVALS_CHANNEL
    runtime = SlackRuntime(
        settings=settings,
        services=services,
        client=client,
        directory=directory,
        cards=None,  # type: ignore[arg-type]  # set below: the sync needs the runtime's context
        pump=OutboxPump(services.worker, poll_interval=poll_interval),
        router=SimpleRouter(services.crm, new_id=services.new_id),
    )
    runtime.cards = CardSync(
        client,
        services.approvals,
        channel=channel,
        context=runtime.card_context,
        wake=notifier.event,
        min_interval=card_interval,
        poll_interval=poll_interval,
    )
    return runtime
