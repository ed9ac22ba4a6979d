"""The approval state machine; the only code that moves an approval.

::

    pending ─┬─► approved ─► executing ─┬─► executed ─► undone
             ├─► rejected (reason)      ├─► failed (error)
             ├─► expired                └─► superseded (record changed)
             └─► superseded

Every transition is one guarded ``UPDATE ... WHERE id = :id AND status IN (...)``.
The first writer wins; a double click, a retry or a second replica finds 0 rows
and gets ``ApprovalAlreadyResolvedError`` naming who got there first. Approving
writes the outbox row in the same transaction, so an approval can never be
lost between "approved" and "executed". The approval id is the idempotency key
for the write that follows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent.audit import AuditLog, Entry
from agent.errors import (
    ApprovalAlreadyResolvedError,
    ApprovalNotFoundError,
    EditNotAllowedError,
    NotAnApproverError,
    UndoNotAllowedError,
)
from agent.memory import remember
from agent.models import (
    REVERSIBLE_KINDS,
    ActionFacts,
    Approval,
    ApprovalStatus,
    Approved,
    Decision,
    ProposedAction,
    Rejected,
    Verdict,
)
from agent.narrowing import narrow
from agent.policy import Policy, approval_requirement, evaluate, expiry_for, may_approve
from agent.ports import ApproverDirectory, Clock, Notifier
from agent.store.convert import approval_from_row, dedupe_hash
from agent.store.database import Database
from agent.store.rows import ApprovalRow, ApprovalVoteRow, OutboxRow

OPEN_STATUSES: tuple[ApprovalStatus, ...] = ("pending", "approved", "executing")


@dataclass(frozen=True)
class _Edit:
    base: dict[str, object]
    """The action (as stored) that was narrowed."""
    narrowed: ProposedAction


class ApprovalService:
    """Creates approvals and moves them through their states."""

    def __init__(
        self,
        database: Database,
        *,
        policy: Policy,
        audit: AuditLog,
        clock: Clock,
        new_id: Callable[[], str],
        directory: ApproverDirectory,
        notifier: Notifier,
        gather: Callable[[ProposedAction], ActionFacts] | None = None,
    ) -> None:
        """``gather`` reads the facts of an edited action from the CRM, so the policy
        can look at it again; without it, edits are checked for shape only."""
        self._gather = gather
        self._db = database
        self.policy = policy
        self._audit = audit
        self._clock = clock
        self._new_id = new_id
        self._directory = directory
        self._notifier = notifier

    # -- reading ---------------------------------------------------------------

    def get(self, approval_id: str) -> Approval:
        with self._db.reading() as session:
            return self._load(session, approval_id)

    def recent(self, statuses: Iterable[str] | None = None, *, limit: int = 50) -> list[Approval]:
        """Approvals, newest first, optionally only those in ``statuses``."""
        with self._db.reading() as session:
            query = select(ApprovalRow).order_by(ApprovalRow.created_at.desc(), ApprovalRow.id).limit(limit)
            if statuses is not None:
                query = query.where(ApprovalRow.status.in_(list(statuses)))
            return self._with_votes(session, session.execute(query).scalars().all())

    # -- creating --------------------------------------------------------------

    def request(
        self, action: ProposedAction, verdict: Verdict, *, run_id: str | None, requested_by: str
    ) -> Approval | None:
        """Queue a gated action for approval; ``None`` when the same change is already open."""
        (approval,) = self.request_many([(action, verdict)], run_id=run_id, requested_by=requested_by)
        return approval

    def request_many(
        self,
        gated: Sequence[tuple[ProposedAction, Verdict]],
        *,
        run_id: str | None,
        requested_by: str | None = None,
    ) -> list[Approval | None]:
        """:meth:`request` for each action, all in one transaction (a run's gated changes of one chunk).

        ``requested_by``: ``None`` takes each action's own ``requested_by``. One entry per
        action, in order; ``None`` where the same change is already open (or earlier in ``gated``).
        """
        now = self._clock.now()
        out: list[Approval | None]
        with self._db.transaction() as session:
            digests = [dedupe_hash(action) for action, _ in gated]
            open_keys: set[str] = set()
            for start in range(0, len(digests), 500):
                open_keys.update(
                    session.execute(
                        select(ApprovalRow.dedupe_key).where(
                            ApprovalRow.dedupe_hash.in_(digests[start : start + 500]),
                            ApprovalRow.status.in_(OPEN_STATUSES),
                        )
                    ).scalars()
                )
            rows: list[ApprovalRow] = []
            placed: list[ApprovalRow | None] = []
            for (action, verdict), digest in zip(gated, digests, strict=True):
                key = action.dedupe_key()
                if key in open_keys:
                    placed.append(None)  # the same change is open already (or earlier in this batch)
                    continue
                open_keys.add(key)
                row = self._new_row(action, verdict, run_id, requested_by or action.requested_by, now)
                row.dedupe_hash = digest
                rows.append(row)
                placed.append(row)
            session.add_all(rows)
            self._audit.append_many(
                session,
                [
                    Entry(
                        actor=row.requested_by,
                        event="approval_requested",
                        subject=row.id,
                        rule=row.verdict.get("rule"),
                        payload={
                            "action": row.action,
                            "verdict": row.verdict,
                            "expires_at": row.expires_at.isoformat(),
                        },
                    )
                    for row in rows
                ],
            )  # flushes: the rows now hold their column defaults
            out = [None if row is None else approval_from_row(row) for row in placed]
        for approval in out:
            if approval is not None:
                self._notifier.approval_requested(approval)
        return out

    def _new_row(
        self, action: ProposedAction, verdict: Verdict, run_id: str | None, requested_by: str, now: datetime
    ) -> ApprovalRow:
        return ApprovalRow(
            id=self._new_id(),
            run_id=run_id,
            kind=action.kind,
            object_type=action.object_type,
            status="pending",
            dedupe_key=action.dedupe_key(),
            action=action.model_dump(mode="json"),
            verdict=verdict.model_dump(mode="json"),
            requested_by=requested_by,
            created_at=now,
            updated_at=now,
            expires_at=now + expiry_for(self.policy, action.kind).after,
        )

    def forget_card(self, approval_id: str, *, ts: str) -> None:
        """The card at ``ts`` is gone (deleted in Slack): a pending approval gets a new one."""
        with self._db.transaction() as session:
            session.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id, ApprovalRow.slack_ts == ts)
                .values(slack_channel=None, slack_ts=None, slack_revision=None, slack_status=None)
            )

    # -- deciding --------------------------------------------------------------

    def decide(self, approval_id: str, decision: Decision) -> Approval:
        if isinstance(decision, Approved):
            return self.approve(approval_id, decision.user)
        return self.reject(approval_id, decision.user, decision.reason)

    def approve(self, approval_id: str, user: str, *, exclude: Collection[str] = ()) -> Approval:
        """Record ``user``'s approval; with enough approvals, approve and queue execution.

        ``exclude`` drops records from the change first (a bulk card's unticked
        items): an approval can narrow a change, never widen it.

        Raises:
            ApprovalNotFoundError: no such approval.
            ApprovalAlreadyResolvedError: it is no longer pending (someone got there first).
            NotAnApproverError: ``user`` may not approve it, or already did (audited).
            EditNotAllowedError: the exclusions leave nothing, or name records not in it.
        """
        self._expire_if_due(approval_id)
        edit = None
        if exclude:
            current = self.get(approval_id).action
            keep = [t.record_id for t in current.targets if t.record_id not in set(exclude)]
            edit = self._checked_edit(current, narrow(current, keep_records=keep))
        now = self._clock.now()
        with self._refusal_audited(approval_id, user, "approve"), self._db.transaction() as session:
            row = self._claim_pending(session, approval_id)
            requirement = approval_requirement(self.policy, row_verdict(row).gates)
            _check_requester(row, user, requester_may_approve=requirement.requester_may_approve)
            if not may_approve(requirement, user, self._directory):
                raise NotAnApproverError(f"{user} is not an approver for {_gates_text(row)}")
            if edit is not None:
                self._store_edit(session, row, edit, user)
            votes = self._votes(session, approval_id)
            if user in votes:
                raise NotAnApproverError(f"{user} has already approved {approval_id}")
            session.add(ApprovalVoteRow(approval_id=approval_id, user_id=user, created_at=now))
            votes = (*votes, user)
            if len(votes) < requirement.min_approvals:
                row.revision = (row.revision or 0) + 1  # the card shows the votes so far
                self._audit.append(
                    session,
                    actor=user,
                    event="approval_vote",
                    subject=approval_id,
                    rule=row_verdict(row).rule,
                    payload={"votes": list(votes), "needed": requirement.min_approvals},
                )
                approval = approval_from_row(row, votes)
            else:
                self._transition(
                    session, approval_id, ("pending",), "approved", decided_by=user, decided_at=now
                )
                self._enqueue(session, approval_id, "execute")
                self._audit.append(
                    session,
                    actor=user,
                    event="approved",
                    subject=approval_id,
                    rule=row_verdict(row).rule,
                    payload={"votes": list(votes), "action_seen": row.action},
                )
                approval = self._load(session, approval_id)
        self._notifier.approval_updated(approval)
        return approval

    def reject(self, approval_id: str, user: str, reason: str) -> Approval:
        """Reject with a reason (required); the reason is kept for the planner."""
        decision = Rejected(user=user, reason=reason)  # validates the reason
        self._expire_if_due(approval_id)
        now = self._clock.now()
        with self._refusal_audited(approval_id, user, "reject"), self._db.transaction() as session:
            row = self._claim_pending(session, approval_id)
            requirement = approval_requirement(self.policy, row_verdict(row).gates)
            if user != row.requested_by and not may_approve(requirement, user, self._directory):
                raise NotAnApproverError(f"{user} is not an approver for {_gates_text(row)}")
            self._transition(
                session,
                approval_id,
                ("pending",),
                "rejected",
                decided_by=user,
                decided_at=now,
                reason=decision.reason.strip(),
            )
            remember(
                session,
                ProposedAction.model_validate(row.action),
                approval_id=approval_id,
                reason=decision.reason.strip(),
                user=user,
                at=now,
            )
            self._audit.append(
                session,
                actor=user,
                event="rejected",
                subject=approval_id,
                rule=row_verdict(row).rule,
                payload={"reason": decision.reason.strip(), "action_seen": row.action},
            )
            approval = self._load(session, approval_id)
        self._notifier.approval_updated(approval)
        return approval

    def edit(
        self,
        approval_id: str,
        user: str,
        *,
        keep_records: Collection[str] | None = None,
        keep_fields: Collection[str] | None = None,
    ) -> Approval:
        """Narrow a pending change to fewer records or fields; checked by the policy again.

        Raises:
            EditNotAllowedError: the edit would widen or empty the change, or the
                policy refuses the narrowed change.
            NotAnApproverError: ``user`` may not decide this approval (audited).
        """
        self._expire_if_due(approval_id)
        current = self.get(approval_id).action
        edit = self._checked_edit(
            current, narrow(current, keep_records=keep_records, keep_fields=keep_fields)
        )
        with self._refusal_audited(approval_id, user, "edit"), self._db.transaction() as session:
            row = self._claim_pending(session, approval_id)
            requirement = approval_requirement(self.policy, row_verdict(row).gates)
            if not may_approve(requirement, user, self._directory):
                raise NotAnApproverError(f"{user} is not an approver for {_gates_text(row)}")
            self._store_edit(session, row, edit, user)
            approval = self._load(session, approval_id)
        self._notifier.approval_updated(approval)
        return approval

    def pending_for(self, user: str, *, limit: int = 50) -> list[Approval]:
        """Pending approvals ``user`` may decide, oldest first (most urgent)."""
        with self._db.reading() as session:
            # Decide on three narrow columns; load whole approvals only for the answer.
            candidates = session.execute(
                select(ApprovalRow.id, ApprovalRow.verdict, ApprovalRow.requested_by)
                .where(ApprovalRow.status == "pending")
                .order_by(ApprovalRow.created_at, ApprovalRow.id)
            ).all()
            voted = set(
                session.execute(
                    select(ApprovalVoteRow.approval_id)
                    .join(ApprovalRow, ApprovalRow.id == ApprovalVoteRow.approval_id)
                    .where(ApprovalVoteRow.user_id == user, ApprovalRow.status == "pending")
                ).scalars()
            )
            allowed: dict[tuple[str, ...], tuple[bool, bool]] = {}
            chosen: list[str] = []
            for approval_id, verdict, requested_by in candidates:
                gates = tuple(verdict.get("gates") or ())
                if gates not in allowed:
                    requirement = approval_requirement(self.policy, gates)
                    allowed[gates] = (
                        may_approve(requirement, user, self._directory),
                        requirement.requester_may_approve,
                    )
                eligible, requester_may = allowed[gates]
                if eligible and approval_id not in voted and (requester_may or requested_by != user):
                    chosen.append(approval_id)
                    if len(chosen) >= limit:
                        break
            rows = session.execute(select(ApprovalRow).where(ApprovalRow.id.in_(chosen))).scalars().all()
            order = {approval_id: n for n, approval_id in enumerate(chosen)}
            return self._with_votes(session, sorted(rows, key=lambda row: order[row.id]))

    def cards_to_sync(self, *, limit: int = 50) -> list[Approval]:
        """Approvals whose Slack card is missing (pending, never posted) or older than the approval."""
        with self._db.reading() as session:
            rows = (
                session.execute(
                    select(ApprovalRow)
                    .where(
                        ((ApprovalRow.slack_ts.is_(None)) & (ApprovalRow.status == "pending"))
                        | (
                            ApprovalRow.slack_ts.is_not(None)
                            & (
                                ApprovalRow.slack_revision.is_(None)
                                | (ApprovalRow.slack_revision < ApprovalRow.revision)
                            )
                        )
                    )
                    .order_by(ApprovalRow.updated_at, ApprovalRow.id)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
            return self._with_votes(session, rows)

    def mark_card_synced(
        self,
        approval_id: str,
        *,
        channel: str,
        ts: str,
        shown: int,
        status: str | None = None,
        nudges: int | None = None,
    ) -> bool:
        """Record that the card at ``channel``/``ts`` shows the approval at revision ``shown``.

        ``nudges``: how many reminders and escalations its thread now shows.

        Guarded: a card posted by someone else first, or a sync that lost a race
        with a newer one, does not overwrite it. True when recorded.
        """
        with self._db.transaction() as session:
            row = self._get_row(session, approval_id)
            if row.slack_ts is not None and (row.slack_channel, row.slack_ts) != (channel, ts):
                return False
            if row.slack_revision is not None and row.slack_revision >= shown:
                return False
            result = session.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id)
                .values(
                    slack_channel=channel,
                    slack_ts=ts,
                    slack_revision=shown,
                    slack_status=status,
                    slack_nudges=max(nudges or 0, row.slack_nudges or 0),
                )
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0)) == 1

    def expire_due(self) -> list[Approval]:
        """Expire every pending approval whose time is up (the policy says what follows)."""
        now = self._clock.now()
        with self._db.transaction() as session:
            ids = (
                session.execute(
                    select(ApprovalRow.id).where(
                        ApprovalRow.status == "pending", ApprovalRow.expires_at <= now
                    )
                )
                .scalars()
                .all()
            )
        return [approval for approval_id in ids if (approval := self.expire(approval_id)) is not None]

    def request_undo(self, approval_id: str, user: str) -> Approval:
        """Queue an undo of an executed, reversible action within the policy's window."""
        now = self._clock.now()
        with self._refusal_audited(approval_id, user, "undo"), self._db.transaction() as session:
            # Lock the row first, so two undo clicks queue up instead of racing.
            self._lock_if(session, approval_id, "executed")
            row = self._get_row(session, approval_id)
            if row.status != "executed":
                raise UndoNotAllowedError(
                    f"approval {approval_id} is {row.status}; only executed actions undo"
                )
            if row.kind not in REVERSIBLE_KINDS:
                raise UndoNotAllowedError(f"{row.kind} cannot be undone")
            if row.executed_at is None or now > row.executed_at + self.policy.undo_window:
                raise UndoNotAllowedError(f"the undo window ({self.policy.undo_window}) has passed")
            requirement = approval_requirement(self.policy, row_verdict(row).gates)
            if not may_approve(requirement, user, self._directory):
                raise NotAnApproverError(f"{user} may not undo {approval_id}")
            already = session.execute(
                select(OutboxRow.id).where(
                    OutboxRow.approval_id == approval_id, OutboxRow.operation == "undo"
                )
            ).first()
            if already is not None:
                raise ApprovalAlreadyResolvedError(approval_id, "being undone", None)
            self._enqueue(session, approval_id, "undo")
            self._audit.append(session, actor=user, event="undo_requested", subject=approval_id, payload={})
            return approval_from_row(row, self._votes(session, approval_id))

    def notify_updated(self, approval_id: str) -> None:
        """Tell the notifier about the approval's current state."""
        self._notifier.approval_updated(self.get(approval_id))

    # -- transitions used by the outbox worker (inside its transaction) ---------

    def start_execution(self, session: Session, approval_id: str) -> bool:
        """approved -> executing; True also when a crashed attempt left it executing."""
        if self._transition(session, approval_id, ("approved",), "executing"):
            return True
        return self._get_row(session, approval_id).status == "executing"

    def finish_execution(self, session: Session, approval_id: str, result: dict[str, object]) -> bool:
        pre_image = result.get("pre_image")
        return self._transition(
            session,
            approval_id,
            ("executing",),
            "executed",
            result=result,
            pre_image=pre_image if isinstance(pre_image, dict) else None,
            executed_at=self._clock.now(),
        )

    def fail_execution(self, session: Session, approval_id: str, error: str) -> bool:
        return self._transition(session, approval_id, ("executing", "approved"), "failed", reason=error)

    def supersede(self, session: Session, approval_id: str, reason: str) -> bool:
        return self._transition(
            session, approval_id, ("pending", "approved", "executing"), "superseded", reason=reason
        )

    def finish_undo(self, session: Session, approval_id: str, result: dict[str, object]) -> bool:
        return self._transition(session, approval_id, ("executed",), "undone", result=result)

    # -- internals -------------------------------------------------------------

    def _transition(
        self, session: Session, approval_id: str, from_: tuple[str, ...], to: ApprovalStatus, **values: object
    ) -> bool:
        result = session.execute(
            update(ApprovalRow)
            .where(ApprovalRow.id == approval_id, ApprovalRow.status.in_(from_))
            .values(status=to, updated_at=self._clock.now(), revision=ApprovalRow.revision + 1, **values)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    def _checked_edit(self, current: ProposedAction, narrowed: ProposedAction) -> _Edit:
        """Let the policy look at a narrowed change; done before the write transaction
        because reading the CRM inside it would wait on our own lock (SQLite)."""
        if self._gather is not None:
            verdict = evaluate(self.policy, narrowed, self._gather(narrowed))
            if verdict.outcome == "deny":
                raise EditNotAllowedError(f"the policy refuses the edited change: {verdict.reason}")
        return _Edit(base=current.model_dump(mode="json"), narrowed=narrowed)

    def _store_edit(self, session: Session, row: ApprovalRow, edit: _Edit, user: str) -> None:
        """Replace the pending action with the narrower one, if nobody changed it meanwhile."""
        if row.action != edit.base:
            raise EditNotAllowedError("the request changed while you were editing it; look again")
        narrowed = edit.narrowed
        before = row.action
        row.action = narrowed.model_dump(mode="json")
        row.dedupe_key = narrowed.dedupe_key()
        row.dedupe_hash = dedupe_hash(narrowed)
        row.updated_at = self._clock.now()
        row.revision = (row.revision or 0) + 1
        session.flush()
        self._audit.append(
            session,
            actor=user,
            event="edited",
            subject=row.id,
            rule=row_verdict(row).rule,
            payload={"before": before, "after": row.action},
        )

    @contextmanager
    def _refusal_audited(self, approval_id: str, user: str, attempted: str) -> Iterator[None]:
        """An unauthorised attempt changes nothing, but it is written down."""
        try:
            yield
        except NotAnApproverError as refused:
            with self._db.transaction() as session:
                self._audit.append(
                    session,
                    actor=user,
                    event="decision_refused",
                    subject=approval_id,
                    payload={"attempted": attempted, "why": str(refused)},
                )
            raise

    def _enqueue(self, session: Session, approval_id: str, operation: str) -> None:
        now = self._clock.now()
        session.add(
            OutboxRow(
                id=self._new_id(),
                approval_id=approval_id,
                operation=operation,
                status="pending",
                attempts=0,
                available_at=now,
                created_at=now,
            )
        )

    def _claim_pending(self, session: Session, approval_id: str) -> ApprovalRow:
        """Lock a pending approval for this transaction, or explain why it can't be."""
        locked = self._lock_if(session, approval_id, "pending")
        row = self._get_row(session, approval_id)
        if not locked:
            raise ApprovalAlreadyResolvedError(approval_id, row.status, row.decided_by)
        return row

    def _lock_if(self, session: Session, approval_id: str, status: str) -> bool:
        """Row-lock the approval for this transaction if it has ``status`` (a no-op write does it)."""
        touched = session.execute(
            update(ApprovalRow)
            .where(ApprovalRow.id == approval_id, ApprovalRow.status == status)
            .values(updated_at=self._clock.now())
            .execution_options(synchronize_session=False)
        )
        return int(getattr(touched, "rowcount", 0)) == 1

    def _expire_if_due(self, approval_id: str) -> None:
        with self._db.reading() as session:
            row = self._get_row(session, approval_id)
            due = row.status == "pending" and row.expires_at <= self._clock.now()
        if due:
            self.expire(approval_id)

    def expire(self, approval_id: str, *, escalate: bool = False) -> Approval | None:
        """Pending -> expired (``None`` if it was not pending); ``escalate`` also marks it escalated."""
        now = self._clock.now()
        with self._db.transaction() as session:
            row = self._get_row(session, approval_id)
            rule = expiry_for(self.policy, row.kind)
            escalation = {"escalated_at": row.escalated_at or now} if escalate else {}
            if not self._transition(
                session,
                approval_id,
                ("pending",),
                "expired",
                reason=f"expired; fallback: {rule.fallback}",
                **escalation,
            ):
                return None
            self._audit.append(
                session,
                actor="revgate",
                event="expired",
                subject=approval_id,
                rule=f"expiry: {row.kind if row.kind in self.policy.expiry else 'default'}",
                payload={"fallback": rule.fallback, "expires_at": row.expires_at.isoformat()},
            )
            approval = self._load(session, approval_id)
        self._notifier.approval_updated(approval)
        return approval

    def _get_row(self, session: Session, approval_id: str) -> ApprovalRow:
        row = session.execute(
            select(ApprovalRow).where(ApprovalRow.id == approval_id).execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if row is None:
            raise ApprovalNotFoundError(approval_id)
        return row

    def _load(self, session: Session, approval_id: str) -> Approval:
        return approval_from_row(self._get_row(session, approval_id), self._votes(session, approval_id))

    @staticmethod
    def _with_votes(session: Session, rows: Sequence[ApprovalRow]) -> list[Approval]:
        """Rows as approvals, their votes read in one query (not one per row)."""
        votes: dict[str, list[str]] = {row.id: [] for row in rows}
        for start in range(0, len(rows), 500):
            chunk = [row.id for row in rows[start : start + 500]]
            for approval_id, user in session.execute(
                select(ApprovalVoteRow.approval_id, ApprovalVoteRow.user_id)
                .where(ApprovalVoteRow.approval_id.in_(chunk))
                .order_by(ApprovalVoteRow.id)
            ):
                votes[approval_id].append(user)
        return [approval_from_row(row, tuple(votes[row.id])) for row in rows]

    @staticmethod
    def _votes(session: Session, approval_id: str) -> tuple[str, ...]:
        users = session.execute(
            select(ApprovalVoteRow.user_id)
            .where(ApprovalVoteRow.approval_id == approval_id)
            .order_by(ApprovalVoteRow.id)
        ).scalars()
        return tuple(users)


def _check_requester(row: ApprovalRow, user: str, *, requester_may_approve: bool) -> None:
    if not requester_may_approve and user == row.requested_by:
        raise NotAnApproverError(f"{user} requested {row.id} and the policy bars approving one's own request")


def row_verdict(row: ApprovalRow) -> Verdict:
    return Verdict.model_validate(row.verdict)


def _gates_text(row: ApprovalRow) -> str:
    gates = row_verdict(row).gates or (row.kind,)
    return ", ".join(gates)
