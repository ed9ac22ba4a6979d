"""The composition root: builds every service from settings, once, at start-up.

Nothing here runs at import time; the CLI, the Slack app and the tests call
``build_services`` with explicit settings, clock and id generator.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from agent.approvals import ApprovalService
from agent.audit import AuditLog
from agent.executor import Executor
from agent.expiry import ExpiryTicker, routing_pool_fallback
from agent.facts import gather_facts
from agent.llm.budget import LLMBudget
from agent.llm.client import ModelConfig, RetryPolicy
from agent.meetings.bookings import MeetingBook
from agent.meetings.calendars import FeedCalendars, calendar_sources
from agent.meetings.service import MeetingNotifier, MeetingService
from agent.meetings.writer import MeetingWriter
from agent.memory import RejectionMemory
from agent.outbox import OutboxWorker
from agent.planner.base import Planner
from agent.planner.claude import ClaudePlanner
from agent.planner.offline import OfflinePlanner
from agent.policy import Policy
from agent.policy_file import load_policy
from agent.ports import (
    ApproverDirectory,
    Clock,
    CRMClient,
    NoGroups,
    Notifier,
    SilentNotifier,
    SystemClock,
)
from agent.routing import RoutingConfig, RoutingNotifier, RoutingService, build_routing, load_routing
from agent.routing.advisor import ClaudeAdvisor
from agent.runner import Runner
from agent.store.database import Database
from bot.crm_connect import connect_crm
from bot.invite_senders import connect_invites
from bot.settings import Settings

PlannerChoice = Literal["auto", "claude", "offline"]

log = logging.getLogger(__name__)


def random_id() -> str:
    """A 16-hex-digit random id (64 bits): short enough to type, long enough not to collide."""
    return secrets.token_hex(8)


@dataclass
class Services:
    """Everything a command or a Slack listener needs, wired together."""

    settings: Settings
    database: Database
    policy: Policy
    crm: CRMClient
    audit: AuditLog
    approvals: ApprovalService
    executor: Executor
    runner: Runner
    worker: OutboxWorker
    clock: Clock
    new_id: Callable[[], str]
    routing_notifier: RoutingNotifier | None = None
    """Tells assignees and queues about routed leads (the Slack edge sets it)."""
    meeting_notifier: MeetingNotifier | None = None
    """Posts and updates booked meetings' messages (the Slack edge sets it)."""
    _routing: RoutingService | None = None
    _meetings: MeetingService | None = None

    def offline_planner(self) -> OfflinePlanner:
        high_value = self.policy.high_value_changes
        return OfflinePlanner(
            new_id=self.new_id,
            now=self.clock.now,
            high_value_field=high_value.field if high_value else "annual_revenue",
            high_value_min=high_value.min if high_value else float("inf"),
            workers=self.settings.planner_workers,
        )

    def claude_planner(
        self,
        *,
        budget: LLMBudget | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> ClaudePlanner:
        """The Claude planner; without ``ANTHROPIC_API_KEY`` it runs on the rules and says so."""
        key = self.settings.anthropic_api_key
        model = (
            ModelConfig(
                api_key=key.get_secret_value(),
                model=self.settings.model,
                base_url=self.settings.anthropic_url,
            )
            if key is not None
            else None
        )
        return ClaudePlanner(
            rules=self.offline_planner(),
            model=model,
            memory=RejectionMemory(self.database),
            new_id=self.new_id,
            budget=budget,
            retry=retry,
            sleep=sleep,
            monotonic=monotonic,
        )

    def planner(self, choice: PlannerChoice = "auto") -> Planner:
        """``offline``, ``claude``, or ``auto``: Claude when ``ANTHROPIC_API_KEY`` is set, else offline."""
        if choice == "claude" or (choice == "auto" and self.settings.anthropic_api_key is not None):
            return self.claude_planner()
        return self.offline_planner()

    def routing(self) -> RoutingService:
        """The routing service, built on first use from ``REVGATE_ROUTING`` (then kept: it caches
        the account index and open-lead counts).

        Raises:
            RoutingFileError: the routing file has errors (each with its line).
        """
        if self._routing is None:
            config, problems = load_routing(self.settings.routing_path)
            for problem in problems:
                log.warning("routing file %s: %s", self.settings.routing_path, problem)
            self.use_routing(config)
        assert self._routing is not None
        return self._routing

    def meetings(self) -> MeetingService:
        """The meeting service, on the routing file's members, hours and calendars (built on first use).

        Raises:
            RoutingFileError: the routing file has errors (each with its line).
        """
        if self._meetings is None:
            config = self.routing().router.config
            base = self.settings.routing_path.parent
            sources = calendar_sources(config)
            book = MeetingBook(self.database)
            # Read again for every check (a booking's re-check must see the feed as it is now),
            # parsed again only when a feed changed.
            fresh = FeedCalendars(sources, base=base, max_age_seconds=0)
            writer = MeetingWriter(
                book,
                self.crm,
                connect_invites(self.settings),
                calendars=lambda: fresh,
                clock=self.clock,
                new_id=self.new_id,
            )
            self._meetings = MeetingService(
                config,
                crm=self.crm,
                runner=self.runner,
                writer=writer,
                database=self.database,
                audit=self.audit,
                calendars=FeedCalendars(sources, base=base),
                fresh_calendars=lambda: fresh,
                clock=self.clock,
                new_id=self.new_id,
                notifier=self.meeting_notifier,
            )
        return self._meetings

    def use_routing(self, config: RoutingConfig) -> RoutingService:
        """Route by ``config`` from now on (instead of the routing file)."""
        self._meetings = None
        self._routing = build_routing(
            config,
            crm=self.crm,
            runner=self.runner,
            database=self.database,
            audit=self.audit,
            clock=self.clock,
            new_id=self.new_id,
            notifier=self.routing_notifier,
            advisor=self._routing_advisor(),
        )
        self._routing.offer_meeting = lambda lead, by: self.meetings().offer(lead, by)
        return self._routing

    def _routing_advisor(self) -> ClaudeAdvisor | None:
        """The model's suggestion for leads only the catch-all takes (none without ``ANTHROPIC_API_KEY``)."""
        key = self.settings.anthropic_api_key
        if key is None:
            return None
        return ClaudeAdvisor(
            ModelConfig(
                api_key=key.get_secret_value(),
                model=self.settings.model,
                base_url=self.settings.anthropic_url,
            )
        )

    def expiry_ticker(self) -> ExpiryTicker:
        """Reminders, escalation and expiry of pending requests, with the policy's fallbacks."""
        return ExpiryTicker(
            self.database,
            self.approvals,
            self.audit,
            self.clock,
            fallbacks={"routing_pool": routing_pool_fallback(self.routing)},
        )

    def close(self) -> None:
        self.database.dispose()


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    new_id: Callable[[], str] | None = None,
    notifier: Notifier | None = None,
    directory: ApproverDirectory | None = None,
    policy: Policy | None = None,
    crm: CRMClient | None = None,
) -> Services:
    """Load the policy, open the database (upgrading an embedded one) and wire the services.

    The CRM is the one ``REVGATE_CRM`` names (``bot.crm_connect``) unless ``crm`` is given.

    Raises:
        PolicyFileError: the policy file has errors (each with its line).
    """
    clock = clock or SystemClock()
    new_id = new_id or random_id
    directory = directory or NoGroups()
    policy = policy or load_policy(settings.policy_path)
    database = Database(settings.database_url)
    crm = crm or connect_crm(settings, database, clock=clock, new_id=new_id)
    audit = AuditLog(clock)
    approvals = ApprovalService(
        database,
        policy=policy,
        audit=audit,
        clock=clock,
        new_id=new_id,
        directory=directory,
        notifier=notifier or SilentNotifier(),
        gather=lambda action: gather_facts(
            action, crm.get_many(action.object_type, action.record_ids), approvals.policy
        ),
    )
    built: list[Services] = []  # the executor and the worker reach the meeting service once it exists
    executor = Executor(crm, meetings=lambda: built[0].meetings().writer)
    runner = Runner(
        database,
        crm=crm,
        policy=policy,
        approvals=approvals,
        executor=executor,
        audit=audit,
        clock=clock,
        new_id=new_id,
    )
    worker = OutboxWorker(
        database,
        approvals=approvals,
        executor=executor,
        audit=audit,
        clock=clock,
        directory=directory,
        worker_id=settings.worker_id or f"{socket.gethostname()}:{os.getpid()}",
        replan=lambda action, reason: built[0].meetings().replan(action, reason),
    )
    services = Services(
        settings=settings,
        database=database,
        policy=policy,
        crm=crm,
        audit=audit,
        approvals=approvals,
        executor=executor,
        runner=runner,
        worker=worker,
        clock=clock,
        new_id=new_id,
    )
    built.append(services)
    return services
