"""Routing as a service: decide, put the owner change through the policy, record, tell people.

:meth:`RoutingService.route` is what ``/route-lead`` and ``revgate route-lead`` call. The
decision's owner change is submitted like any other change (``Runner.submit``): the
policy lets ``assign_owner`` run and sends ``change_owner`` (the lead had an owner) to
approval. Every decision is recorded (``routing_assignments`` and the audit log) with
its full explanation; the assignee gets a direct message with the SLA deadline.

:meth:`RoutingService.tick` runs the SLA clocks (see :mod:`agent.routing.sla`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from agent.audit import AuditLog
from agent.errors import AgentError
from agent.models import Owner, Record
from agent.planner.quality_checks import CLOSED_STATUSES
from agent.ports import Clock, CRMClient
from agent.routing.availability import Load
from agent.routing.decision import RouteDecision
from agent.routing.engine import Router
from agent.run_report import ProposalOutcome
from agent.runner import Runner
from agent.store.database import Database
from agent.store.rows import RoutingAssignmentRow

if TYPE_CHECKING:
    from agent.meetings.service import BookingResult

log = logging.getLogger(__name__)

MeetingOfferHook = Callable[[Record, str], "BookingResult | None"]
"""Books a meeting for a routed lead (``MeetingService.book``), given the lead and who asked."""

UNWORKED_STATUSES = frozenset({"", "New"})
"""A lead still in one of these statuses has not been worked."""
COUNTED_STATUSES = ("open", "worked", "pending")
"""Assignments that count towards an owner's daily cap."""
LOAD_TTL_SECONDS = 60


@dataclass(frozen=True)
class AssignmentNotice:
    """What the assignee is told: the lead, why it is theirs, and by when to work it."""

    owner: Owner
    lead: Record
    rule: str
    lines: list[str]
    due_at: datetime | None
    stage: str = "assigned"
    """``assigned``, ``reminder``, ``escalation`` or ``reassigned``."""


class RoutingNotifier:
    """Tells people about routing; the Slack edge implements it, this one tells nobody."""

    def lead_assigned(self, notice: AssignmentNotice) -> None:
        """A direct message to the new owner (also used for SLA reminders)."""
        return None

    def routing_alert(self, channel: str | None, text: str) -> None:
        """A message to a channel: a lead in a queue, everyone unavailable, an SLA escalation."""
        return None


@dataclass(frozen=True)
class RoutingResult:
    decision: RouteDecision
    outcome: ProposalOutcome | None
    """How the policy took the owner change (``None``: no change, or a dry run)."""
    assignment_id: str | None
    dry_run: bool
    meeting: BookingResult | None = None
    """The meeting routing booked (or sent for approval) as its last step, when the lead asked."""

    @property
    def status(self) -> str:
        """As stored on the assignment: ``open``, ``pending``, ``queued``, ``unchanged``, ``refused``..."""
        return "dry run" if self.dry_run else _status(self.decision, self.outcome)


class OpenLeadCounts:
    """Open leads per owner, read from the CRM at most once a minute and kept up by our assignments."""

    def __init__(self, crm: CRMClient, clock: Clock, ttl_seconds: int = LOAD_TTL_SECONDS) -> None:
        self._crm = crm
        self._clock = clock
        self._ttl = ttl_seconds
        self._counts: Counter[str] = Counter()
        self._read_at: datetime | None = None

    def of(self, owner_id: str) -> int:
        now = self._clock.now()
        if self._read_at is None or (now - self._read_at).total_seconds() > self._ttl:
            counts: Counter[str] = Counter()
            for lead in self._crm.iter_records("lead"):
                if lead.owner_id and str(lead.fields.get("status") or "") not in CLOSED_STATUSES:
                    counts[lead.owner_id] += 1
            self._counts, self._read_at = counts, now
        return self._counts[owner_id]

    def add(self, owner_id: str) -> None:
        self._counts[owner_id] += 1


