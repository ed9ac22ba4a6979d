"""Days a member's calendar marks them out of office, to treat as leave rather than as meetings.

Only Outlook's explicit status counts (``X-MICROSOFT-CDO-BUSYSTATUS:OOF``): an event merely
titled or categorised "Out of office" is an ordinary event (see :mod:`agent.meetings.busy`).
A day counts when such events cover it from local midnight to midnight in the member's zone;
an afternoon off is busy time, not a day off.

Merged into :class:`agent.meetings.hours.WorkingHours` ``out_of_office``, these days let slot
finding say "out of office for the whole horizon" instead of "calendar full".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.meetings.busy import ParsedFeed, busy_events, busy_status, parse_feed
from agent.meetings.intervals import clip, merge, require_aware


def out_of_office_days(
    feed: bytes | str | ParsedFeed, start: datetime, end: datetime, zone: ZoneInfo
) -> tuple[tuple[date, date], ...]:
    """Inclusive ``(first, last)`` local days inside ``[start, end)`` the feed marks out of office.

    Raises :class:`agent.meetings.busy.CalendarFeedError` when the feed is malformed.
    """
    start, end = require_aware(start, "start"), require_aware(end, "end")
    parsed = feed if isinstance(feed, ParsedFeed) else ParsedFeed(parse_feed(feed))
    away = [
        span
        for event, span in busy_events(parsed, start, end, zone, away_only=True)
        if busy_status(event) == "OOF"
    ]
    ranges: list[tuple[date, date]] = []
    for begin, finish in merge(clip(away, start, end)):
        first = begin.astimezone(zone).date()
        if _midnight(first, zone) < begin:  # starts during the day: that day is not wholly off
            first += timedelta(days=1)
        last = finish.astimezone(zone).date() - timedelta(days=1)  # the day the span ends in is not whole
        if first <= last:
            ranges.append((first, last))
    return tuple(ranges)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)
