"""Busy times as slot finding must see them: the rep's calendar plus the meetings already booked.

:class:`BookedCalendars` wraps a :class:`~agent.meetings.calendars.Calendars` (the feeds) and
adds the CRM's meetings of the owner (when the CRM records meetings) and revgate's own live
bookings, which a feed only shows once the rep's calendar has taken the invite in.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from agent.meetings.bookings import Booking, MeetingBook
from agent.meetings.calendars import Calendars
from agent.meetings.intervals import Interval, merge
from agent.ports import CRMClient, MeetingActivities


class BookedCalendars:
    """A :class:`Calendars` whose busy times include the CRM's meetings and revgate's bookings."""

    def __init__(
        self, inner: Calendars, crm: CRMClient, book: MeetingBook, *, besides: Booking | None = None
    ) -> None:
        """``besides``: a meeting being moved, whose own time is not busy for its move."""
        self._inner = inner
        self._crm = crm
        self._book = book
        self._besides = besides

    def busy(self, owner_id: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[Interval]:
        spans = list(self._inner.busy(owner_id, start, end, zone))
        besides = self._besides
        if isinstance(self._crm, MeetingActivities):
            spans.extend(
                (m.starts_at, m.ends_at)
                for m in self._crm.owner_meetings(owner_id, start, end)
                if besides is None or (m.id != besides.crm_activity_id and m.uid != besides.uid)
            )
        spans.extend(self._book.busy(owner_id, start, end, besides=besides.id if besides else None))
        return merge(spans)

    def out_of_office(
        self, owner_id: str, start: datetime, end: datetime, zone: ZoneInfo
    ) -> tuple[tuple[date, date], ...]:
        return self._inner.out_of_office(owner_id, start, end, zone)

    def describe(self, owner_id: str) -> str:
        return f"{self._inner.describe(owner_id)} and the meetings already booked"
