"""Requests nobody decides: reminders, then escalation, then expiry with the policy's fallback.

The scheduler's tick calls :meth:`ExpiryTicker.tick` on every replica. Each step
is one guarded ``UPDATE`` (the reminder count moves from the value read, the
escalation time from NULL, the status from pending), so when replicas tick
together each step happens once. A step bumps the approval's ``revision``: the
card sync then updates the card and posts the nudge in its thread, from the
database, so a Slack outage delays a nudge but does not lose it.

Fallbacks at expiry (``expiry.<kind>.fallback`` in the policy):

- ``drop``: the request simply expires.
- ``routing_pool``: the records are routed by the routing rules instead (an
  unowned new lead is not left waiting); the routed change goes through the
  policy like any other. A change made by a fallback gets no fallback of its
  own, so nothing loops.
- ``escalate``: the request expires and the escalation target is told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update

from agent.approvals import ApprovalService
from agent.audit import AuditLog
from agent.errors import CRMNotFoundError
from agent.models import Approval
from agent.policy import expiry_for
from agent.policy_rules import ExpiryFallback, ExpiryRule
from agent.ports import Clock
from agent.routing import RoutingService
from agent.store.database import Database
from agent.store.rows import ApprovalRow

log = logging.getLogger(__name__)

FALLBACK_REQUESTER = "expiry:"
"""``requested_by`` prefix of changes a fallback made (they get no fallback themselves)."""

Step = Literal["remind", "escalate", "expire"]
Fallback = Callable[[Approval], str]
"""Applies a fallback to an expired request; returns one line saying what it did."""


def due_step(
    rule: ExpiryRule,
    *,
    created_at: datetime,
    expires_at: datetime,
    reminders_sent: int,
    escalated: bool,
    now: datetime,
) -> tuple[Step, int] | None:
    """The step a pending request is due for, with the reminder count it should then show.

    After downtime several reminders may be overdue: they count as sent, but
    only one is posted (nobody wants five reminders at once).
    """
    if now >= expires_at:
        return "expire", reminders_sent
    waited = now - created_at
    if rule.escalate_after is not None and not escalated and waited >= rule.escalate_after:
        return "escalate", reminders_sent
    if rule.remind_after is None or escalated:
        return None
    due = int(waited / rule.remind_after)
    if rule.escalate_after is not None:
        # Reminders stop at the escalation: the last one falls before it.
        before_escalation = -(-rule.escalate_after // rule.remind_after) - 1
        due = min(due, before_escalation)
    return ("remind", due) if due > reminders_sent else None


@dataclass
class TickReport:
    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    fallbacks: dict[str, str] = field(default_factory=dict)
    """Approval id -> what its fallback did."""


class ExpiryTicker:
    def __init__(
        self,
        database: Database,
        approvals: ApprovalService,
        audit: AuditLog,
        clock: Clock,
        *,
        fallbacks: Mapping[ExpiryFallback, Fallback] | None = None,
        batch: int = 200,
    ) -> None:
        self._db = database
        self._approvals = approvals
        self._audit = audit
        self._clock = clock
        self._fallbacks = dict(fallbacks or {})
        self._batch = batch

    def tick(self) -> TickReport:
        """Take every pending request one step further if it is due; safe on every replica at once."""
        report = TickReport()
        now = self._clock.now()
        with self._db.reading() as session:
            rows = session.execute(
                select(
                    ApprovalRow.id,
                    ApprovalRow.kind,
                    ApprovalRow.created_at,
                    ApprovalRow.expires_at,
                    ApprovalRow.reminders_sent,
                    ApprovalRow.escalated_at,
                )
                .where(ApprovalRow.status == "pending")
                .order_by(ApprovalRow.expires_at, ApprovalRow.id)
                .limit(self._batch)
            ).all()
        for approval_id, kind, created_at, expires_at, sent, escalated_at in rows:
            rule = expiry_for(self._approvals.policy, kind)
            step = due_step(
                rule,
                created_at=created_at,
                expires_at=expires_at,
                reminders_sent=sent or 0,
                escalated=escalated_at is not None,
                now=now,
            )
            if step is None:
                continue
            what, count = step
            if what == "expire":
                self._expire(approval_id, rule, report)
            elif self._nudge(approval_id, what, sent or 0, count, rule):
                (report.reminded if what == "remind" else report.escalated).append(approval_id)
        return report

    def _nudge(self, approval_id: str, what: Step, sent: int, count: int, rule: ExpiryRule) -> bool:
        now = self._clock.now()
        with self._db.transaction() as session:
            guard = ApprovalRow.reminders_sent == sent
            values: dict[str, object] = {"reminders_sent": count, "last_reminded_at": now}
            if what == "escalate":
                guard = ApprovalRow.escalated_at.is_(None)
                values = {"escalated_at": now}
            moved = session.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id, ApprovalRow.status == "pending", guard)
                .values(revision=ApprovalRow.revision + 1, updated_at=now, **values)
                .execution_options(synchronize_session=False)
            )
            if int(getattr(moved, "rowcount", 0)) != 1:
                return False  # another replica got there first, or it was decided meanwhile
            self._audit.append(
                session,
                actor="revgate",
                event="reminded" if what == "remind" else "escalated",
                subject=approval_id,
                rule="expiry",
                payload={"reminders": count} if what == "remind" else {"to": rule.escalate_to or "channel"},
            )
        self._approvals.notify_updated(approval_id)
        return True

    def _expire(self, approval_id: str, rule: ExpiryRule, report: TickReport) -> None:
        approval = self._approvals.expire(approval_id, escalate=rule.fallback == "escalate")
        if approval is None:
            return
        report.expired.append(approval_id)
        fallback = self._fallbacks.get(rule.fallback)
        if fallback is None or approval.requested_by.startswith(FALLBACK_REQUESTER):
            return
        try:
            outcome = fallback(approval)
        except Exception as error:  # the expiry stands; the fallback is reported, not retried
            log.exception("fallback %s for %s failed", rule.fallback, approval_id)
            outcome = f"failed: {type(error).__name__}: {error}"
        report.fallbacks[approval_id] = outcome
        with self._db.transaction() as session:
            self._audit.append(
                session,
                actor="revgate",
                event="expiry_fallback",
                subject=approval_id,
                rule=f"expiry fallback: {rule.fallback}",
                payload={"outcome": outcome},
            )


def routing_pool_fallback(routing: Callable[[], RoutingService]) -> Fallback:
    """Route the expired request's unowned leads by the routing rules, through the policy like any
    change (``routing``: the routing service, built when first needed)."""

    def apply(approval: Approval) -> str:
        if approval.action.object_type != "lead":
            return "nothing to route: not a lead"
        service = routing()
        requested_by = f"{FALLBACK_REQUESTER}{approval.id}"
        decisions = []
        for lead_id in approval.action.record_ids:
            try:
                decision = service.router.route(lead_id, requested_by=requested_by)
            except CRMNotFoundError:
                continue
            if decision.action is not None and decision.action.kind == "assign_owner":
                decisions.append(decision)
        if not decisions:
            return "nothing to route: every lead has an owner now"
        # One submission: the leads share the run's direct-write budget, as the request did.
        results = service.apply_many(decisions, requested_by=requested_by)
        done = ", ".join(f"{r.decision.lead.id} {r.status}" for r in results)
        return f"routed by the rules: {done}"

    return apply
