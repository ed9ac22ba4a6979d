"""SQLAlchemy 2 table models. Every class ends in ``Row``; domain models live in ``agent.models``.

The ``crm_*`` tables belong to the embedded CRM (``agent.crm.local``); the rest
are revgate's own state. Both live in one database so the demo needs one file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite would drop the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware (UTC) one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class RunRow(Base):
    """One agent pass (hygiene, enrichment, routing ...)."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(80))
    planner: Mapped[str] = mapped_column(String(40))
    policy_name: Mapped[str] = mapped_column(String(200))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class ProposalRow(Base):
    """Every proposal a run produced, with the policy's verdict and what became of it."""

    __tablename__ = "proposals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    effective_kind: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(20))
    record_count: Mapped[int] = mapped_column(Integer)
    check: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(20))
    """allow / require_approval / deny, as the policy said."""
    disposition: Mapped[str] = mapped_column(String(20))
    """executed / failed / queued / refused / duplicate / planned (dry run)."""
    reason: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(200))
    approval_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ApprovalRow(Base):
    """An approval request; its ``status`` only moves through ``agent.approvals``."""

    __tablename__ = "approvals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    dedupe_key: Mapped[str] = mapped_column(Text)
    dedupe_hash: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[dict[str, Any]] = mapped_column(JSON)
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    pre_image: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    executed_at: Mapped[datetime | None]
    slack_channel: Mapped[str | None] = mapped_column(String(40))
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Bumped by every change a person could see (transition, vote, edit)."""
    slack_revision: Mapped[int | None] = mapped_column(Integer)
    """The ``revision`` the Slack card shows; lower than ``revision`` = the card is stale."""
    slack_status: Mapped[str | None] = mapped_column(String(20))
    """The status the Slack card last showed (a change of it gets a reply in the card's thread)."""
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Reminders decided by the expiry tick (one guarded increment each)."""
    last_reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    slack_nudges: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Reminders and escalations posted in the card's thread so far."""


class RejectionRow(Base):
    """A person's "no" to a change on one record: the agent's memory of what not to propose again."""

    __tablename__ = "rejections"
    __table_args__ = (Index("ix_rejections_record", "object_type", "record_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    approval_id: Mapped[str] = mapped_column(ForeignKey("approvals.id"))
    kind: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(40))
    record_version: Mapped[str] = mapped_column(String(64))
    """The version that was rejected; a newer version may be proposed again."""
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]


class ApprovalVoteRow(Base):
    """One approver's yes; N-of-M approvals count these."""

    __tablename__ = "approval_votes"
    __table_args__ = (UniqueConstraint("approval_id", "user_id", name="uq_vote_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    approval_id: Mapped[str] = mapped_column(ForeignKey("approvals.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class OutboxRow(Base):
    """Work to execute, written in the same transaction as the approval that caused it.

    ``(approval_id, operation)`` is unique: one approval can never produce two
    executions (nor two undos).
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("approval_id", "operation", name="uq_outbox_once"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    approval_id: Mapped[str] = mapped_column(ForeignKey("approvals.id"), index=True)
    operation: Mapped[str] = mapped_column(String(20))
    """``execute`` or ``undo``."""
    status: Mapped[str] = mapped_column(String(20), index=True)
    """pending / claimed / done / dead."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditEventRow(Base):
    """Append-only; each row's ``hash`` covers its content and the previous row's hash."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    event: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str | None] = mapped_column(String(40), index=True)
    """An approval, proposal or run id."""
    rule: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHeadRow(Base):
    """The tip of the audit chain; locking this row serialises appends on every database."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


class JobClaimRow(Base):
    """One logical scheduled run, claimed by exactly one replica.

    ``run_key`` comes from the *scheduled* fire time (never the clock), so every
    replica that fires the same job at the same slot computes the same key and
    only one insert wins. A ``running`` claim whose ``lease_until`` has passed
    belongs to a replica that died and may be taken over.
    """

    __tablename__ = "job_claims"

    job: Mapped[str] = mapped_column(String(80), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), index=True)
    """running / done / failed."""
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[datetime]
    lease_until: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class InboxRow(Base):
    """Work a Slack listener handed on after its ack (a decision, a command's reply).

    The web process only appends rows; whoever runs the consumer (the same
    process, or ``revgate worker``) claims them with a guarded update and runs them.
    """

    __tablename__ = "inbox"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    task: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)
    """pending / claimed / done / dead."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class QualitySnapshotRow(Base):
    """The day's data-quality score and open issues per check: the summary's trend and deltas."""

    __tablename__ = "quality_snapshots"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    """0-100: the share of records with no open hygiene issue."""
    records: Mapped[int] = mapped_column(Integer)
    issues: Mapped[int] = mapped_column(Integer)
    by_check: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime]


class CRMRecordRow(Base):
    """A lead, contact or account in the embedded CRM."""

    __tablename__ = "crm_records"
    __table_args__ = (
        Index("ix_crm_records_type_email", "object_type", "email"),
        Index("ix_crm_records_type_updated", "object_type", "updated_at"),
        Index("ix_crm_records_type_id", "object_type", "id"),  # paging one type by id (0004)
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(320))
    """Copied out of ``fields`` so exact-email search can use an index."""
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
    merged_into: Mapped[str | None] = mapped_column(String(40))


class CRMOwnerRow(Base):
    __tablename__ = "crm_owners"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean)
    team: Mapped[str | None] = mapped_column(String(80))
    slack_user_id: Mapped[str | None] = mapped_column(String(40))


class CRMNoteRow(Base):
    __tablename__ = "crm_notes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(40), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CRMAppliedOpRow(Base):
    """Idempotency keys the embedded CRM has applied, with what they produced."""

    __tablename__ = "crm_applied_ops"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    operation: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(40))
    result_ref: Mapped[str | None] = mapped_column(String(40))
    applied_at: Mapped[datetime]


class CRMWriteLedgerRow(Base):
    """Idempotency keys a remote CRM adapter has claimed, with how far the write got.

    Neither HubSpot nor Salesforce takes an idempotency key, so the adapter keeps them
    here: ``started`` before the request leaves, ``done`` once the CRM answered.
    """

    __tablename__ = "crm_write_ledger"

    crm: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    operation: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(10))
    result_ref: Mapped[str | None] = mapped_column(String(80))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


__all__ = [
    "ApprovalRow",
    "ApprovalVoteRow",
    "AuditEventRow",
    "AuditHeadRow",
    "Base",
    "CRMAppliedOpRow",
    "CRMNoteRow",
    "CRMOwnerRow",
    "CRMRecordRow",
    "CRMWriteLedgerRow",
    "InboxRow",
    "JobClaimRow",
    "OutboxRow",
    "ProposalRow",
    "QualitySnapshotRow",
    "RejectionRow",
    "RunRow",
]


class RoutingPoolRow(Base):
    """One routing pool: the row a pick locks, so concurrent routings take turns."""

    __tablename__ = "routing_pools"

    pool: Mapped[str] = mapped_column(String(80), primary_key=True)
    picks: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None]


class RoutingPoolMemberRow(Base):
    """A member's place in a pool's smooth weighted round-robin."""

    __tablename__ = "routing_pool_members"

    pool: Mapped[str] = mapped_column(String(80), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    current: Mapped[float] = mapped_column(Float, default=0.0)
    """The round-robin's running credit: raised by the weight at each pick the member could
    take, lowered by the total weight when picked."""
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    last_assigned_at: Mapped[datetime | None]


class RoutingAssignmentRow(Base):
    """A lead routed to an owner, with its SLA clock and the decision that explains it."""

    __tablename__ = "routing_assignments"
    __table_args__ = (
        Index("ix_routing_assignments_owner_day", "owner_id", "day"),
        Index("ix_routing_assignments_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(80), index=True)
    owner_id: Mapped[str | None] = mapped_column(String(80))
    previous_owner_id: Mapped[str | None] = mapped_column(String(80))
    pool: Mapped[str | None] = mapped_column(String(80))
    queue: Mapped[str | None] = mapped_column(String(80))
    rule: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))
    """pending (waiting for an approval) / open (SLA running) / worked / reassigned / queued /
    unchanged / closed, or the approval's end when it never ran (rejected, expired, superseded,
    failed) or the policy's (refused)."""
    stage: Mapped[int] = mapped_column(Integer, default=0)
    """0 routed, 1 reminded, 2 escalated, 3 reassigned (only the old row: the new routing starts at 0)."""
    day: Mapped[date]
    """The owner's local date at routing (daily caps)."""
    routed_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    """When the next SLA step is due (``None``: no SLA running)."""
    worked_at: Mapped[datetime | None]
    approval_id: Mapped[str | None] = mapped_column(String(40))
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)


