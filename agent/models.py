"""Domain models shared by every part of the agent.

These are pydantic models, never ORM rows: the store converts between the two
(rows carry a ``Row`` suffix, see ``agent.store.rows``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ObjectType = Literal["lead", "contact", "account"]
"""The CRM objects revgate reads and writes (owners are :class:`Owner`)."""

ActionKind = Literal[
    "update_lead_status",
    "add_note",
    "enrich_data",
    "normalize_field",
    "assign_owner",
    "change_owner",
    "merge",
    "delete",
    "book_meeting",
]
"""Every kind of change the agent can propose."""

Condition = Literal["bulk_operations", "high_value_changes", "outside_working_hours", "other_rep"]
"""Policy conditions evaluated on the data, never on what a planner claims."""

ACTION_KINDS: tuple[ActionKind, ...] = ActionKind.__args__  # type: ignore[attr-defined]
CONDITIONS: tuple[Condition, ...] = Condition.__args__  # type: ignore[attr-defined]
PLANNER_KINDS: tuple[ActionKind, ...] = tuple(k for k in ACTION_KINDS if k != "book_meeting")
"""What hygiene planners (the model among them) may propose; meetings are booked by
:mod:`agent.meetings.booking` from the routing file and the calendars, never by a model."""

MeetingStatus = Literal["scheduled", "cancelled"]

Outcome = Literal["allow", "require_approval", "deny"]

ApprovalStatus = Literal[
    "pending",
    "approved",
    "rejected",
    "expired",
    "superseded",
    "executing",
    "executed",
    "failed",
    "undone",
]

APPROVAL_STATUSES: tuple[ApprovalStatus, ...] = ApprovalStatus.__args__  # type: ignore[attr-defined]

FieldValue = str | int | float | bool | None
"""A CRM field value as revgate sees it (already decoded from the CRM's JSON)."""

OWNER_FIELD = "owner_id"
"""The field that carries a record's owner; only owner actions may change it."""

STATUS_FIELD = "status"
"""The lead status field; only ``update_lead_status`` may change it."""

REVERSIBLE_KINDS: frozenset[ActionKind] = frozenset(
    {"update_lead_status", "enrich_data", "normalize_field", "assign_owner", "change_owner"}
)
"""Kinds whose pre-image can be written back by an undo."""


_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Record(_Frozen):
    """One CRM record (lead, contact or account) with the version it was read at."""

    object_type: ObjectType
    id: str
    version: str
    """Opaque version token; it changes on every write (staleness checks compare it)."""
    owner_id: str | None = None
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    """Canonical field names (see ``agent.crm.fields``) to values."""
    created_at: datetime
    updated_at: datetime

    def get(self, name: str) -> FieldValue:
        """The value of a field; ``owner_id`` is a field like any other here."""
        if name == OWNER_FIELD:
            return self.owner_id
        return self.fields.get(name)


class Owner(_Frozen):
    """A CRM user who can own records."""

    id: str
    name: str
    email: str
    active: bool = True
    team: str | None = None
    slack_user_id: str | None = None


class Note(_Frozen):
    """A note attached to a record."""

    id: str
    object_type: ObjectType
    record_id: str
    body: str
    created_at: datetime


class FieldChange(_Frozen):
    """One field's value before (as planned) and after the change."""

    before: FieldValue
    after: FieldValue


class Target(_Frozen):
    """One record an action touches, as the planner saw it."""

    record_id: str
    version: str
    """The record version the plan was based on (staleness check before writing)."""
    changes: dict[str, FieldChange] = Field(default_factory=dict)
    note: str | None = None
    """The note body, for ``add_note``."""
    label: str | None = None
    """A human name for the record (shown on cards and in the CLI)."""


class MergePlan(_Frozen):
    """Which record survives a merge and what its fields become."""

    survivor_id: str
    field_plan: dict[str, FieldValue] = Field(default_factory=dict)
    """Survivor field values after the merge (only fields that change)."""
    caveats: list[str] = Field(default_factory=list)


class MeetingSlot(_Frozen):
    """A meeting time in UTC."""

    start: datetime
    end: datetime


class MeetingPlan(_Frozen):
    """The meeting a ``book_meeting`` action books, with what the policy and the card need.

    The rep's hours and the lead's zone are copied from the routing file and the lead at
    planning time; the policy measures ``outside_working_hours`` on them and the booking
    re-reads both before writing (a changed routing file or lead is a stale plan).
    """

    rep_id: str
    rep_name: str
    rep_email: str
    lead_name: str
    lead_email: str
    start: datetime
    end: datetime
    rep_zone: str
    rep_hours: str
    """``09:00-17:00`` (``24:00`` allowed), the rep's working hours in ``rep_zone``."""
    rep_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    """The rep's working weekdays, Monday 0."""
    lead_zone: str
    lead_zone_note: str = ""
    """Where the lead's zone came from, and the assumption when it is a guess."""
    title: str
    alternatives: list[MeetingSlot] = Field(default_factory=list)
    """The next free slots, for a person who prefers another time (shown on the card)."""
    substitution: str | None = None
    """Why the rep is not the lead's owner (the owner is away for the whole horizon)."""
    buffer_minutes: int = Field(default=0, ge=0)

    @field_validator("rep_zone", "lead_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("rep_hours")
    @classmethod
    def _hours_shape(cls, value: str) -> str:
        if not _HOURS.match(value) or value[:5] >= value[6:]:
            raise ValueError(f"rep_hours must look like 09:00-17:00, not {value!r}")
        return value

    @field_validator("rep_days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or not set(value) <= set(range(7)):
            raise ValueError(f"rep_days must be weekday numbers 0-6, at least one: {value}")
        return value


class ProposedAction(_Frozen):
    """A change the agent wants to make. Planners only ever produce these."""

    id: str
    kind: ActionKind
    object_type: ObjectType
    targets: list[Target] = Field(min_length=1)
    merge: MergePlan | None = None
    meeting: MeetingPlan | None = None
    rationale: str
    """Why, in one or two sentences an approver can read in seconds."""
    evidence: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Match score, enrichment source, routing rule hit, model confidence."""
    planner: str = "offline"
    check: str = ""
    """The hygiene check (or other source) that produced it."""
    requested_by: str = "agent"
    """Who or what triggered it: ``agent``, a Slack user id, a CLI user."""

    @model_validator(mode="after")
    def _kind_matches_shape(self) -> ProposedAction:
        problems = shape_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def record_ids(self) -> list[str]:
        return [t.record_id for t in self.targets]

    def dedupe_key(self) -> str:
        """Same kind, same records, same change: the same proposal."""
        parts: list[str] = [self.kind, self.object_type]
        for t in sorted(self.targets, key=lambda t: t.record_id):
            changes = ",".join(f"{k}={v.after!r}" for k, v in sorted(t.changes.items()))
            parts.append(f"{t.record_id}[{changes}|{t.note or ''}]")
        if self.merge:
            parts.append(f"survivor={self.merge.survivor_id}")
        if self.meeting:
            parts.append(f"meeting={self.meeting.rep_id}@{self.meeting.start.isoformat()}")
        return "|".join(parts)


def shape_problems(action: ProposedAction) -> list[str]:
    """What is wrong with an action's shape for its kind (empty when it is fine).

    A kind may only change what it names: a status update cannot move an owner,
    a normalisation cannot change a status. This is checked again by the executor,
    so a planner cannot smuggle a change under a harmless kind.
    """
    kind = action.kind
    changed = {name for t in action.targets for name in t.changes}
    problems: list[str] = []
    if len({t.record_id for t in action.targets}) != len(action.targets):
        problems.append("a record appears twice in targets")
    if kind == "update_lead_status":
        if action.object_type != "lead":
            problems.append("update_lead_status applies to leads only")
        if changed - {STATUS_FIELD} or not changed:
            problems.append("update_lead_status may change only 'status'")
    elif kind in ("normalize_field", "enrich_data"):
        if not changed:
            problems.append(f"{kind} must change at least one field")
        if changed & {OWNER_FIELD, STATUS_FIELD}:
            problems.append(f"{kind} may not change owner_id or status")
    elif kind in ("assign_owner", "change_owner"):
        if changed != {OWNER_FIELD}:
            problems.append(f"{kind} may change only 'owner_id'")
        for t in action.targets:
            if OWNER_FIELD in t.changes and not t.changes[OWNER_FIELD].after:
                problems.append(f"{kind} needs a new owner for {t.record_id}")
    elif kind == "add_note":
        if changed:
            problems.append("add_note may not change fields")
        if any(not (t.note or "").strip() for t in action.targets):
            problems.append("add_note needs a note body for every target")
    elif kind == "merge":
        if len(action.targets) < 2:
            problems.append("merge needs at least two records")
        if action.merge is None:
            problems.append("merge needs a merge plan")
        elif action.merge.survivor_id not in {t.record_id for t in action.targets}:
            problems.append("merge survivor must be one of the targets")
        if changed:
            problems.append("merge carries its changes in the merge plan")
    elif kind == "delete" and changed:
        problems.append("delete may not change fields")
    elif kind == "book_meeting":
        problems.extend(_meeting_problems(action, changed))
    if kind != "merge" and action.merge is not None:
        problems.append("only merge actions carry a merge plan")
    if kind != "book_meeting" and action.meeting is not None:
        problems.append("only book_meeting actions carry a meeting plan")
    return problems


def _meeting_problems(action: ProposedAction, changed: set[str]) -> list[str]:
    problems: list[str] = []
    if action.object_type != "lead" or len(action.targets) != 1:
        problems.append("book_meeting applies to one lead")
    if changed or any(t.note for t in action.targets):
        problems.append("book_meeting may not change fields or add notes")
    plan = action.meeting
    if plan is None:
        return [*problems, "book_meeting needs a meeting plan"]
    if plan.start.tzinfo is None or plan.end.tzinfo is None:
        problems.append("meeting times must be timezone-aware")
    elif plan.end <= plan.start:
        problems.append("a meeting must end after it starts")
    return problems


class ActionFacts(_Frozen):
    """What the data (not the planner) says about an action; policy input."""

    effective_kind: ActionKind
    """The kind the data makes it: assigning an owner to an owned record is a change."""
    records_touched: int
    max_value: float | None = None
    """The largest value of the policy's high-value field, before or after the change."""
    run_records_touched: int = 0
    """Records already written directly earlier in the same run."""
    outside_working_hours: str | None = None
    """For a meeting: why its time is outside the rep's or the lead's hours (``None``: inside)."""
    other_rep: str | None = None
    """For a meeting: why its rep is not the lead's owner (``None``: the owner)."""


class Verdict(_Frozen):
    """The policy's answer for one action: what, why, and which rule decided."""

    outcome: Outcome
    reason: str
    rule: str
    """The policy entry that decided, e.g. ``forbidden_actions: delete``."""
    gates: tuple[str, ...] = ()
    """For ``require_approval``: every requires_approval entry that applies."""


class Approval(_Frozen):
    """An approval request for a gated action, as stored."""

    id: str
    action: ProposedAction
    status: ApprovalStatus
    verdict: Verdict
    run_id: str | None = None
    requested_by: str
    created_at: datetime
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    """The rejection reason, the failure error, or why it was superseded."""
    approvals: tuple[str, ...] = ()
    """Who has approved so far (N-of-M)."""
    pre_image: dict[str, dict[str, FieldValue]] | None = None
    result: dict[str, Any] | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None
    updated_at: datetime | None = None
    executed_at: datetime | None = None
    revision: int = 0
    """Bumped by every change a person could see (transition, vote, edit)."""
    slack_revision: int | None = None
    """The revision the Slack card shows."""
    slack_status: ApprovalStatus | None = None
    """The status the Slack card last showed."""
    reminders_sent: int = 0
    escalated_at: datetime | None = None
    slack_nudges: int = 0
    """Reminders and escalations already posted in the card's thread."""

    @property
    def nudges(self) -> int:
        """Reminders and escalations decided so far (the thread should show this many)."""
        return self.reminders_sent + (1 if self.escalated_at is not None else 0)


class Approved(_Frozen):
    kind: Literal["approve"] = "approve"
    user: str


class Rejected(_Frozen):
    kind: Literal["reject"] = "reject"
    user: str
    reason: str = Field(min_length=1)
    """A "no" must say why; the reason is fed back to the planner."""

    @model_validator(mode="after")
    def _reason_not_blank(self) -> Rejected:
        if not self.reason.strip():
            raise ValueError("a rejection needs a reason")
        return self


Decision = Annotated[Approved | Rejected, Field(discriminator="kind")]


class ExecutionResult(_Frozen):
    """What a write did, as checked by re-reading the CRM afterwards."""

    written: list[str] = Field(default_factory=list)
    """Record ids written (or merged into the survivor)."""
    skipped: dict[str, str] = Field(default_factory=dict)
    """Record id -> why it was left alone (bulk actions skip changed records)."""
    versions: dict[str, str] = Field(default_factory=dict)
    """Record id -> version after the write."""
    note_ids: list[str] = Field(default_factory=list)
    pre_image: dict[str, dict[str, FieldValue]] = Field(default_factory=dict)
    """Record id -> the changed fields' values before the write (for undo)."""
    replayed: bool = False
    """True when the CRM had already applied this idempotency key."""
    survivor_id: str | None = None
    """A merge's record as it is now; HubSpot gives it a new id, other CRMs keep the plan's survivor."""
    meeting_id: str | None = None
    """A booking's meeting (``revgate meetings``), with its CRM activity and invite."""


class MeetingActivity(_Frozen):
    """A meeting as the CRM records it on a record's timeline (HubSpot meeting, Salesforce Event)."""

    id: str
    object_type: ObjectType
    record_id: str = ""
    """The record the meeting is on; empty when it is on no record the adapter maps.

    ``object_type`` then means nothing.
    """
    owner_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus = "scheduled"
    body: str = ""
    uid: str = ""
    """The iCalendar ``UID`` of the invite: the CRM activity and the invite are one event.

    Empty for a meeting revgate did not book (logged by hand, synced from a calendar): such a
    meeting is the owner's busy time, read-only to revgate.
    """
