"""What people said no to: rejections per record and action kind.

A rejected change is not proposed again for the same record until the record
changes (its version moves on); the reasons are kept for planners to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.models import ProposedAction
from agent.store.database import Database
from agent.store.rows import RejectionRow


@dataclass(frozen=True)
class Rejection:
    approval_id: str
    kind: str
    object_type: str
    record_id: str
    record_version: str
    reason: str
    user_id: str
    at: datetime


def remember(
    session: Session, action: ProposedAction, *, approval_id: str, reason: str, user: str, at: datetime
) -> None:
    """Store a rejection for every record of ``action`` (inside the rejecting transaction)."""
    for target in action.targets:
        session.add(
            RejectionRow(
                approval_id=approval_id,
                kind=action.kind,
                object_type=action.object_type,
                record_id=target.record_id,
                record_version=target.version,
                reason=reason,
                user_id=user,
                at=at,
            )
        )


class RejectionMemory:
    """Reads the rejections people have made."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def for_records(self, object_type: str, record_ids: Iterable[str]) -> list[Rejection]:
        ids = sorted(set(record_ids))
        found: list[Rejection] = []
        with self._db.reading() as session:
            for start in range(0, len(ids), 500):
                rows = session.execute(
                    select(RejectionRow)
                    .where(
                        RejectionRow.object_type == object_type,
                        RejectionRow.record_id.in_(ids[start : start + 500]),
                    )
                    .order_by(RejectionRow.id)
                ).scalars()
                found.extend(_to_rejection(row) for row in rows)
        return found

    def suppresses(self, action: ProposedAction, rejections: Iterable[Rejection]) -> Rejection | None:
        """The rejection that rules ``action`` out (see :class:`RejectionIndex`)."""
        return RejectionIndex(rejections).suppressing(action)


class RejectionIndex:
    """Rejections keyed for lookup, built once for all the actions of a run."""

    def __init__(self, rejections: Iterable[Rejection]) -> None:
        self._by_key = {(r.kind, r.record_id, r.record_version): r for r in rejections}

    def suppressing(self, action: ProposedAction) -> Rejection | None:
        """The rejection that rules ``action`` out: same kind, same record, same version, for every record."""
        matches = [self._by_key.get((action.kind, t.record_id, t.version)) for t in action.targets]
        if matches and all(m is not None for m in matches):
            return matches[0]
        return None


def _to_rejection(row: RejectionRow) -> Rejection:
    return Rejection(
        approval_id=row.approval_id,
        kind=row.kind,
        object_type=row.object_type,
        record_id=row.record_id,
        record_version=row.record_version,
        reason=row.reason,
        user_id=row.user_id,
        at=row.at,
    )