_LIVE_MEETING = text("status != 'cancelled'")


class CRMMeetingRow(Base):
    """A meeting activity on a record's timeline in the embedded CRM."""

    __tablename__ = "crm_meetings"
    __table_args__ = (
        Index("ix_crm_meetings_owner_start", "owner_id", "starts_at"),
        Index("ix_crm_meetings_record", "record_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    uid: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MeetingRow(Base):
    """A meeting revgate booked: its slot, its CRM activity, the invite versions sent, its Slack message.

    ``status``: ``booking`` (claimed, CRM or invite not yet confirmed), ``booked``, ``cancelled``.
    """

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("action_id", name="uq_meetings_action"),
        Index("ix_meetings_lead", "lead_id"),
        Index(
            "uq_meetings_rep_start_live",
            "rep_id",
            "starts_at",
            unique=True,
            sqlite_where=_LIVE_MEETING,
            postgresql_where=_LIVE_MEETING,
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(40))
    """The booking action's id: the idempotency key of the booking."""
    approval_id: Mapped[str | None] = mapped_column(String(40))
    lead_id: Mapped[str] = mapped_column(String(80))
    rep_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    uid: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(Integer)
    """The invite version the meeting is at (0: as booked; +1 per reschedule or cancellation)."""
    invite_sequence: Mapped[int | None] = mapped_column(Integer)
    """The last invite version handed over (``None``: none yet)."""
    crm_activity_id: Mapped[str | None] = mapped_column(String(80))
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_by: Mapped[str | None] = mapped_column(String(80))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    slack_channel: Mapped[str | None] = mapped_column(String(40))
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    slack_revision: Mapped[int | None] = mapped_column(Integer)
