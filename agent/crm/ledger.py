"""The idempotency keys of a remote CRM adapter, kept in revgate's own database.

HubSpot and Salesforce take no idempotency key, yet the CRM port promises that a
replayed write writes nothing. So an adapter claims the key here *before* its
request leaves (``started``) and marks it ``done`` once the CRM has answered:

- a key that is ``done`` is a replay: the adapter writes nothing and returns the
  record (or note) as it is now;
- a key that is ``started`` belongs to an attempt whose outcome nobody saw (the
  process died, or the CRM answered 5xx after the request left). The adapter then
  looks at the CRM to tell "applied" from "not applied" before it writes again;
- an attempt the CRM refused before anything was written (a conflict, a validation
  or auth error) is ``release``\\ d, so the key is free for a corrected retry.

A merge that takes several requests (HubSpot merges two records at a time) records
how far it got with ``progress``, so a retry continues the chain instead of starting
it over.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from agent.errors import CRMError, CRMUnavailableError, CRMValidationError
from agent.ports import Clock
from agent.store.database import Database
from agent.store.rows import CRMWriteLedgerRow

MAX_KEY_LENGTH = 120

LedgerState = Literal["started", "done"]


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger knows of one key."""

    key: str
    operation: str
    record_id: str
    state: LedgerState
    result_ref: str | None
    """What the write produced (a note id, a merge's surviving id) or, while started, how far it got."""

    @property
    def done(self) -> bool:
        return self.state == "done"


class WriteLedger:
    """Idempotency keys of one CRM (``crm`` tells HubSpot's keys from Salesforce's)."""

    def __init__(self, database: Database, *, crm: str, clock: Clock) -> None:
        self._db = database
        self._crm = crm
        self._clock = clock

    def claim(self, key: str, operation: str, record_id: str) -> LedgerEntry | None:
        """Claim ``key`` for a write; ``None`` when it is new, else the entry it already has.

        A key already used for another operation or record raises ``CRMValidationError``:
        reusing a key for a different write is a caller bug, never a replay.
        """
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"idempotency key must be 1-{MAX_KEY_LENGTH} characters")
        try:
            with self._db.transaction() as session:
                session.add(
                    CRMWriteLedgerRow(
                        crm=self._crm,
                        key=key,
                        operation=operation,
                        record_id=record_id,
                        state="started",
                        result_ref=None,
                        started_at=self._clock.now(),
                        finished_at=None,
                    )
                )
            return None
        except IntegrityError:
            pass
        entry = self.entry(key)
        if entry is None:  # released between our insert and this read: claim it afresh
            return self.claim(key, operation, record_id)
        if (entry.operation, entry.record_id) != (operation, record_id):
            raise CRMValidationError(
                f"idempotency key {key!r} was already used for {entry.operation} of {entry.record_id}, "
                f"not {operation} of {record_id}"
            )
        return entry

    def entry(self, key: str) -> LedgerEntry | None:
        with self._db.reading() as session:
            row = session.get(CRMWriteLedgerRow, (self._crm, key))
            if row is None:
                return None
            state: LedgerState = "done" if row.state == "done" else "started"
            return LedgerEntry(row.key, row.operation, row.record_id, state, row.result_ref)

    def progress(self, key: str, result_ref: str) -> None:
        """Record how far a many-step write got (still ``started``)."""
        self._set(key, state="started", result_ref=result_ref, finished=False)

    def finish(self, key: str, result_ref: str | None = None) -> None:
        """The CRM applied the write: later calls with ``key`` are replays."""
        self._set(key, state="done", result_ref=result_ref, finished=True)

    @contextmanager
    def sending(self, key: str, *, releasable: bool = True) -> Iterator[None]:
        """Around the request that writes: what its outcome means for ``key``.

        A refusal (any ``CRMError`` but ``CRMUnavailableError``) wrote nothing, so the key is
        released for a corrected retry, unless an earlier step of the same write already
        applied (``releasable=False``). After a 5xx or an unreachable CRM the key stays
        ``started``: the write may have landed, and the next attempt looks before writing.
        """
        try:
            yield
        except CRMUnavailableError:
            raise
        except CRMError:
            if releasable:
                self.release(key)
            raise

    def release(self, key: str) -> None:
        """The attempt wrote nothing: forget the claim so a retry may write."""
        with self._db.transaction() as session:
            session.execute(
                delete(CRMWriteLedgerRow).where(
                    CRMWriteLedgerRow.crm == self._crm,
                    CRMWriteLedgerRow.key == key,
                    CRMWriteLedgerRow.state == "started",
                )
            )

    def _set(self, key: str, *, state: LedgerState, result_ref: str | None, finished: bool) -> None:
        with self._db.transaction() as session:
            session.execute(
                update(CRMWriteLedgerRow)
                .where(CRMWriteLedgerRow.crm == self._crm, CRMWriteLedgerRow.key == key)
                .values(
                    state=state,
                    result_ref=result_ref,
                    finished_at=self._clock.now() if finished else None,
                )
            )
