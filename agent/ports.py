"""The small interfaces the agent talks to; the edges (``bot/``, ``agent.crm``) implement them.

The agent never imports Slack or a CRM SDK: it is handed objects that satisfy
these Protocols by the composition root (``bot.container``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from agent.models import (
    Approval,
    FieldValue,
    MeetingActivity,
    MeetingStatus,
    Note,
    ObjectType,
    Owner,
    Record,
)


class Clock(Protocol):
    """Where the agent gets the time from; tests pass a fixed one."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class CRMClient(Protocol):
    """Read and write CRM records. Every write is idempotent and version-checked.

    Contract for every adapter:

    - Records carry a ``version`` that changes on every write.
    - A write with ``expected_version`` raises ``CRMConflictError`` when the record
      has another version, and writes nothing.
    - A write whose ``idempotency_key`` the CRM has already applied writes nothing
      and returns the record as it is now; replays are therefore safe.
    - Missing records raise ``CRMNotFoundError`` on write and read as ``None``.
    - Transient failures raise ``CRMRateLimitedError`` (429) or ``CRMUnavailableError``
      (5xx, unreachable); an auth failure (expired or revoked token) raises
      ``CRMAuthError``; data the CRM refuses raises ``CRMValidationError``. Nothing is
      half-written on error.
    """

    name: str

    def get(self, object_type: ObjectType, record_id: str) -> Record | None:
        """One record, or ``None`` when it does not exist (or was merged away)."""
        ...

    def get_many(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        """The records that exist among ``record_ids``, by id."""
        ...

    def iter_records(
        self, object_type: ObjectType, *, changed_since: datetime | None = None, batch_size: int = 1000
    ) -> Iterator[Record]:
        """Every live record of a type (changed at or after ``changed_since`` if given), by id."""
        ...

    def search(self, object_type: ObjectType, field: str, value: FieldValue) -> list[Record]:
        """Records whose canonical ``field`` (``owner_id`` included) equals ``value`` exactly."""
        ...

    def update(
        self,
        object_type: ObjectType,
        record_id: str,
        changes: Mapping[str, FieldValue],
        *,
        expected_version: str,
        idempotency_key: str,
    ) -> Record:
        """Set fields (``owner_id`` included; ``None`` clears one) and return the record as written.

        Compare-and-set: a record whose version is not ``expected_version`` raises
        ``CRMConflictError`` and nothing is written. A replayed ``idempotency_key`` returns the
        record as it is now, writing nothing again. Tested for every adapter by
        ``tests/crm/conformance.py``.
        """
        ...

    def merge(
        self,
        object_type: ObjectType,
        survivor_id: str,
        merged_ids: Sequence[str],
        field_plan: Mapping[str, FieldValue],
        *,
        expected_versions: Mapping[str, str],
        idempotency_key: str,
    ) -> Record:
        """Merge ``merged_ids`` into the survivor, apply ``field_plan`` to it, return it.

        The survivor keeps its own values except those the plan sets, and the merged records'
        notes; the merged records are gone from every read. Any record whose version is not
        its expected one raises ``CRMConflictError`` and nothing is written.
        """
        ...

    def delete(
        self, object_type: ObjectType, record_id: str, *, expected_version: str, idempotency_key: str
    ) -> None:
        """Delete a record."""
        ...

    def add_note(self, object_type: ObjectType, record_id: str, body: str, *, idempotency_key: str) -> Note:
        """Attach a note to a record and return it (the same note on a replay)."""
        ...

    def notes(self, object_type: ObjectType, record_id: str) -> list[Note]:
        """The notes on a record, oldest first."""
        ...

    def owners(self) -> list[Owner]:
        """Every user who can own records, active or not."""
        ...

    def get_owner(self, owner_id: str) -> Owner | None: ...


@runtime_checkable
class RecordLinks(Protocol):
    """A CRM whose records have a page in its web UI (approval cards link to it)."""

    def record_url(self, object_type: ObjectType, record_id: str) -> str:
        """The address of the record's page in the CRM's web UI."""
        ...


@runtime_checkable
class MeetingActivities(Protocol):
    """A CRM that records meetings on a record's timeline (a booking's CRM side).

    Contract, as for record writes: every write takes an idempotency key and a replayed
    key writes nothing and returns the activity as it is now; a missing record or activity
    raises ``CRMNotFoundError``; transient failures raise ``CRMRateLimitedError`` or
    ``CRMUnavailableError``; nothing is half-written. Tested for every adapter by
    ``tests/crm/meetings_conformance.py``.
    """

    def record_meeting(
        self,
        object_type: ObjectType,
        record_id: str,
        *,
        owner_id: str,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        body: str,
        uid: str,
        idempotency_key: str,
    ) -> MeetingActivity:
        """Add a scheduled meeting with ``owner_id`` to the record's timeline and return it."""
        ...

    def update_meeting(
        self,
        activity_id: str,
        *,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        status: MeetingStatus | None = None,
        idempotency_key: str,
    ) -> MeetingActivity:
        """Move a meeting (both times given) or cancel it (``status="cancelled"``); return it."""
        ...

    def get_meeting(self, activity_id: str) -> MeetingActivity | None:
        """One meeting activity, or ``None`` when there is no such activity."""
        ...

    def owner_meetings(self, owner_id: str, start: datetime, end: datetime) -> list[MeetingActivity]:
        """The owner's busy meetings overlapping ``[start, end)``, by start: revgate's scheduled ones
        and those logged in the CRM by hand or synced from a calendar (empty ``uid``), which
        ``update_meeting`` refuses with ``CRMValidationError``: revgate never changes them."""
        ...


class InviteSender(Protocol):
    """Sends a meeting's iCalendar invite (``text/calendar``, RFC 5546) to its attendee.

    ``body`` is the whole calendar object (:func:`agent.meetings.invites.invite`); ``uid``
    and ``sequence`` identify the version, so a sender can skip a version it already sent.
    Raises ``InviteDeliveryError`` when the invite could not be handed over.
    """

    def send(self, *, uid: str, sequence: int, method: str, to: str, subject: str, body: bytes) -> str:
        """Hand the invite over; return where it went (a message id, a file), for the log."""
        ...


class ApproverDirectory(Protocol):
    """Resolves approver groups (Slack user groups) to their members."""

    def is_member(self, user_id: str, group_id: str) -> bool: ...


class NoGroups:
    """A directory that knows no groups: only approvers listed by user id qualify."""

    def is_member(self, user_id: str, group_id: str) -> bool:
        return False


class Notifier(Protocol):
    """Tells people about approvals (Slack cards in production).

    Called after the state change is committed; a notifier failure never undoes
    a decision, it is logged and retried by the edge.
    """

    def approval_requested(self, approval: Approval) -> None: ...

    def approval_updated(self, approval: Approval) -> None: ...


class SilentNotifier:
    """Tells nobody; for the CLI and the offline demo."""

    def approval_requested(self, approval: Approval) -> None:
        return None

    def approval_updated(self, approval: Approval) -> None:
        return None