class RoutedCounts:
    """Leads routed to each owner per day (the owner's local date), read from the assignments
    at most once a minute per day and kept up by this process's routings.

    Daily caps are then checked without a query per member per decision; another process's
    routings are seen within the minute.
    """

    def __init__(self, database: Database, clock: Clock, ttl_seconds: int = LOAD_TTL_SECONDS) -> None:
        self._db = database
        self._clock = clock
        self._ttl = ttl_seconds
        self._days: dict[date, tuple[datetime, Counter[str]]] = {}

    def of(self, owner_id: str, day: date) -> int:
        now = self._clock.now()
        read = self._days.get(day)
        if read is None or (now - read[0]).total_seconds() > self._ttl:
            with self._db.reading() as session:
                rows = session.execute(
                    select(RoutingAssignmentRow.owner_id, func.count())
                    .where(
                        RoutingAssignmentRow.day == day,
                        RoutingAssignmentRow.owner_id.is_not(None),
                        RoutingAssignmentRow.status.in_(COUNTED_STATUSES),
                    )
                    .group_by(RoutingAssignmentRow.owner_id)
                )
                counts = Counter({str(owner): int(n) for owner, n in rows})
            for old in [d for d in self._days if abs((d - day).days) > 2]:
                del self._days[old]  # members' local days span at most two dates at once
            read = self._days[day] = (now, counts)
        return read[1][owner_id]

    def add(self, owner_id: str, day: date) -> None:
        if day in self._days:
            self._days[day][1][owner_id] += 1


class OwnerLoads:
    """Owners' loads for the capacity caps: open leads (the CRM's) and leads routed per day (ours).

    The router reads them through :meth:`of`; the service counts its own routings in with
    :meth:`add`, so the caps hold between two reads.
    """

    def __init__(self, open_leads: OpenLeadCounts, routed: RoutedCounts) -> None:
        self.open_leads = open_leads
        self.routed = routed

    def of(self, owner_id: str, day: date) -> Load:
        """An owner's open leads and leads routed to them on ``day`` (their local date)."""
        return Load(open_leads=self.open_leads.of(owner_id), today=self.routed.of(owner_id, day))

    def add(self, owner_id: str, day: date, *, opened: bool) -> None:
        """A lead routed to ``owner_id`` on ``day``; ``opened``: it is theirs now (not waiting)."""
        self.routed.add(owner_id, day)
        if opened:
            self.open_leads.add(owner_id)


