"""The outbox worker: executes approved actions (and undos) exactly once.

**Claims.** A row is claimed with a guarded update (``pending`` -> ``claimed``),
one row at a time, so N workers on one database never run the same row twice
and a stopping worker holds at most one row it has not started. Every CRM
write carries the approval id as its idempotency key, so running a row again
after a crash writes nothing new. Before executing, the worker checks again
that the approval is authorised under the *current* policy: Slack approval is
not, on its own, an authorisation boundary.

**Steps.** Between "approved" and "executed" an execution passes these points;
``on_step(step, approval_id)`` is called at each (for tracing, and the seam
the crash tests kill the process at):

- ``claimed``: the claim committed; the approval is still ``approved``.
- ``authorised``: the policy and the votes were checked again; nothing written.
- ``started``: ``approved -> executing`` committed with a fresh claim time;
  from here on the row is finished, even when the worker is stopping.
- ``written``: the CRM holds the change and its idempotency keys; nothing
  about it is recorded on our side yet.
- ``settled``: the approval ``executed``, the outbox row ``done`` and the
  ``executed`` audit event, committed in one transaction (there is no moment
  where one is recorded and the other is not); the Slack card is told next,
  and the card sync catches up if the worker dies before that.

An undo passes ``claimed``, ``written`` and ``settled``.

**Stopping (SIGTERM).** ``drain(stopping=...)`` looks at ``stopping`` between
rows and once more just before ``started``: a stopping worker finishes the row
it started and hands back the one it claimed but did not start (``claimed`` ->
``pending``, guarded on still being the holder), so another replica takes it
at once instead of after the lease.

**Crashes (SIGKILL) and worker identity.** A claim records its holder's
``worker_id``, and a worker cannot tell whether another holder is alive. So:

- claims held under *this* worker id that this object did not make are from a
  previous life of this worker (a killed process): ``recover_own_claims()``
  returns them to the outbox; the pump calls it before its first pass;
- claims of any other id (and stuck claims of our own) are taken over once
  they are older than ``lease``.

Immediate recovery therefore needs an id that is *stable across restarts and
unique among live workers* (a StatefulSet pod name, a systemd instance name).
With an id that changes on every start (``host:pid``) recovery waits for the
lease. Two live workers sharing an id would take each other's claims: still
one CRM write (the idempotency key) and one ``executed`` (a guarded
transition), but wasted work. Run one ``OutboxWorker`` per worker id.

**Resumed executions.** An approval found ``executing`` was started by an
earlier attempt (a crash, or a CRM error being retried), which passed the
policy check and may have written. It is replayed without a second check: the
records now include that write and could make the policy refuse a change that
is already in the CRM (an ``assign_owner`` reads as a ``change_owner`` once
the owner is set).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from agent.approvals import ApprovalService, row_verdict
from agent.audit import AuditLog
from agent.errors import (
    CRMAuthError,
    CRMError,
    CRMRateLimitedError,
    CRMValidationError,
    ExecutionError,
    SlotTakenError,
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
Step = Literal["claimed", "authorised", "started", "written", "settled"]
StepHook = Callable[[Step, str], None]
"""Called with the step reached and the approval id (see the module docstring)."""


CRASH_ALLOWANCE = 3
"""Claims that may end without any outcome (the worker died) beyond ``max_attempts`` before a row
is given up: a change that kills its worker every time must not do so forever."""


def no_step(step: Step, approval_id: str) -> None:
    """The default ``on_step``: nothing to do."""


def never() -> bool:
    return False


@dataclass(frozen=True)
class OutboxOutcome:
    approval_id: str
    operation: str
    outcome: OutcomeKind
    detail: str = ""


@dataclass(frozen=True)
class _Claim:
    row_id: str
    approval_id: str
    operation: str
    attempts: int


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
        on_step: StepHook = no_step,
        replan: Callable[[ProposedAction, str], object] | None = None,
    ) -> None:
        """``replan``: called with an approved meeting whose slot was taken before it ran
        (the approval is superseded first), to propose the lead's next slot."""
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
        self._on_step = on_step
        self.replan = replan
        self._held: set[str] = set()  # rows this object claimed and has not finished
        self._held_lock = threading.Lock()

    def drain(self, limit: int | None = None, *, stopping: Callable[[], bool] = never) -> list[OutboxOutcome]:
        """Process due rows until none is left, ``limit`` rows were processed, or ``stopping()``."""
        outcomes: list[OutboxOutcome] = []
        while (limit is None or len(outcomes) < limit) and not stopping():
            outcome = self.run_one(stopping=stopping)
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    def run_one(self, *, stopping: Callable[[], bool] = never) -> OutboxOutcome | None:
        """Claim and process one due row; ``None`` when none is due or the worker is stopping."""
        while not stopping():
            claim = self._claim()
            if claim is None:
                return None
            try:
                self._on_step("claimed", claim.approval_id)
                outcome: OutboxOutcome | None
                if claim.attempts > self._max_attempts + CRASH_ALLOWANCE:
                    outcome = self._give_up(claim)
                elif claim.operation == "undo":
                    outcome = self._undo(claim, stopping)
                else:
                    outcome = self._execute(claim, stopping)
            finally:
                with self._held_lock:
                    self._held.discard(claim.row_id)
            if outcome is not None:
                return outcome
        return None

    def recover_own_claims(self) -> int:
        """Return to the outbox the claims a previous life of this worker id left; how many.

        Call it once at start. Claims this object holds right now are left alone.
        """
        with self._held_lock:
            mine = set(self._held)
        with self._db.transaction() as session:
            orphans = [
                (row_id, approval_id)
                for row_id, approval_id in session.execute(
                    select(OutboxRow.id, OutboxRow.approval_id).where(self._held_by_me())
                )
                if row_id not in mine
            ]
            for row_id, approval_id in orphans:
                session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == row_id, self._held_by_me())
                    .values(status="pending", claimed_by=None, claimed_at=None)
                )
                self._audit_claim_recovered(session, approval_id, self.worker_id, "restart")
        if orphans:
            log.warning(
                "%s: %d claim(s) left by a previous run returned to the outbox", self.worker_id, len(orphans)
            )
        return len(orphans)

    # -- claiming --------------------------------------------------------------

    def _claim(self) -> _Claim | None:
        now = self._clock.now()
        stale_before = now - self._lease
        with self._db.transaction() as session:
            candidates = session.execute(
                select(OutboxRow.id, OutboxRow.status, OutboxRow.claimed_by)
                .where(
                    or_(
                        (OutboxRow.status == "pending") & (OutboxRow.available_at <= now),
                        (OutboxRow.status == "claimed") & (OutboxRow.claimed_at <= stale_before),
                    )
                )
                .order_by(OutboxRow.available_at, OutboxRow.id)
                .limit(10)
            ).all()
        for row_id, status, holder in candidates:
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
                if status == "claimed":
                    self._audit_claim_recovered(session, row.approval_id, holder, "lease")
                with self._held_lock:
                    self._held.add(row.id)
                return _Claim(row.id, row.approval_id, row.operation, row.attempts)
        return None

    def _release(self, claim: _Claim) -> None:
        """Hand back a claim this worker did not start, if it still holds it."""
        with self._db.transaction() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == claim.row_id, self._held_by_me())
                .values(status="pending", claimed_by=None, claimed_at=None, attempts=OutboxRow.attempts - 1)
            )
        log.info("%s: stopping; %s handed back to the outbox", self.worker_id, claim.approval_id)

    def _held_by_me(self) -> ColumnElement[bool]:
        return (OutboxRow.status == "claimed") & (OutboxRow.claimed_by == self.worker_id)

    def _audit_claim_recovered(
        self, session: Session, approval_id: str, holder: str | None, how: str
    ) -> None:
        self._audit.append(
            session,
            actor=f"worker:{self.worker_id}",
            event="claim_recovered",
            subject=approval_id,
            payload={"holder": holder, "how": how},
        )

    # -- executing -------------------------------------------------------------

    def _execute(self, claim: _Claim, stopping: Callable[[], bool]) -> OutboxOutcome | None:
        approval_id = claim.approval_id
        with self._db.reading() as session:
            row = session.execute(select(ApprovalRow).where(ApprovalRow.id == approval_id)).scalar_one()
            status = row.status
            action = ProposedAction.model_validate(row.action)
            gates = row_verdict(row).gates
            votes = tuple(
                session.execute(
                    select(ApprovalVoteRow.user_id).where(ApprovalVoteRow.approval_id == approval_id)
                ).scalars()
            )
        if status not in ("approved", "executing"):
            return self._drop(claim, f"approval is {status}, no longer approved")
        try:
            if status == "approved":  # a resumed execution was checked by its first attempt
                self._authorise(action, gates, votes)
        except (ValidationFailedError, CRMError) as error:
            return self._after_error(claim, error)
        self._on_step("authorised", approval_id)
        if stopping():
            self._release(claim)
            return None
        started = self._start(claim)
        if started == "lost":
            return None
        if started == "moved_on":
            return self._drop(claim, "approval no longer approved")
        self._on_step("started", approval_id)
        try:
            result = self._executor.execute(action, key=approval_id)
        except SlotTakenError as taken:
            outcome = self._after_error(claim, taken)
            self._replan(action, str(taken))
            return outcome
        except (ValidationFailedError, ExecutionError, CRMError) as error:
            return self._after_error(claim, error)
        self._on_step("written", approval_id)
        return self._settle(claim, "executed", "", result)

    def _replan(self, action: ProposedAction, reason: str) -> None:
        if self.replan is None:
            return
        try:
            self.replan(action, reason)
        except Exception:  # the superseded approval stands; a failed re-plan is only logged
            log.exception("%s: could not plan %s again after: %s", self.worker_id, action.id, reason)

    def _start(self, claim: _Claim) -> Literal["started", "lost", "moved_on"]:
        """Move the approval to ``executing`` if the claim is still ours (not taken over)."""
        with self._db.transaction() as session:
            still_ours = session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == claim.row_id, self._held_by_me())
                .values(claimed_at=self._clock.now())  # the lease counts from the write, not the claim
                .execution_options(synchronize_session=False)
            )
            if int(getattr(still_ours, "rowcount", 0)) != 1:
                log.warning("%s: lost the claim on %s to another worker", self.worker_id, claim.approval_id)
                return "lost"
            return "started" if self._approvals.start_execution(session, claim.approval_id) else "moved_on"

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

    def _after_error(self, claim: _Claim, error: Exception) -> OutboxOutcome:
        if isinstance(error, StaleRecordError):
            return self._settle(claim, "superseded", str(error))
        described = f"{type(error).__name__}: {error}"
        if not isinstance(error, CRMError) or isinstance(error, CRMAuthError | CRMValidationError):
            return self._settle(claim, "failed", described)
        if claim.attempts >= self._max_attempts:
            return self._settle(claim, "failed", f"gave up after {claim.attempts} attempts: {described}")
        return self._retry(claim, error)

    def _settle(
        self, claim: _Claim, outcome: OutcomeKind, detail: str, result: ExecutionResult | None = None
    ) -> OutboxOutcome:
        approval_id = claim.approval_id
        with self._db.transaction() as session:
            if outcome == "executed" and result is not None:
                moved = self._approvals.finish_execution(session, approval_id, result.model_dump(mode="json"))
            elif outcome == "superseded":
                moved = self._approvals.supersede(session, approval_id, detail)
            else:
                moved = self._approvals.fail_execution(session, approval_id, detail)
            self._finish_row(
                session, claim.row_id, "done" if outcome == "executed" else "dead", detail or None
            )
            if moved:
                self._audit.append(
                    session,
                    actor=f"worker:{self.worker_id}",
                    event=outcome,
                    subject=approval_id,
                    payload={"detail": detail, "result": result.model_dump(mode="json") if result else None},
                )
        self._on_step("settled", approval_id)
        self._notify(approval_id)
        return OutboxOutcome(approval_id, "execute", outcome, detail)

    def _give_up(self, claim: _Claim) -> OutboxOutcome:
        """A row claimed this often without an outcome: its worker died running it, again and again."""
        detail = (
            f"gave up after {claim.attempts} attempts that ended without an outcome "
            "(the worker stopped or died each time); a person should look"
        )
        log.error("%s: %s %s", self.worker_id, claim.approval_id, detail)
        if claim.operation == "undo":
            with self._db.transaction() as session:
                self._finish_row(session, claim.row_id, "dead", detail)
            return OutboxOutcome(claim.approval_id, "undo", "undo_refused", detail)
        return self._settle(claim, "failed", detail)

    def _drop(self, claim: _Claim, detail: str) -> OutboxOutcome:
        """The approval moved on (rejected, superseded, done) while the row waited."""
        with self._db.transaction() as session:
            self._finish_row(session, claim.row_id, "done", detail)
        return OutboxOutcome(claim.approval_id, "execute", "failed", detail)

    def _retry(self, claim: _Claim, error: CRMError) -> OutboxOutcome:
        delay = self._backoff(claim.attempts)
        if isinstance(error, CRMRateLimitedError) and error.retry_after is not None:
            delay = max(delay, timedelta(seconds=error.retry_after))
        with self._db.transaction() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == claim.row_id, OutboxRow.claimed_by == self.worker_id)
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
                subject=claim.approval_id,
                payload={"attempt": claim.attempts, "error": str(error), "retry_in_s": delay.total_seconds()},
            )
        log.warning(
            "approval %s: attempt %d failed (%s); retrying in %s",
            claim.approval_id,
            claim.attempts,
            error,
            delay,
        )
        return OutboxOutcome(claim.approval_id, "execute", "retrying", str(error))

    # -- undoing ---------------------------------------------------------------

    def _undo(self, claim: _Claim, stopping: Callable[[], bool]) -> OutboxOutcome | None:
        approval_id = claim.approval_id
        with self._db.reading() as session:
            row = session.execute(select(ApprovalRow).where(ApprovalRow.id == approval_id)).scalar_one()
            action = ProposedAction.model_validate(row.action)
            executed = ExecutionResult.model_validate(row.result or {})
        if stopping():
            self._release(claim)
            return None
        try:
            result = self._executor.undo(action, executed, key=approval_id)
        except (StaleRecordError, CRMError, ExecutionError) as error:
            with self._db.transaction() as session:
                self._finish_row(session, claim.row_id, "dead", str(error))
                self._audit.append(
                    session,
                    actor=f"worker:{self.worker_id}",
                    event="undo_refused",
                    subject=approval_id,
                    payload={"error": str(error)},
                )
            return OutboxOutcome(approval_id, "undo", "undo_refused", str(error))
        self._on_step("written", approval_id)
        with self._db.transaction() as session:
            moved = self._approvals.finish_undo(
                session, approval_id, {"undo": result.model_dump(mode="json")}
            )
            self._finish_row(session, claim.row_id, "done", None)
            if moved:
                self._audit.append(
                    session,
                    actor=f"worker:{self.worker_id}",
                    event="undone",
                    subject=approval_id,
                    payload={"result": result.model_dump(mode="json")},
                )
        self._on_step("settled", approval_id)
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
