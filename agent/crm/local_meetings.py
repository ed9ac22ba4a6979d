"""The embedded CRM's meeting activities (:class:`~agent.ports.MeetingActivities`) over ``crm_meetings``.

Each write is one transaction holding the activity and its idempotency key
(``crm_applied_ops``), as the record writes of :mod:`agent.crm.local` are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent.crm.local_guards import check_key, check_owner, record_op, replayed
from agent.crm.local_rows import load_live
from agent.errors import CRMError, CRMNotFoundError, CRMValidationError
from agent.meetings.intervals import require_aware
from agent.models import MeetingActivity, MeetingStatus, ObjectType
from agent.ports import Clock
from agent.store.database import Database
from agent.store.rows import CRMMeetingRow

_T = TypeVar("_T")


class LocalMeetings:
    """Meeting activities in the embedded CRM; :class:`~agent.crm.local.LocalCRM` exposes them."""

    def __init__(self, database: Database, *, clock: Clock, new_id: Callable[[], str]) -> None:
        self._db = database
        self._clock = clock
        self._new_id = new_id

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
        check_key(idempotency_key)
        starts_at, ends_at = _utc_span(starts_at, ends_at)

        def work(session: Session) -> MeetingActivity:
            op = replayed(session, idempotency_key, "record_meeting", record_id)
            if op is not None:
                return _activity(self._row(session, op.result_ref, idempotency_key))
            load_live(session, object_type, record_id)
            check_owner(session, owner_id)
            now = self._clock.now()
            row = CRMMeetingRow(
                id=self._new_id(),
                object_type=object_type,
                record_id=record_id,
                owner_id=owner_id,
                title=title,
                starts_at=starts_at,
                ends_at=ends_at,
                status="scheduled",
                body=body,
                uid=uid,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            record_op(session, idempotency_key, "record_meeting", record_id, row.id, now)
            session.flush()
            return _activity(row)

        return self._meeting_write(work)

    def update_meeting(
        self,
        activity_id: str,
        *,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        status: MeetingStatus | None = None,
        idempotency_key: str,
    ) -> MeetingActivity:
        check_key(idempotency_key)
        if (starts_at is None) != (ends_at is None):
            raise CRMValidationError("a meeting is moved with both its start and its end")
        if starts_at is not None and ends_at is not None:
            starts_at, ends_at = _utc_span(starts_at, ends_at)

        def work(session: Session) -> MeetingActivity:
            op = replayed(session, idempotency_key, "update_meeting", activity_id)
            if op is not None:
                return _activity(self._row(session, activity_id, idempotency_key))
            row = session.get(CRMMeetingRow, activity_id)
            if row is None:
                raise CRMNotFoundError(f"no meeting {activity_id}")
            if not row.uid:  # not one revgate booked (seeded as logged by hand)
                raise CRMValidationError(
                    f"meeting {activity_id} is not a meeting revgate booked; change it in the CRM"
                )
            if starts_at is not None and ends_at is not None:
                row.starts_at, row.ends_at = starts_at, ends_at
            if status is not None:
                row.status = status
            now = self._clock.now()
            row.updated_at = now
            record_op(session, idempotency_key, "update_meeting", activity_id, activity_id, now)
            session.flush()
            return _activity(row)

        return self._meeting_write(work)

    def get_meeting(self, activity_id: str) -> MeetingActivity | None:
        with self._db.reading() as session:
            row = session.get(CRMMeetingRow, activity_id)
            return _activity(row) if row is not None else None

    def owner_meetings(self, owner_id: str, start: datetime, end: datetime) -> list[MeetingActivity]:
        with self._db.reading() as session:
            rows = session.scalars(
                select(CRMMeetingRow)
                .where(
                    CRMMeetingRow.owner_id == owner_id,
                    CRMMeetingRow.status != "cancelled",
                    CRMMeetingRow.starts_at < end,
                    CRMMeetingRow.ends_at > start,
                )
                .order_by(CRMMeetingRow.starts_at, CRMMeetingRow.id)
            )
            return [_activity(row) for row in rows]

    def record_meetings(self, object_type: ObjectType, record_id: str) -> list[MeetingActivity]:
        """The meetings on a record's timeline, by start (not part of the port: for the CLI and tests)."""
        with self._db.reading() as session:
            rows = session.scalars(
                select(CRMMeetingRow)
                .where(CRMMeetingRow.object_type == object_type, CRMMeetingRow.record_id == record_id)
                .order_by(CRMMeetingRow.starts_at, CRMMeetingRow.id)
            )
            return [_activity(row) for row in rows]

    @staticmethod
    def _row(session: Session, activity_id: str | None, key: str) -> CRMMeetingRow:
        row = session.get(CRMMeetingRow, activity_id) if activity_id else None
        if row is None:
            raise CRMError(f"meeting {activity_id} of idempotency key {key!r} is gone")
        return row

    def _meeting_write(self, work: Callable[[Session], _T]) -> _T:
        # A concurrent write of the same key loses on the key's primary key; the second
        # run sees the winner's key and replays it.
        try:
            with self._db.transaction() as session:
                return work(session)
        except IntegrityError:
            pass
        with self._db.transaction() as session:
            return work(session)


def _utc_span(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """The span in UTC, as every read returns it; a naive or empty span is refused."""
    try:
        start, end = require_aware(starts_at, "start"), require_aware(ends_at, "end")
    except ValueError as naive:
        raise CRMValidationError(str(naive)) from naive
    if end <= start:
        raise CRMValidationError("a meeting must end after it starts")
    return start, end


def _activity(row: CRMMeetingRow) -> MeetingActivity:
    return MeetingActivity(
        id=row.id,
        object_type=cast(ObjectType, row.object_type),
        record_id=row.record_id,
        owner_id=row.owner_id,
        title=row.title,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        status=cast(MeetingStatus, row.status),
        body=row.body,
        uid=row.uid,
    )
