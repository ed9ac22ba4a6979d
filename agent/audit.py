"""The append-only audit log, chained by hash so that an edited, removed or
reordered event is detected by ``verify``.

Each event's hash is SHA-256 over its canonical JSON (seq, time, actor, event,
subject, rule, payload) and the previous event's hash. Appends lock the single
``audit_head`` row, so concurrent writers on PostgreSQL queue up instead of
forking the chain (on SQLite every write transaction is already serialised).
Append as the last step of a unit of work, to keep that lock short.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.errors import AuditChainError
from agent.ports import Clock
from agent.store.rows import AuditEventRow, AuditHeadRow

GENESIS_HASH = "0" * 64


class AuditEvent(BaseModel):
    """One audit event, as stored."""

    model_config = ConfigDict(frozen=True)

    seq: int
    at: datetime
    actor: str
    event: str
    subject: str | None
    rule: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Entry:
    """One event to append (see :meth:`AuditLog.append_many`)."""

    actor: str
    event: str
    payload: dict[str, Any]
    subject: str | None = None
    rule: str | None = None


class VerifyReport(BaseModel):
    events: int
    head: str


def event_hash(row: AuditEventRow) -> str:
    """SHA-256 over the event's canonical JSON, including the previous event's hash."""
    body = {
        "seq": row.seq,
        "at": row.at.isoformat(timespec="microseconds"),
        "actor": row.actor,
        "event": row.event,
        "subject": row.subject,
        "rule": row.rule,
        "payload": row.payload,
        "prev": row.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditLog:
    """Appends to and checks the audit chain."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def append(
        self,
        session: Session,
        *,
        actor: str,
        event: str,
        payload: dict[str, Any],
        subject: str | None = None,
        rule: str | None = None,
    ) -> AuditEvent:
        """Append one event inside the caller's transaction (it commits with it)."""
        entry = Entry(actor=actor, event=event, payload=payload, subject=subject, rule=rule)
        return self.append_many(session, [entry])[0]

    def append_many(self, session: Session, entries: Sequence[Entry]) -> list[AuditEvent]:
        """Append several events, in order, inside the caller's transaction: the head row is
        locked and moved once, and the rows go in one flush (a run's batch of proposals)."""
        if not entries:
            return []
        head = session.execute(
            select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()
        ).scalar_one()
        at = self._clock.now().astimezone(UTC)
        seq, prev = head.seq, head.hash
        rows = []
        for entry in entries:
            # Round-trip through JSON now so the hash covers exactly what is stored.
            stored_payload = json.loads(json.dumps(entry.payload, default=str))
            seq += 1
            row = AuditEventRow(
                seq=seq,
                at=at,
                actor=entry.actor,
                event=entry.event,
                subject=entry.subject,
                rule=entry.rule,
                payload=stored_payload,
                prev_hash=prev,
            )
            row.hash = prev = event_hash(row)
            rows.append(row)
        session.add_all(rows)
        head.seq, head.hash = seq, prev
        session.flush()
        return [_to_event(row) for row in rows]

    def verify(self, session: Session, *, batch_size: int = 1000) -> VerifyReport:
        """Walk the whole chain; raise ``AuditChainError`` at the first broken link."""
        expected_prev = GENESIS_HASH
        expected_seq = 1
        for row in _iter_rows(session, batch_size):
            if row.seq != expected_seq:
                raise AuditChainError(expected_seq, f"missing (next stored event is {row.seq})")
            if row.prev_hash != expected_prev:
                raise AuditChainError(row.seq, "does not link to the event before it")
            if event_hash(row) != row.hash:
                raise AuditChainError(
                    row.seq, "content does not match its hash (edited after it was written)"
                )
            expected_prev = row.hash
            expected_seq += 1
        head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1)).scalar_one()
        if head.seq != expected_seq - 1 or head.hash != expected_prev:
            raise AuditChainError(head.seq, "the chain head does not match the last event (events removed)")
        return VerifyReport(events=expected_seq - 1, head=expected_prev)

    def tail(self, session: Session, limit: int = 20, *, subject: str | None = None) -> list[AuditEvent]:
        """The latest events, oldest first."""
        query = select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(limit)
        if subject is not None:
            query = query.where(AuditEventRow.subject == subject)
        rows = session.execute(query).scalars().all()
        return [_to_event(row) for row in reversed(rows)]

    def count(self, session: Session) -> int:
        return int(session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one())


def _iter_rows(session: Session, batch_size: int) -> Iterator[AuditEventRow]:
    after = 0
    while True:
        rows = (
            session.execute(
                select(AuditEventRow)
                .where(AuditEventRow.seq > after)
                .order_by(AuditEventRow.seq)
                .limit(batch_size)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def _to_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        event=row.event,
        subject=row.subject,
        rule=row.rule,
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
