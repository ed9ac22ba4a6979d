"""The meetings revgate booked (``meetings`` table): the one source of truth a booking's CRM
activity and invite are kept in step with.

A meeting row moves ``booking`` (the slot is claimed) -> ``booked`` (the CRM holds it) ->
``cancelled``. Every change is one guarded ``UPDATE`` on the status and ``revision`` the
caller read, so two people rescheduling at once cannot both win; each reschedule or
cancellation raises ``sequence`` (the invite's ``SEQUENCE``). ``invite_sequence`` is the
last invite version handed over, so an invite that could not be sent is sent later.

Double booking is refused twice over: the claim re-reads the rep's live bookings inside its
transaction (on PostgreSQL under an advisory lock per rep, so two claims take turns), and a
unique index forbids two live bookings of one rep at one start time.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent.errors import MeetingClosedError, MeetingNotFoundError, SlotTakenError
from agent.meetings.intervals import Interval, conflicts
from agent.models import MeetingPlan
from agent.store.database import Database
from agent.store.rows import ApprovalRow, MeetingRow

BookingStatus = Literal["booking", "booked", "cancelled"]
LIVE: tuple[BookingStatus, ...] = ("booking", "booked")


@dataclass(frozen=True)
class Booking:
    """A meeting as revgate holds it (see the module doc)."""

    id: str
    action_id: str
    approval_id: str | None
    lead_id: str
    rep_id: str
    status: BookingStatus
    start: datetime
    end: datetime
    uid: str
    sequence: int
    invite_sequence: int | None
    crm_activity_id: str | None
    plan: MeetingPlan
    created_by: str
    created_at: datetime
    updated_at: datetime
    cancel_reason: str | None
    revision: int
    cancelled_by: str | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None
    slack_revision: int | None = None

    @property
    def span(self) -> Interval:
        return self.start, self.end

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def invite_pending(self) -> bool:
        """An invite version (or the cancellation) not handed over yet."""
        return self.invite_sequence != self.sequence

    @property
    def plan_now(self) -> MeetingPlan:
        """The plan at the meeting's current time (a reschedule moves it)."""
        return self.plan.model_copy(update={"start": self.start, "end": self.end})


