"""The meeting writes: book, move, cancel, and keeping the CRM activity and the invite in step.

The ``meetings`` row (:mod:`agent.meetings.bookings`) is the truth; :meth:`MeetingWriter.sync`
brings the CRM's meeting activity and the attendee's invite up to it, each step idempotent
(the CRM write's key names the meeting and its sequence; the invite's version is recorded
once handed over). So a crash at any point is repaired by syncing again, and an invite the
mail server refused is sent on the next :meth:`MeetingWriter.sync`, never lost.

Before a slot is claimed it is checked again against fresh busy times: the rep's calendar
feed (read now, not from the cache), the CRM's meetings and revgate's own bookings, with
the plan's buffer. A slot taken since it was proposed raises :class:`SlotTakenError` and
nothing is written: the caller plans again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.errors import (
    CRMAuthError,
    CRMError,
    CRMNotFoundError,
    CRMValidationError,
    InviteDeliveryError,
    MeetingClosedError,
    SlotTakenError,
    StaleRecordError,
    ValidationFailedError,
)
from agent.meetings.bookings import Booking, MeetingBook
from agent.meetings.calendars import Calendars
from agent.meetings.intervals import Interval, conflicts
from agent.meetings.invites import InviteMethod, Meeting, invite
from agent.models import ExecutionResult, MeetingPlan, ProposedAction
from agent.ports import Clock, CRMClient, InviteSender, MeetingActivities

log = logging.getLogger(__name__)


class MeetingWriter:
    """Books, moves and cancels meetings (see the module doc).

    ``calendars`` is called for each check, so it can read the routing file's feeds fresh.
    """

    def __init__(
        self,
        book: MeetingBook,
        crm: CRMClient,
        invites: InviteSender,
        *,
        calendars: Callable[[], Calendars],
        clock: Clock,
        new_id: Callable[[], str],
    ) -> None:
        self.book = book
        self._crm = crm
        self._invites = invites
        self._calendars = calendars
        self._clock = clock
        self._new_id = new_id

    # -- the three writes ----------------------------------------------------------

    def book_meeting(self, action: ProposedAction, *, key: str) -> ExecutionResult:
        """Book ``action``'s meeting once, whatever number of times it is called with ``key``.

        Raises:
            SlotTakenError: the slot is not free any more (nothing written).
            StaleRecordError: the lead is gone.
            ValidationFailedError: the lead has no email address to invite.
            CRMError: the CRM failed (worth a retry unless it refused the data).
        """
        plan = action.meeting
        if plan is None or action.kind != "book_meeting":
            raise ValidationFailedError("not a meeting booking")
        lead_id = action.targets[0].record_id
        booking = self.book.for_action(key)
        replayed = booking is not None and booking.status != "booking"
        if booking is None:
            if self._crm.get("lead", lead_id) is None:
                raise StaleRecordError(lead_id, action.targets[0].version, None)
            if "@" not in plan.lead_email:
                raise ValidationFailedError(f"lead {lead_id} has no email address to send the invite to")
            buffer = timedelta(minutes=plan.buffer_minutes)
            self.check_free(plan, plan.start, plan.end, buffer)
            meeting_id = self._new_id()
            booking = self.book.claim(
                meeting_id=meeting_id,
                action_id=key,
                approval_id=None,
                lead_id=lead_id,
                plan=plan,
                uid=f"{meeting_id}@revgate",
                created_by=action.requested_by,
                buffer=buffer,
                now=self._clock.now(),
            )
        booking = self.sync(booking)
        return ExecutionResult(written=[lead_id], meeting_id=booking.id, replayed=replayed)

    def move(self, meeting_id: str, start: datetime, end: datetime, *, by: str) -> Booking:
        """Move a booked meeting to ``[start, end)`` (checked free), then sync CRM and invite.

        Raises:
            MeetingNotFoundError, MeetingClosedError: no such meeting, or not booked.
            SlotTakenError: the new time is not free.
        """
        booking = self.book.get(meeting_id)
        if booking.status != "booked":
            self._closed(booking)
        buffer = timedelta(minutes=booking.plan.buffer_minutes)
        self.check_free(booking.plan, start, end, buffer, besides=booking)
        moved = self.book.move(booking, start, end, buffer=buffer, now=self._clock.now())
        log.info("meeting %s moved by %s to %s", meeting_id, by, start.isoformat())
        return self._sync_after_decision(moved)

    def cancel(self, meeting_id: str, *, by: str, reason: str) -> Booking:
        """Cancel a meeting, then tell the CRM and send the cancellation."""
        booking = self.book.get(meeting_id)
        if not booking.live:
            self._closed(booking)
        cancelled = self.book.cancel(booking, reason or f"cancelled by {by}", by=by, now=self._clock.now())
        return self._sync_after_decision(cancelled)

    # -- keeping everything in step ------------------------------------------------

    def sync(self, booking: Booking) -> Booking:
        """Bring the CRM activity and the invite up to the row; return the row as it is now.

        A CRM that refuses the first write (not a transient failure) releases the claim: the
        slot is free again and the error is raised. An invite that cannot be handed over is
        logged and left for the next sync.
        """
        crm = self._crm if isinstance(self._crm, MeetingActivities) else None
        if crm is not None:
            self._sync_crm(crm, booking)
        elif booking.status == "booking":
            self.book.set_crm(booking.id, "", booked=True, now=self._clock.now())
        booking = self.book.get(booking.id)
        if booking.invite_pending and booking.status != "booking":
            self._send_invite(booking)
        return self.book.get(booking.id)

    def check_free(
        self,
        plan: MeetingPlan,
        start: datetime,
        end: datetime,
        buffer: timedelta,
        *,
        besides: Booking | None = None,
    ) -> None:
        """Raise :class:`SlotTakenError` unless ``[start, end)`` is free for the plan's rep now."""
        rep, zone = plan.rep_id, ZoneInfo(plan.rep_zone)
        span: Interval = (start, end)
        around = (start - buffer, end + buffer)
        calendars = self._calendars()
        day = start.astimezone(zone).date()
        midnight = datetime.combine(day, time(0), zone)
        if calendars.out_of_office(rep, midnight, midnight + timedelta(days=1), zone):
            raise SlotTakenError(plan.rep_id, f"{plan.rep_name} is out of office on {day}")
        taken: list[tuple[Interval, str]] = [
            (busy, "by an event in their calendar") for busy in calendars.busy(rep, *around, zone)
        ]
        if isinstance(self._crm, MeetingActivities):
            for activity in self._crm.owner_meetings(rep, *around):
                # A meeting revgate did not book has uid "", never a booking's (never empty): it stays busy.
                if besides is None or (
                    activity.id != besides.crm_activity_id and activity.uid != besides.uid
                ):
                    taken.append(((activity.starts_at, activity.ends_at), "by a meeting in the CRM"))
        own = self.book.busy(rep, *around, besides=besides.id if besides else None)
        taken.extend((busy, "by another meeting revgate booked") for busy in own)
        for busy, how in taken:
            if conflicts(span, [busy], buffer):
                at = start.astimezone(zone)
                raise SlotTakenError(
                    plan.rep_id,
                    f"{plan.rep_name}'s slot at {at:%a %d %b %H:%M} {zone.key} is no longer free: "
                    f"it was taken {how}",
                )

    # -- internals ----------------------------------------------------------------

    def _sync_after_decision(self, booking: Booking) -> Booking:
        """A move or a cancellation stands once stored; a CRM that fails now is caught up by the
        next sync (the invite waits for it), so the person is not told it failed."""
        try:
            return self.sync(booking)
        except CRMError as error:
            log.warning("meeting %s: CRM not updated yet (%s); the next sync will", booking.id, error)
            return self.book.get(booking.id)

    def _sync_crm(self, crm: MeetingActivities, booking: Booking) -> None:
        now = self._clock.now()
        if booking.crm_activity_id is None:
            if booking.status != "booking":
                return  # released before it reached the CRM: nothing there to keep in step
            plan = booking.plan
            try:
                activity = crm.record_meeting(
                    "lead",
                    booking.lead_id,
                    owner_id=plan.rep_id,
                    title=plan.title,
                    starts_at=booking.start,
                    ends_at=booking.end,
                    body=_body(plan),
                    uid=booking.uid,
                    idempotency_key=f"{booking.action_id}:meeting",
                )
            except (CRMValidationError, CRMNotFoundError, CRMAuthError) as refused:
                self.book.release(booking, f"the CRM refused the meeting: {refused}", now=now)
                raise
            self.book.set_crm(booking.id, activity.id, booked=True, now=now)
            return
        if not booking.crm_activity_id:
            return  # a CRM without meeting activities
        current = crm.get_meeting(booking.crm_activity_id)
        if current is None:
            log.warning("meeting %s: its CRM activity %s is gone", booking.id, booking.crm_activity_id)
            return
        key = f"{booking.id}:s{booking.sequence}"
        if booking.status == "cancelled" and current.status != "cancelled":
            crm.update_meeting(current.id, status="cancelled", idempotency_key=key)
        elif booking.live and (current.starts_at, current.ends_at) != booking.span:
            crm.update_meeting(current.id, starts_at=booking.start, ends_at=booking.end, idempotency_key=key)

    def _send_invite(self, booking: Booking) -> None:
        plan = booking.plan
        meeting = Meeting(
            uid=booking.uid,
            start=booking.start,
            end=booking.end,
            summary=plan.title,
            organizer_name=plan.rep_name,
            organizer_email=plan.rep_email,
            attendee_name=plan.lead_name,
            attendee_email=plan.lead_email,
            stamp=self._clock.now(),
            description=_body(plan),
            sequence=booking.sequence,
        )
        method: InviteMethod = "CANCEL" if booking.status == "cancelled" else "REQUEST"
        try:
            where = self._invites.send(
                uid=booking.uid,
                sequence=booking.sequence,
                method=method,
                to=plan.lead_email,
                subject=_subject(booking),
                body=invite(meeting, method),
            )
        except InviteDeliveryError as error:
            log.warning("meeting %s: invite v%d not sent yet: %s", booking.id, booking.sequence, error)
            return
        except ValueError as error:  # an address the invite cannot carry
            log.warning("meeting %s: invite v%d cannot be written: %s", booking.id, booking.sequence, error)
            return
        self.book.set_invite_sent(booking.id, booking.sequence, now=self._clock.now())
        log.info("meeting %s: invite v%d (%s) handed over: %s", booking.id, booking.sequence, method, where)

    @staticmethod
    def _closed(booking: Booking) -> None:
        what = f"cancelled ({booking.cancel_reason})" if booking.status == "cancelled" else booking.status
        raise MeetingClosedError(f"meeting {booking.id} is {what}: it cannot change")


def _body(plan: MeetingPlan) -> str:
    return f"{plan.title}: {plan.lead_name} ({plan.lead_email}) with {plan.rep_name}. Booked by revgate."


def _subject(booking: Booking) -> str:
    plan = booking.plan
    local = booking.start.astimezone(ZoneInfo(plan.lead_zone))
    when = f"{local:%a %d %b %H:%M} ({plan.lead_zone})"
    if booking.status == "cancelled":
        return f"Cancelled: {plan.title}, {when}"
    return f"{'Updated invitation' if booking.sequence else 'Invitation'}: {plan.title}, {when}"
