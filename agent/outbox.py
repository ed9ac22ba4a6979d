"""The outbox worker: executes approved actions (and undos) exactly once.

A row is claimed with a guarded update (``status='pending'`` -> ``claimed``), so
N workers on one database never run the same row twice. A claim whose worker
died is taken over after ``lease``; the retry is safe because every CRM write
carries the approval id as its idempotency key. Before executing, the worker
checks again that the approval is authorised under the *current* policy:
Slack approval is not, on its own, an authorisation boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from agent.approvals import ApprovalService, row_verdict
from agent.audit import AuditLog
from agent.errors import (
    CRMAuthError,
    CRMError,
    CRMRateLimitedError,
    CRMValidationError,
    ExecutionError,
    StaleRecordError,
    ValidationFailedError,
)
from agent.executor import Executor
from agent.facts import gather_facts
from agent.models import ExecutionResult, ProposedAction
from agent.policy import approval_requirement, evaluate, may_approve
from agent.ports import ApproverDirectory, Clock
from agent.store.database import Database
from agent.store.rows import ApprovalRow, ApprovalVoteRow, OutboxRow

log = logging.getLogger(__name__)

OutcomeKind = Literal["executed", "superseded", "failed", "retrying", "undone", "undo_refused"]


@dataclass(frozen=True)
class OutboxOutcome:
    approval_id: str
    operation: str
    outcome: OutcomeKind
    detail: str = ""


class OutboxWorker:
    """Drains the outbox; run one per process, as many processes as you like."""

    def __init__(
        self,
        database: Database,
        *,
        approvals: ApprovalService,
        executor: Executor,
        audit: AuditLog,
        clock: Clock,
        directory: ApproverDirectory,
        worker_id: str,
        max_attempts: int = 5,
        lease: timedelta = timedelta(minutes=5),
        backoff: Callable[[int], timedelta] = lambda attempt: timedelta(seconds=min(300, 2**attempt)),
    ) -> None:
        self._db = database
        self._approvals = approvals
        self._executor = executor
        self._audit = audit
        self._clock = clock
        self._directory = directory
        self.worker_id = worker_id
        self._max_attempts = max_attempts
        self._lease = lease
        self._backoff = backoff

    def drain(self, limit: int | None = None) -> list[OutboxOutcome]:
        """Process due rows until none is left (or ``limit`` rows were processed)."""
        outcomes: list[OutboxOutcome] = []
        while limit is None or len(outcomes) < limit:
            outcome = self.run_one()
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    def run_one(self) -> OutboxOutcome | None:
        claimed = self._claim()
        if claimed is None:
            return None
        row_id, approval_id, operation, attempts = claimed
        if operation == "undo":
            return self._undo(row_id, approval_id)
        return self._execute(row_id, approval_id, attempts)

    # -- claiming --------------------------------------------------------------

    def _claim(self) -> tuple[str, str, str, int] | None:
        now = self._clock.now()
        stale_before = now - self._lease
        with self._db.transaction() as session:
            candidates = session.execute(
                select(OutboxRow.id, OutboxRow.status)
                .where(
                    or_(
                        (OutboxRow.status == "pending") & (OutboxRow.available_at <= now),
                        (OutboxRow.status == "claimed") & (OutboxRow.claimed_at <= stale_before),
                    )
                )
                .order_by(OutboxRow.available_at, OutboxRow.id)
                .limit(10)
            ).all()
        for row_id, status in candidates:
            with self._db.transaction() as session:
                guard = OutboxRow.status == "pending"
                if status == "claimed":
                    guard = (OutboxRow.status == "claimed") & (OutboxRow.claimed_at <= stale_before)
                result = session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == row_id, guard)
                    .values(
                        status="claimed",
                        claimed_by=self.worker_id,
                        claimed_at=now,
                        attempts=OutboxRow.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                if int(getattr(result, "rowcount", 0)) != 1:
                    continue
                row = session.execute(select(OutboxRow).where(OutboxRow.id == row_id)).scalar_one()
                return row.id, row.approval_id, row.operation, row.attempts
        return None

    # -- executing -------------------------------------------------------------

    def _execute(self, row_id: str, approval_id: str, attempts: int) -> OutboxOutcome:
        with self._db.transaction() as session:
            if not self._approvals.start_execution(session, approval_id):
                self._finish_row(session, row_id, "done", "approval no longer approved")
                return OutboxOutcome(approval_id, "execute", "failed", "approval no longer approved")
            row = session.execute(select(ApprovalRow).where(ApprovalRow.id == approval_id)).scalar_one()
            action = ProposedAction.model_validate(row.action)
            votes = tuple(
                session.execute(
                    select(ApprovalVoteRow.user_id).where(ApprovalVoteRow.approval_id == approval_id)
                ).scalars()
            )
            gates = row_verdict(row).gates
        try:
            self._authorise(action, gates, votes)
            result = self._executor.execute(action, key=approval_id)
        except StaleRecordError as stale:
            return self._settle(row_id, approval_id, "superseded", str(stale))
        except (ValidationFailedError, CRMAuthError, CRMValidationError, ExecutionError) as error:
            return self._settle(row_id, approval_id, "failed", f"{type(error).__name__}: {error}")
        except CRMError as error:
            if attempts >= self._max_attempts:
                return self._settle(
                    row_id,
                    approval_id,
                    "failed",
                    f"gave up after {attempts} attempts: {type(error).__name__}: {error}",
                )
            return self._retry(row_id, approval_id, attempts, error)
        return self._settle(row_id, approval_id, "executed", "", result)

    def _authorise(self, action: ProposedAction, gates: tuple[str, ...], votes: tuple[str, ...]) -> None:
        policy = self._approvals.policy
        records = self._executor.crm.get_many(action.object_type, action.record_ids)
        verdict = evaluate(policy, action, gather_facts(action, records, policy))
        if verdict.outcome == "deny":
            raise ValidationFailedError(
                f"the policy now refuses this action: {verdict.reason} ({verdict.rule})"
            )
        requirement = approval_requirement(policy, gates)
        eligible = [user for user in votes if may_approve(requirement, user, self._directory)]
        if len(eligible) < requirement.min_approvals:
            raise ValidationFailedError(
                f"{len(eligible)} eligible approval(s) recorded, the policy needs {requirement.min_approvals}"
            )

    def _settle(
        self,
        row_id: str,
        approval_id: str,
        outcome: OutcomeKind,
        detail: str,
        result: ExecutionResult | None = None,
    ) -> OutboxOutcome:
        with self._db.transaction() as session:
            if outcome == "executed" and result is not None:
                moved = self._approvals.finish_execution(session, approval_id, result.model_dump(mode="json"))
            elif outcome == "superseded":
                moved = self._approvals.supersede(session, approval_id, detail)
            else:
                moved = self._approvals.fail_execution(session, approval_id, detail)
            self._finish_row(session, row_id, "done" if outcome == "executed" else "dead", detail or None)
            if moved:
                self._audit.append(
                    session,
                    actor=f"worker:{self.worker_id}",
                    event=outcome,
                    subject=approval_id,
                    payload={"detail": detail, "result": result.model_dump(mode="json") if result else None},
                )
        self._notify(approval_id)
        return OutboxOutcome(approval_id, "execute", outcome, detail)

    def _retry(self, row_id: str, approval_id: str, attempts: int, error: CRMError) -> OutboxOutcome:
        delay = self._backoff(attempts)
        if isinstance(error, CRMRateLimitedError) and error.retry_after is not None:
            delay = max(delay, timedelta(seconds=error.retry_after))
        with self._db.transaction() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row_id, OutboxRow.claimed_by == self.worker_id)
                .values(
                    status="pending",
                    available_at=self._clock.now() + delay,
                    last_error=f"{type(error).__name__}: {error}",
                    claimed_by=None,
                    claimed_at=None,
                )
            )
            self._audit.append(
                session,
                actor=f"worker:{self.worker_id}",
                event="execution_retry",
                subject=approval_id,
                payload={"attempt": attempts, "error": str(error), "retry_in_s": delay.total_seconds()},
            )
        log.warning(
            "approval %s: attempt %d failed (%s); retrying in %s", approval_id, attempts, error, delay
        )
        return OutboxOutcome(approval_id, "execute", "retrying", str(error))

    # -- undoing ---------------------------------------------------------------

    def _undo(self, row_id: str, approval_id: str) -> OutboxOutcome:
        with self._db.transaction() as session:
            row = session.execute(select(ApprovalRow).where(ApprovalRow.id == approval_id)).scalar_one()
            action = ProposedAction.model_validate(row.action)
            executed = ExecutionResult.model_validate(row.result or {})
        try:
            result = self._executor.undo(action, executed, key=approval_id)
        except (StaleRecordError, CRMError, ExecutionError) as error:
            with self._db.transaction() as session:
                self._finish_row(session, row_id, "dead", str(error))
                self._audit.append(
                    session,
                    actor=f"worker:{self.worker_id}",
                    event="undo_refused",
                    subject=approval_id,
                    payload={"error": str(error)},
                )
            return OutboxOutcome(approval_id, "undo", "undo_refused", str(error))
        with self._db.transaction() as session:
            self._approvals.finish_undo(session, approval_id, {"undo": result.model_dump(mode="json")})
            self._finish_row(session, row_id, "done", None)
            self._audit.append(
                session,
                actor=f"worker:{self.worker_id}",
                event="undone",
                subject=approval_id,
                payload={"result": result.model_dump(mode="json")},
            )
        self._notify(approval_id)
        return OutboxOutcome(approval_id, "undo", "undone")

    # -- internals -------------------------------------------------------------

    @staticmethod
    def _finish_row(session: Session, row_id: str, status: str, error: str | None) -> None:
        session.execute(
            update(OutboxRow).where(OutboxRow.id == row_id).values(status=status, last_error=error)
        )

    def _notify(self, approval_id: str) -> None:
        try:
            self._approvals.notify_updated(approval_id)
        except Exception:  # a notifier failure never undoes what was done
            log.exception("could not notify about approval %s", approval_id)