class MeetingBook:
    """Reads and guarded writes of the ``meetings`` table."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # -- reads -------------------------------------------------------------------

    def get(self, meeting_id: str) -> Booking:
        """Raises :class:`MeetingNotFoundError` when there is no such meeting."""
        with self._db.reading() as session:
            row = session.get(MeetingRow, meeting_id)
            if row is None:
                raise MeetingNotFoundError(f"no meeting {meeting_id}; see revgate meetings list")
            return _booking(row)

    def for_action(self, action_id: str) -> Booking | None:
        """The meeting booked by an action (its idempotency key), if any."""
        with self._db.reading() as session:
            row = session.scalars(select(MeetingRow).where(MeetingRow.action_id == action_id)).first()
            return _booking(row) if row is not None else None

    def listed(
        self, *, lead_id: str | None = None, since: datetime | None = None, include_cancelled: bool = False
    ) -> list[Booking]:
        """Meetings by start: of one lead, ending after ``since``, live only unless asked."""
        query = select(MeetingRow).order_by(MeetingRow.starts_at, MeetingRow.id)
        if lead_id is not None:
            query = query.where(MeetingRow.lead_id == lead_id)
        if since is not None:
            query = query.where(MeetingRow.ends_at > since)
        if not include_cancelled:
            query = query.where(MeetingRow.status.in_(LIVE))
        with self._db.reading() as session:
            return [_booking(row) for row in session.scalars(query)]

    def busy(
        self, rep_id: str, start: datetime, end: datetime, *, besides: str | None = None
    ) -> list[Interval]:
        """The rep's live bookings overlapping ``[start, end)`` (but ``besides``), as intervals."""
        with self._db.reading() as session:
            return _live_spans(session, rep_id, start, end, besides)

    def pending_sync(self) -> list[Booking]:
        """Meetings whose CRM activity or invite is behind the row (to be brought in step)."""
        query = select(MeetingRow).where(
            (MeetingRow.invite_sequence.is_(None))
            | (MeetingRow.invite_sequence != MeetingRow.sequence)
            | (MeetingRow.status == "booking")
        )
        with self._db.reading() as session:
            return [_booking(row) for row in session.scalars(query.order_by(MeetingRow.created_at))]

    # -- writes ------------------------------------------------------------------

    def claim(
        self,
        *,
        meeting_id: str,
        action_id: str,
        approval_id: str | None,
        lead_id: str,
        plan: MeetingPlan,
        uid: str,
        created_by: str,
        buffer: Any,
        now: datetime,
    ) -> Booking:
        """Claim the plan's slot for its rep (``booking``), or raise :class:`SlotTakenError`.

        ``buffer`` (a ``timedelta``) is kept free around the rep's other bookings.
        """
        try:
            with self._db.transaction() as session:
                self._lock_rep(session, plan.rep_id)
                taken = _live_spans(session, plan.rep_id, plan.start - buffer, plan.end + buffer, None)
                if conflicts((plan.start, plan.end), taken, buffer):
                    raise SlotTakenError(lead_id, _taken(plan, "by another meeting revgate booked"))
                if approval_id is None and session.get(ApprovalRow, action_id) is not None:
                    approval_id = action_id  # an approved booking runs under its approval's id
                row = MeetingRow(
                    id=meeting_id,
                    action_id=action_id,
                    approval_id=approval_id,
                    lead_id=lead_id,
                    rep_id=plan.rep_id,
                    status="booking",
                    starts_at=plan.start,
                    ends_at=plan.end,
                    uid=uid,
                    sequence=0,
                    invite_sequence=None,
                    crm_activity_id=None,
                    plan=plan.model_dump(mode="json"),
                    created_by=created_by,
                    created_at=now,
                    updated_at=now,
                    revision=0,
                )
                session.add(row)
                session.flush()
                return _booking(row)
        except IntegrityError:
            # The same action claimed meanwhile (a replay), or the unique index: same rep, same start.
            mine = self.for_action(action_id)
            if mine is not None:
                return mine
            raise SlotTakenError(lead_id, _taken(plan, "by another meeting revgate booked")) from None

    def move(
        self, booking: Booking, start: datetime, end: datetime, *, buffer: Any, now: datetime
    ) -> Booking:
        """Move a live meeting (the next invite version), if nobody changed it since it was read."""
        try:
            with self._db.transaction() as session:
                self._lock_rep(session, booking.rep_id)
                taken = _live_spans(session, booking.rep_id, start - buffer, end + buffer, booking.id)
                if conflicts((start, end), taken, buffer):
                    raise SlotTakenError(booking.lead_id, _taken(booking.plan, "by another meeting", start))
                plan = booking.plan.model_copy(update={"start": start, "end": end})
                self._guarded(
                    session,
                    booking,
                    ("booked",),
                    starts_at=start,
                    ends_at=end,
                    sequence=booking.sequence + 1,
                    plan=plan.model_dump(mode="json"),
                    updated_at=now,
                )
        except IntegrityError:
            raise SlotTakenError(booking.lead_id, _taken(booking.plan, "by another meeting", start)) from None
        return self.get(booking.id)

    def cancel(self, booking: Booking, reason: str, *, by: str, now: datetime) -> Booking:
        """Cancel a live meeting (the cancellation is the next invite version)."""
        with self._db.transaction() as session:
            self._guarded(
                session,
                booking,
                LIVE,
                status="cancelled",
                sequence=booking.sequence + 1,
                cancel_reason=reason,
                cancelled_by=by,
                updated_at=now,
            )
        return self.get(booking.id)

    def set_crm(self, meeting_id: str, activity_id: str, *, booked: bool, now: datetime) -> None:
        """Record the CRM activity (and, for a claim, that the meeting is now ``booked``)."""
        values: dict[str, Any] = {"crm_activity_id": activity_id, "updated_at": now}
        with self._db.transaction() as session:
            query = update(MeetingRow).where(MeetingRow.id == meeting_id)
            if booked:
                session.execute(
                    query.where(MeetingRow.status == "booking").values(
                        status="booked", revision=MeetingRow.revision + 1, **values
                    )
                )
            session.execute(query.values(**values))

    def set_invite_sent(self, meeting_id: str, sequence: int, *, now: datetime) -> None:
        """Invite version ``sequence`` was handed over (never lowers what was recorded)."""
        with self._db.transaction() as session:
            session.execute(
                update(MeetingRow)
                .where(
                    MeetingRow.id == meeting_id,
                    (MeetingRow.invite_sequence.is_(None)) | (MeetingRow.invite_sequence < sequence),
                )
                .values(invite_sequence=sequence, updated_at=now)
            )

    def release(self, booking: Booking, reason: str, *, now: datetime) -> None:
        """Give up a claim that never reached the CRM (a refused write): the slot is free again."""
        with self._db.transaction() as session:
            session.execute(
                update(MeetingRow)
                .where(MeetingRow.id == booking.id, MeetingRow.status == "booking")
                .values(
                    status="cancelled",
                    cancel_reason=reason,
                    invite_sequence=MeetingRow.sequence,
                    updated_at=now,
                    revision=MeetingRow.revision + 1,
                )
            )

    def set_slack(self, meeting_id: str, channel: str, ts: str, revision: int) -> None:
        """Where the meeting's Slack message is, and the revision it shows."""
        with self._db.transaction() as session:
            session.execute(
                update(MeetingRow)
                .where(MeetingRow.id == meeting_id)
                .values(slack_channel=channel, slack_ts=ts, slack_revision=revision)
            )

    # -- internals ----------------------------------------------------------------

    def _lock_rep(self, session: Session, rep_id: str) -> None:
        # SQLite runs one writer at a time already; PostgreSQL needs the two claims of one
        # rep to take turns, or each would see the other's slot free.
        if self._db.dialect == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(rep_id)})

    @staticmethod
    def _guarded(session: Session, booking: Booking, states: Sequence[BookingStatus], **values: Any) -> None:
        result = session.execute(
            update(MeetingRow)
            .where(
                MeetingRow.id == booking.id,
                MeetingRow.status.in_(states),
                MeetingRow.revision == booking.revision,
            )
            .values(revision=MeetingRow.revision + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if int(getattr(result, "rowcount", 0)) == 1:
            return
        row = session.get(MeetingRow, booking.id)
        if row is None:
            raise MeetingNotFoundError(f"no meeting {booking.id}")
        if row.status == "cancelled":
            raise MeetingClosedError(
                f"meeting {booking.id} is cancelled ({row.cancel_reason or 'no reason'})"
            )
        if row.status not in states:
            raise MeetingClosedError(f"meeting {booking.id} is {row.status}; try again in a moment")
        raise MeetingClosedError(f"meeting {booking.id} changed while you were looking at it; look again")


def _live_spans(
    session: Session, rep_id: str, start: datetime, end: datetime, besides: str | None
) -> list[Interval]:
    query = select(MeetingRow.starts_at, MeetingRow.ends_at).where(
        MeetingRow.rep_id == rep_id,
        MeetingRow.status.in_(LIVE),
        MeetingRow.starts_at < end,
        MeetingRow.ends_at > start,
    )
    if besides is not None:
        query = query.where(MeetingRow.id != besides)
    return [(s, e) for s, e in session.execute(query)]


def _lock_key(rep_id: str) -> int:
    return zlib.crc32(f"meetings:{rep_id}".encode())


def _taken(plan: MeetingPlan, how: str, start: datetime | None = None) -> str:
    at = (start or plan.start).astimezone(UTC)
    return f"{plan.rep_name}'s slot at {at:%Y-%m-%d %H:%M} UTC was taken {how} since it was proposed"


def _booking(row: MeetingRow) -> Booking:
    return Booking(
        id=row.id,
        action_id=row.action_id,
        approval_id=row.approval_id,
        lead_id=row.lead_id,
        rep_id=row.rep_id,
        status=cast(BookingStatus, row.status),
        start=row.starts_at,
        end=row.ends_at,
        uid=row.uid,
        sequence=row.sequence,
        invite_sequence=row.invite_sequence,
        crm_activity_id=row.crm_activity_id,
        plan=MeetingPlan.model_validate(row.plan),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        cancel_reason=row.cancel_reason,
        revision=row.revision,
        cancelled_by=row.cancelled_by,
        slack_channel=row.slack_channel,
        slack_ts=row.slack_ts,
        slack_revision=row.slack_revision,
    )
