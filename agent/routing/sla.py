"""SLA clocks of routed leads: a reminder, then an escalation, then a reassignment.

Steps are counted in the owner's working minutes from the moment the lead was
routed (``sla.remind_after``, ``escalate_after``, ``reassign_after``). A lead whose
status has moved off ``New`` (or whose owner someone changed) counts as worked and its
clock stops. The reassignment routes the lead again without its current owner; since
that changes an existing owner, it goes through the policy (an approval card by default).

A routing waiting for its approval (``pending``) starts its clock once the lead has
the routed owner; when the approval ends otherwise (rejected, expired...) the routing is
closed with that status. A reassignment's new routing starts from the first step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from agent.models import Owner, Record
from agent.routing.service import UNWORKED_STATUSES, AssignmentNotice, RoutingService
from agent.store.rows import ApprovalRow, RoutingAssignmentRow

FALLBACK_REQUESTER = "revgate:sla"
WAITING_APPROVAL = frozenset({"pending", "approved", "executing"})
"""Approval states in which a pending routing may still be carried out."""


@dataclass
class SlaReport:
    started: int = 0
    worked: int = 0
    reminded: int = 0
    escalated: int = 0
    closed: int = 0
    """Pending routings whose owner change will not happen (rejected, expired...)."""
    reassigned: list[str] = field(default_factory=list)
    """Lead ids re-routed, with how the policy took each (``L1 queued``)."""


def tick(service: RoutingService, now: datetime, *, limit: int = 500) -> SlaReport:
    """Move every due SLA clock one step; returns what was done."""
    report = SlaReport()
    crm = service.router.crm
    sla = service.router.config.sla
    # Waiting routings and due clocks are read apart, each up to ``limit``: a backlog of
    # approvals must never keep due clocks from moving.
    with service.database.reading() as session:
        pending = list(
            session.scalars(
                select(RoutingAssignmentRow)
                .where(RoutingAssignmentRow.status == "pending")
                .order_by(RoutingAssignmentRow.routed_at, RoutingAssignmentRow.id)
                .limit(limit)
            )
        )
        due = list(
            session.scalars(
                select(RoutingAssignmentRow)
                .where(RoutingAssignmentRow.status == "open", RoutingAssignmentRow.due_at <= now)
                .order_by(RoutingAssignmentRow.due_at, RoutingAssignmentRow.id)
                .limit(limit)
            )
        )
        approval_ids = [row.approval_id for row in pending if row.approval_id is not None]
        approvals = (
            dict(
                session.execute(
                    select(ApprovalRow.id, ApprovalRow.status).where(ApprovalRow.id.in_(approval_ids))
                ).all()
            )
            if approval_ids
            else {}
        )
    rows = pending + due
    owners: dict[str, Owner] | None = None
    for row in rows:
        lead = crm.get("lead", row.lead_id)
        if lead is None:
            _claim(service, row, status="closed", due_at=None)
            continue
        if row.status == "pending":
            if lead.owner_id == row.owner_id and row.owner_id is not None:
                due_at = service.router.working_time(row.owner_id).add_working_minutes(now, sla.remind_after)
                if _claim(service, row, status="open", due_at=due_at, routed_at=now):
                    report.started += 1
                    _tell_new_owner(service, row, lead, due_at)
                continue
            decided = approvals.get(row.approval_id) if row.approval_id else None
            if decided not in WAITING_APPROVAL:
                # Rejected, expired, superseded, failed, or carried out and then changed
                # again by someone: this routing will never start its clock.
                closed = "closed" if decided in (None, "executed") else decided
                if _claim(service, row, status=closed, due_at=None):
                    report.closed += 1
            continue
        if lead.owner_id != row.owner_id or str(lead.fields.get("status") or "") not in UNWORKED_STATUSES:
            if _claim(service, row, status="worked", due_at=None, worked_at=now):
                report.worked += 1
            continue
        assert row.owner_id is not None
        calendar = service.router.working_time(row.owner_id)
        if owners is None:
            owners = {o.id: o for o in crm.owners()}  # once a tick, fresh: a reassignment needs them
        owner = owners.get(row.owner_id)
        elapsed = calendar.working_minutes_between(row.routed_at, now)
        # Each step is claimed before it acts, so two replicas ticking together act once.
        if row.stage == 0 and owner is not None:
            escalate_at = calendar.add_working_minutes(row.routed_at, sla.escalate_after)
            if not _claim(service, row, stage=1, due_at=escalate_at):
                continue
            service.notifier.lead_assigned(
                AssignmentNotice(
                    owner,
                    lead,
                    row.rule,
                    [f"Reminder: {elapsed} working minutes since this lead was routed to you."],
                    escalate_at,
                    stage="reminder",
                )
            )
            report.reminded += 1
        elif row.stage == 1:
            reassign_at = calendar.add_working_minutes(row.routed_at, sla.reassign_after)
            if not _claim(service, row, stage=2, due_at=reassign_at):
                continue
            name = owner.name if owner else row.owner_id
            service.notifier.routing_alert(
                sla.escalation_channel,
                f"Lead {lead.id} routed to {name} has not been worked after {elapsed} working minutes "
                f"(rule {row.rule}); it is reassigned after {sla.reassign_after}.",
            )
            report.escalated += 1
        else:
            if not _claim(service, row, status="reassigned", stage=3, due_at=None):
                continue
            try:
                decision = service.router.decide(
                    lead, requested_by=FALLBACK_REQUESTER, owners=owners, exclude=frozenset({row.owner_id})
                )
                # The new routing's clock starts from its first step (stage 0) for its new owner.
                result = service.apply(decision, requested_by=FALLBACK_REQUESTER)
            except Exception:
                # Not reassigned after all: the next tick tries again.
                moved_on = RoutingAssignmentRow(id=row.id, status="reassigned", stage=3)
                _claim(service, moved_on, status="open", stage=2, due_at=row.due_at)
                raise
            report.reassigned.append(f"{lead.id} {result.status}")
    return report


def _tell_new_owner(
    service: RoutingService, row: RoutingAssignmentRow, lead: Record, due_at: datetime
) -> None:
    """The approved owner change is made: the new owner hears of the lead and its deadline."""
    owner = service.router.crm.get_owner(row.owner_id) if row.owner_id else None
    if owner is None:
        return
    explained = [str(line) for line in row.decision.get("explanation") or []]
    lines = [line for line in explained[1:] if not line.startswith("This changes the owner")]
    lines.append("The owner change was approved; the SLA clock starts now.")
    service.notifier.lead_assigned(
        AssignmentNotice(
            owner,
            lead,
            row.rule,
            lines,
            due_at,
            stage="assigned" if row.previous_owner_id is None else "reassigned",
        )
    )


def _claim(service: RoutingService, row: RoutingAssignmentRow, **values: object) -> bool:
    """Move the row on, guarded by the status and stage it was read with: ``False`` when another
    replica's tick moved it first (that tick sends the message; this one does nothing)."""
    with service.database.transaction() as session:
        moved = session.execute(
            update(RoutingAssignmentRow)
            .where(
                RoutingAssignmentRow.id == row.id,
                RoutingAssignmentRow.status == row.status,
                RoutingAssignmentRow.stage == row.stage,
            )
            .values(**values)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]
