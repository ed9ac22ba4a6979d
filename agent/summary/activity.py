"""What the day's runs and people did, per hygiene check: read from ``proposals`` and ``approvals``.

Proposals of dry runs are left out (they changed nothing). A bulk bundle (check
``bulk``) counts under the check its members came from when they came from one
(the runner notes them in ``evidence["checks"]``), so "format fixes: 140 found,
25 fixed, 115 waiting" reads as one line. Counts are distinct records per check
and column; a record flagged by every run of the day counts once.

When things happened: a proposal by its ``created_at``; an approval or a
rejection by ``decided_at``; an expiry by ``updated_at`` (the expiring transition
sets it, and nothing moves an expired request afterwards). "Pending" is a state,
not an event: requests queued before the window ended and still pending now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from agent.planner.suggestions import APPROVED_STATUSES
from agent.store.database import Database
from agent.store.rows import ApprovalRow, ProposalRow, RunRow
from agent.summary.models import CheckCounts

FOUND_DISPOSITIONS = frozenset({"executed", "queued", "refused", "failed", "superseded", "duplicate"})
"""A check flagged the record (``suppressed``: a person said no before; ``planned``: a dry run)."""

RecordKey = tuple[str, str]


def check_of(action: Mapping[str, Any]) -> str:
    """The check that proposed a stored action; a single-check bulk bundle counts as that check."""
    check = str(action.get("check") or "")
    if check == "bulk":
        members = str((action.get("evidence") or {}).get("checks") or "")
        names = [name.strip() for name in members.split(",") if name.strip()]
        if len(names) == 1:
            return names[0]
    return check or "other"


def records_of(action: Mapping[str, Any]) -> set[RecordKey]:
    object_type = str(action.get("object_type") or "")
    return {(object_type, str(t.get("record_id"))) for t in action.get("targets") or []}


@dataclass
class _Tally:
    found: set[RecordKey] = field(default_factory=set)
    auto_fixed: set[RecordKey] = field(default_factory=set)
    pending: set[RecordKey] = field(default_factory=set)
    approved: set[RecordKey] = field(default_factory=set)
    rejected: set[RecordKey] = field(default_factory=set)
    expired: set[RecordKey] = field(default_factory=set)
    failed: set[RecordKey] = field(default_factory=set)

    def counts(self) -> CheckCounts:
        return CheckCounts(
            found=len(self.found),
            auto_fixed=len(self.auto_fixed),
            pending=len(self.pending),
            approved=len(self.approved),
            rejected=len(self.rejected),
            expired=len(self.expired),
            failed=len(self.failed),
        )


def count_by_check(
    proposals: Iterable[tuple[str, Mapping[str, Any]]],
    decisions: Iterable[tuple[str, Mapping[str, Any]]],
) -> dict[str, CheckCounts]:
    """Per check, from ``(disposition, action)`` of proposals and ``(column, action)`` of approvals.

    ``column`` is one of ``pending``, ``approved``, ``rejected``, ``expired``, ``failed``. Pure.
    """
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for disposition, action in proposals:
        tally, keys = tallies[check_of(action)], records_of(action)
        if disposition in FOUND_DISPOSITIONS:
            tally.found |= keys
        if disposition == "executed":
            tally.auto_fixed |= keys
        elif disposition == "failed":
            tally.failed |= keys
    for column, action in decisions:
        getattr(tallies[check_of(action)], column).update(records_of(action))
    return {check: tally.counts() for check, tally in tallies.items()}


def day_proposals(database: Database, start: datetime, end: datetime) -> list[ProposalRow]:
    """Proposals of real (not dry) runs created in ``[start, end)``, oldest first."""
    with database.reading() as session:
        return list(
            session.execute(
                select(ProposalRow)
                .join(RunRow, RunRow.id == ProposalRow.run_id)
                .where(
                    RunRow.dry_run.is_(False),
                    ProposalRow.created_at >= start,
                    ProposalRow.created_at < end,
                )
                .order_by(ProposalRow.created_at, ProposalRow.id)
            )
            .scalars()
            .all()
        )


def day_decisions(database: Database, start: datetime, end: datetime) -> list[tuple[str, ApprovalRow]]:
    """``(column, approval)``: requests decided, expired or failed in ``[start, end)``; pending ones."""
    in_window = and_(ApprovalRow.decided_at >= start, ApprovalRow.decided_at < end)
    updated_in_window = and_(ApprovalRow.updated_at >= start, ApprovalRow.updated_at < end)
    with database.reading() as session:
        rows = (
            session.execute(
                select(ApprovalRow)
                .where(
                    or_(
                        and_(ApprovalRow.status == "pending", ApprovalRow.created_at < end),
                        and_(ApprovalRow.status.in_(sorted(APPROVED_STATUSES | {"rejected"})), in_window),
                        and_(ApprovalRow.status.in_(["expired", "failed"]), updated_in_window),
                    )
                )
                .order_by(ApprovalRow.created_at, ApprovalRow.id)
            )
            .scalars()
            .all()
        )
    found: list[tuple[str, ApprovalRow]] = []
    for row in rows:
        if row.status == "pending":
            found.append(("pending", row))
            continue
        if row.status == "rejected":
            found.append(("rejected", row))
        elif row.status == "expired":
            found.append(("expired", row))
        elif row.decided_at is not None and start <= row.decided_at < end:
            found.append(("approved", row))
        if row.status == "failed" and start <= row.updated_at < end:
            found.append(("failed", row))
    return found