class RoutingService:
    def __init__(
        self,
        router: Router,
        runner: Runner,
        database: Database,
        audit: AuditLog,
        *,
        clock: Clock,
        new_id: Callable[[], str],
        loads: OwnerLoads,
        notifier: RoutingNotifier | None = None,
        offer_meeting: MeetingOfferHook | None = None,
    ) -> None:
        """``loads``: the same the router reads (``Router(load_of=loads.of)``).

        ``offer_meeting``: the last step for a lead that asked for a meeting (the routing
        file's ``meetings.offer_when``) and is owned once routed.
        """
        self.router = router
        self._runner = runner
        self.database = database
        self._audit = audit
        self._clock = clock
        self._new_id = new_id
        self.notifier = notifier or RoutingNotifier()
        self.loads = loads
        self.offer_meeting = offer_meeting

    def load_of(self, owner_id: str, day: date) -> Load:
        """An owner's open leads (from the CRM) and leads routed to them on ``day`` (ours)."""
        return self.loads.of(owner_id, day)

    def route(self, ref: str, *, requested_by: str, dry_run: bool = False) -> RoutingResult:
        """Route one lead (by id or email).

        Raises:
            CRMNotFoundError: no such lead.
        """
        decision = self.router.route(ref, requested_by=requested_by, dry_run=dry_run)
        if dry_run:
            return RoutingResult(decision, None, None, dry_run=True)
        return self.apply(decision, requested_by=requested_by)

    def apply(self, decision: RouteDecision, *, requested_by: str, stage: int = 0) -> RoutingResult:
        """Submit the decision's owner change, record it, and tell the people concerned."""
        return self.apply_many([decision], requested_by=requested_by, stage=stage)[0]

    def apply_many(
        self, decisions: list[RouteDecision], *, requested_by: str, stage: int = 0
    ) -> list[RoutingResult]:
        """:meth:`apply` for several decisions, their changes submitted as one run (one budget)."""
        actions = [d.action for d in decisions if d.action is not None]
        outcomes: dict[str, ProposalOutcome] = {}
        if actions:
            report = self._runner.submit(
                actions, job="routing", trigger=f"route-lead:{requested_by}", planner="routing"
            )
            outcomes = {o.action.id: o for o in report.outcomes}
        results = []
        for decision in decisions:
            outcome = outcomes.get(decision.action.id) if decision.action is not None else None
            result = self._record(decision, outcome, requested_by=requested_by, stage=stage)
            results.append(self._with_meeting(result, requested_by))
        return results

    def wants_meeting(self, decision: RouteDecision) -> tuple[bool, str]:
        """Whether the lead asked for a meeting (the routing file's ``meetings.offer_when``), and why."""
        condition = self.router.config.meetings.offer_when
        if condition is None:
            return False, "the routing file has no meetings.offer_when"
        return condition.test(decision.values)

    def _with_meeting(self, result: RoutingResult, requested_by: str) -> RoutingResult:
        """Book the meeting a routed lead asked for, once it has its owner."""
        if self.offer_meeting is None or result.status not in ("open", "unchanged"):
            return result
        asked, _ = self.wants_meeting(result.decision)
        lead = self.router.crm.get("lead", result.decision.lead.id) if asked else None
        if lead is None or lead.owner_id is None:
            return result
        try:
            meeting = self.offer_meeting(lead, requested_by)
        except AgentError as error:  # routing stands whatever happens to the meeting
            log.warning("lead %s routed, but no meeting offered: %s", lead.id, error)
            return result
        return replace(result, meeting=meeting)

    def _record(
        self, decision: RouteDecision, outcome: ProposalOutcome | None, *, requested_by: str, stage: int
    ) -> RoutingResult:
        status = _status(decision, outcome)
        assignment_id = self._new_id()
        owner_id = decision.placement.owner_id
        zone_day = (
            self._clock.now().astimezone(self.router.working_time(owner_id).zone).date()
            if owner_id
            else self._clock.now().date()
        )
        record = decision.as_record()
        with self.database.transaction() as session:
            session.add(
                RoutingAssignmentRow(
                    id=assignment_id,
                    lead_id=decision.lead.id,
                    owner_id=owner_id,
                    previous_owner_id=decision.lead.owner_id,
                    pool=decision.placement.pool,
                    queue=decision.placement.queue,
                    rule=decision.rule,
                    status=status,
                    stage=stage,
                    day=zone_day,
                    routed_at=decision.decided_at,
                    due_at=decision.sla_due_at if status == "open" else None,
                    approval_id=outcome.approval_id if outcome else None,
                    decision={**record, "disposition": outcome.disposition if outcome else None},
                )
            )
            self._audit.append(
                session,
                actor=requested_by,
                event="routing.decided",
                subject=f"lead:{decision.lead.id}",
                rule=decision.rule,
                payload={**record, "assignment_id": assignment_id, "status": status},
            )
        if status in COUNTED_STATUSES and owner_id is not None:
            self.loads.add(owner_id, zone_day, opened=status == "open")
        self._notify(decision, status)
        return RoutingResult(decision, outcome, assignment_id, dry_run=False)

    def _notify(self, decision: RouteDecision, status: str) -> None:
        queue = self.router.config.queues.get(decision.queue) if decision.queue else None
        if decision.alert:
            self.notifier.routing_alert(
                queue.channel if queue else None, f"{decision.alert}: {decision.explanation[0]}"
            )
        elif decision.queue is not None:
            self.notifier.routing_alert(
                queue.channel if queue else None,
                f"New lead in queue {decision.queue}: " + " ".join(decision.explanation),
            )
        if status == "open" and decision.chosen is not None:
            self.notifier.lead_assigned(
                AssignmentNotice(
                    owner=decision.chosen,
                    lead=decision.lead,
                    rule=decision.rule,
                    lines=decision.explanation,
                    due_at=decision.sla_due_at,
                    stage="assigned" if decision.current is None else "reassigned",
                )
            )


def _status(decision: RouteDecision, outcome: ProposalOutcome | None) -> str:
    """``open`` (owned, SLA running), ``pending`` (waiting for approval), ``queued``, ``unchanged``,
    or how the policy took the change (``refused``, ``failed``...)."""
    if decision.queue is not None and (outcome is None or outcome.disposition == "executed"):
        return "queued"
    if outcome is None:
        return "unchanged"
    return {"executed": "open", "queued": "pending"}.get(outcome.disposition, outcome.disposition)
