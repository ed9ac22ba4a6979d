"""Claims on scheduled runs: every replica fires a job, exactly one runs each slot.

A *slot* is one logical run of a job, named by ``(job, run_key)``; the run key
comes from the scheduled fire time, so every replica computes the same one.
The ``job_claims`` table has that pair as its primary key, and a claim moves
through one small state machine::

    (none) ──insert──► running ─┬─► done                  (never claimed again)
                         ▲      └─► failed (retry_after) ─┐
                         │   lease passed, or retry due   │
                         └───── guarded takeover ◄────────┘

- **First claim**: an ``INSERT`` of the row in its own transaction. The primary
  key lets exactly one insert win; the others get an ``IntegrityError``. (It is a
  transaction of its own on purpose: on PostgreSQL a failed statement aborts the
  transaction it is in, so the takeover below must not share it.)
- **Takeover**: one guarded ``UPDATE ... WHERE status IN ('running', 'failed')
  AND lease_until < :now AND attempts < :max``. A ``running`` row whose lease
  passed belongs to a replica that died (a live holder renews its lease with
  :meth:`JobClaims.renew`); a ``failed`` row's ``lease_until`` is the earliest
  retry. One statement, so two replicas taking over the same dead claim cannot
  both win: PostgreSQL re-checks the guard on the row it locked, and SQLite
  writers queue behind ``BEGIN IMMEDIATE``.
- **Attempts**: the first claim is attempt 1 and every takeover adds one, dead
  holders included, so a job that kills its process cannot loop forever. After
  ``max_attempts`` (3 by default) the slot stays as it is, for a person to read.
- ``renew``, ``finish`` and ``fail`` only act while the caller still holds the
  claim (same holder, same attempt, still ``running``); a replica that lost its
  claim to a takeover learns it from their ``False``.

Time comes from the injected clock; leases are compared with it, so every
replica's clock should be roughly right (NTP), as for any lease.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.exc import IntegrityError

from agent.ports import Clock
from agent.store.database import Database
from agent.store.rows import JobClaimRow

log = logging.getLogger(__name__)

ClaimStatus = Literal["running", "done", "failed"]

MAX_ATTEMPTS = 3
"""A slot runs at most three times: the first claim and two takeovers or retries."""
RETRY_AFTER = timedelta(minutes=5)
"""How long a failed slot waits before another attempt: long enough for a Slack or CRM blip to pass."""
MAX_ERROR_CHARS = 2000
KEEP_FOR = timedelta(days=30)
"""Settled claims are kept this long (history, and a late replica's catch-up must still find them)."""


@dataclass(frozen=True)
class Claim:
    """Proof that the caller holds one slot; pass it to ``renew``, ``finish`` or ``fail``."""

    job: str
    run_key: str
    holder: str
    attempt: int
    lease: timedelta
    lease_until: datetime


@dataclass(frozen=True)
class ClaimRecord:
    """A slot's row as stored (for reports, the rescue pass and tests)."""

    job: str
    run_key: str
    holder: str
    status: ClaimStatus
    attempts: int
    claimed_at: datetime
    lease_until: datetime
    finished_at: datetime | None
    result: dict[str, Any] | None
    error: str | None


class JobClaims:
    """Claims slots of scheduled jobs in the database, identically on SQLite and PostgreSQL."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock,
        max_attempts: int = MAX_ATTEMPTS,
        retry_after: timedelta = RETRY_AFTER,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._db = database
        self._clock = clock
        self.max_attempts = max_attempts
        self._retry_after = retry_after

    def claim(self, job: str, run_key: str, *, holder: str, lease: timedelta) -> Claim | None:
        """Hold the slot for ``lease``, or ``None`` when another holder has it (or it is settled).

        Exactly one concurrent caller gets a claim for a new slot. A ``done`` slot
        is never claimed again; a dead holder's or a failed slot is taken over
        once its lease (or retry delay) has passed, up to ``max_attempts``.
        """
        now = self._clock.now()
        until = now + lease
        try:
            with self._db.transaction() as session:
                session.add(
                    JobClaimRow(
                        job=job,
                        run_key=run_key,
                        holder=holder,
                        status="running",
                        attempts=1,
                        claimed_at=now,
                        lease_until=until,
                    )
                )
                session.flush()
        except IntegrityError:
            return self._take_over(job, run_key, holder=holder, lease=lease, now=now)
        return Claim(job, run_key, holder, 1, lease, until)

    def _take_over(
        self, job: str, run_key: str, *, holder: str, lease: timedelta, now: datetime
    ) -> Claim | None:
        until = now + lease
        with self._db.transaction() as session:
            previous = session.execute(
                select(JobClaimRow.holder, JobClaimRow.status).where(*self._slot(job, run_key))
            ).one_or_none()
            result = session.execute(
                update(JobClaimRow)
                .where(
                    *self._slot(job, run_key),
                    JobClaimRow.status.in_(("running", "failed")),
                    JobClaimRow.lease_until < now,
                    JobClaimRow.attempts < self.max_attempts,
                )
                .values(
                    holder=holder,
                    status="running",
                    attempts=JobClaimRow.attempts + 1,
                    claimed_at=now,
                    lease_until=until,
                    finished_at=None,
                )
                .execution_options(synchronize_session=False)
            )
            if int(getattr(result, "rowcount", 0)) != 1:
                return None
            attempt = session.execute(
                select(JobClaimRow.attempts).where(*self._slot(job, run_key))
            ).scalar_one()
        if previous is not None:
            log.warning("%s %s: attempt %d, taken over from %s (%s)", job, run_key, attempt, *previous)
        return Claim(job, run_key, holder, attempt, lease, until)

    def renew(self, claim: Claim) -> Claim | None:
        """Extend the lease by ``claim.lease`` from now; ``None`` when the claim was lost."""
        until = self._clock.now() + claim.lease
        if not self._settle(claim, lease_until=until):
            return None
        return Claim(claim.job, claim.run_key, claim.holder, claim.attempt, claim.lease, until)

    def finish(self, claim: Claim, result: Mapping[str, Any]) -> bool:
        """Mark the slot done with its result (JSON-able); ``False`` when the claim was lost."""
        return self._settle(
            claim, status="done", finished_at=self._clock.now(), result=dict(result), error=None
        )

    def fail(self, claim: Claim, error: str) -> bool:
        """Mark the slot failed; it may be retried after ``retry_after`` while attempts remain."""
        now = self._clock.now()
        return self._settle(
            claim,
            status="failed",
            finished_at=now,
            lease_until=now + self._retry_after,
            error=error[:MAX_ERROR_CHARS],
        )

    def get(self, job: str, run_key: str) -> ClaimRecord | None:
        with self._db.reading() as session:
            row = session.execute(select(JobClaimRow).where(*self._slot(job, run_key))).scalar_one_or_none()
            return None if row is None else _record(row)

    def history(self, job: str, *, limit: int = 50) -> list[ClaimRecord]:
        """A job's most recent slots, newest claim first."""
        with self._db.reading() as session:
            rows = session.execute(
                select(JobClaimRow)
                .where(JobClaimRow.job == job)
                .order_by(JobClaimRow.claimed_at.desc(), JobClaimRow.run_key.desc())
                .limit(limit)
            ).scalars()
            return [_record(row) for row in rows]

    def takeable(self, jobs: Iterable[str], *, within: timedelta) -> list[tuple[str, str]]:
        """``(job, run_key)`` of slots claimed in the last ``within`` that a takeover would win now.

        That is: running with a lapsed lease (the holder died) or failed with its
        retry due, attempts remaining. The scheduler's rescue pass runs these.
        """
        names = sorted(set(jobs))
        if not names:
            return []
        now = self._clock.now()
        since = now - within
        with self._db.reading() as session:
            found = session.execute(
                select(JobClaimRow.job, JobClaimRow.run_key)
                .where(
                    JobClaimRow.job.in_(names),
                    JobClaimRow.status.in_(("running", "failed")),
                    JobClaimRow.lease_until < now,
                    JobClaimRow.attempts < self.max_attempts,
                    JobClaimRow.claimed_at >= since,
                )
                .order_by(JobClaimRow.claimed_at, JobClaimRow.job, JobClaimRow.run_key)
            ).all()
        return [(job, run_key) for job, run_key in found]

    def prune(self, *, keep_for: timedelta = KEEP_FOR) -> int:
        """Delete settled slots (done, or failed with no attempt left) claimed before ``keep_for``; how many.

        Running slots and failed ones with attempts left are never deleted, and
        ``keep_for`` must outlast any catch-up window, or a slot could run again.
        """
        before = self._clock.now() - keep_for
        settled = (JobClaimRow.status == "done") | (
            (JobClaimRow.status == "failed") & (JobClaimRow.attempts >= self.max_attempts)
        )
        with self._db.transaction() as session:
            result = session.execute(
                delete(JobClaimRow)
                .where(settled, JobClaimRow.claimed_at < before)
                .execution_options(synchronize_session=False)
            )
        return int(getattr(result, "rowcount", 0))

    def _settle(self, claim: Claim, **values: Any) -> bool:
        """One guarded update of a slot the caller still holds."""
        with self._db.transaction() as session:
            result = session.execute(
                update(JobClaimRow)
                .where(
                    *self._slot(claim.job, claim.run_key),
                    JobClaimRow.holder == claim.holder,
                    JobClaimRow.attempts == claim.attempt,
                    JobClaimRow.status == "running",
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            held = int(getattr(result, "rowcount", 0)) == 1
        if not held:
            log.warning("%s %s: %s no longer holds the claim", claim.job, claim.run_key, claim.holder)
        return held

    @staticmethod
    def _slot(job: str, run_key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return JobClaimRow.job == job, JobClaimRow.run_key == run_key


def _record(row: JobClaimRow) -> ClaimRecord:
    status: ClaimStatus = row.status  # type: ignore[assignment]  # the column only holds these
    return ClaimRecord(
        job=row.job,
        run_key=row.run_key,
        holder=row.holder,
        status=status,
        attempts=row.attempts,
        claimed_at=row.claimed_at,
        lease_until=row.lease_until,
        finished_at=row.finished_at,
        result=row.result,
        error=row.error,
    )


__all__ = ["MAX_ATTEMPTS", "RETRY_AFTER", "Claim", "ClaimRecord", "ClaimStatus", "JobClaims"]
