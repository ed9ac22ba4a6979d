"""A member's busy times from an iCalendar feed (RFC 5545): events and free/busy periods.

The contract of :func:`busy_intervals`:

- ``VEVENT``: recurring series are expanded (``RRULE``/``RDATE``, ``EXDATE``, and instances
  moved or changed by a ``RECURRENCE-ID`` override). Rules repeating by the second or the
  minute, or with an ``INTERVAL`` below 1, are refused (their expansion is endless or huge).
  An event is busy unless it is cancelled (``STATUS:CANCELLED``, per instance) or marked
  free. "Marked free" is read from Outlook's ``X-MICROSOFT-CDO-BUSYSTATUS`` when present
  (``FREE`` and ``WORKINGELSEWHERE`` are free; ``BUSY``, ``TENTATIVE`` and ``OOF`` busy),
  else from ``TRANSP:TRANSPARENT``. A summary or category saying "Out of office" changes nothing:
  such an event is busy like any other, and free if marked free.
- All-day events (``VALUE=DATE``) are busy from midnight to midnight of the member's zone.
- Floating times (no ``TZID``, no ``Z``) are read in the member's zone; ``TZID`` times are
  honoured (IANA names, Windows names and ``VTIMEZONE`` definitions alike). A ``TZID``
  nobody knows is an error, not a guess.
- ``VFREEBUSY``: each ``FREEBUSY`` period is busy unless ``FBTYPE=FREE`` (an unknown type
  counts as busy, as RFC 5545 asks).

The result is sorted and merged, clipped to the window, in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Component

from agent.errors import CalendarFeedError
from agent.meetings.intervals import Interval, clip, merge, require_aware

# Only these properties are checked: a broken X- or DESCRIPTION property must not make a
# whole calendar unreadable.
_USED = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "FREEBUSY", "STATUS"}
)
_TOO_FREQUENT = frozenset({"SECONDLY", "MINUTELY"})
_FREE_MS_STATUSES = frozenset({"FREE", "WORKINGELSEWHERE"})
# Floating times and all-day dates are read in the member's zone (up to 14 hours off UTC):
# the library's window is widened by this much, and the result clipped exactly afterwards.
_PAD = timedelta(days=2)


class ParsedFeed:
    """A feed parsed once, with its recurrence expanders built on first use and kept.

    Parsing and indexing the series of a busy calendar are the slow parts (a few hundred
    milliseconds for thousands of events); a caller that asks several questions of one feed
    (busy times, days off, the re-check before booking) keeps one of these. The days-off
    expander only holds the events (whole series) that are out of office somewhere.
    """

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self._everything: Any = None
        self._away: Any = None

    def expander(self, *, away_only: bool = False) -> Any:
        """The ``recurring_ical_events`` query over the feed (or its out-of-office series)."""
        if away_only:
            if self._away is None:
                self._away = _expander(_away_series(self.calendar))
            return self._away
        if self._everything is None:
            self._everything = _expander(self.calendar)
        return self._everything


def busy_intervals(
    feed: bytes | str | ParsedFeed, start: datetime, end: datetime, zone: ZoneInfo
) -> list[Interval]:
    """Busy intervals of the feed inside ``[start, end)``, sorted, merged, in UTC.

    ``zone`` is the member's zone: it places floating times and all-day events.
    Raises :class:`CalendarFeedError` when the feed is malformed.
    """
    start, end = require_aware(start, "start"), require_aware(end, "end")
    parsed = feed if isinstance(feed, ParsedFeed) else ParsedFeed(parse_feed(feed))
    events = [span for _event, span in busy_events(parsed, start, end, zone)]
    found = [*events, *_freebusy_intervals(parsed.calendar, zone)]
    return merge(clip(found, start, end))


def parse_feed(feed: bytes | str) -> Calendar:
    """The feed as a checked ``VCALENDAR``; :class:`CalendarFeedError` when it is not one."""
    try:
        calendar = Calendar.from_ical(feed)
    except ValueError as exc:  # icalendar's parse errors are all ValueErrors
        raise CalendarFeedError(f"the calendar feed is not valid iCalendar: {exc}") from exc
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise CalendarFeedError("the calendar feed is not a VCALENDAR")
    for component in calendar.walk():
        if component.name in ("VEVENT", "VFREEBUSY"):
            _check(component)
    return calendar


def _check(component: Component) -> None:
    label = f"{component.name} {component.get('UID', '(no UID)')}"
    broken = [f"{name}: {why}" for name, why in component.errors if name in _USED]
    if broken:
        raise CalendarFeedError(f"{label} has unreadable properties ({'; '.join(broken)})")
    if component.name != "VEVENT":
        return
    if "DTSTART" not in component:
        raise CalendarFeedError(f"{label} has no DTSTART")
    _check_rules(component.get("RRULE", []), label)
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        prop = component.get(name)
        # icalendar leaves a time naive when it cannot resolve its TZID: reading it as
        # floating would silently move the meeting by hours.
        if prop is not None and "TZID" in prop.params and _is_naive(prop.dt):
            raise CalendarFeedError(f"{label} uses an unknown time zone {prop.params['TZID']!r} in {name}")


def _check_rules(rules: Any, label: str) -> None:
    # The expansion would never end (INTERVAL=0) or take minutes (SECONDLY): refused up
    # front, since a busy calendar never needs either.
    for rule in rules if isinstance(rules, list) else [rules]:
        frequency = str(rule.get("FREQ", [""])[0]).upper()
        interval = rule.get("INTERVAL", [1])[0]
        if frequency in _TOO_FREQUENT or not isinstance(interval, int) or interval < 1:
            raise CalendarFeedError(f"{label} has an RRULE this reader refuses: {rule.to_ical().decode()}")


def busy_events(
    feed: Calendar | ParsedFeed,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    *,
    away_only: bool = False,
) -> Iterator[tuple[Component, Interval]]:
    """Each busy event occurrence near ``[start, end)`` (not clipped) with its span in UTC;
    ``away_only``: only occurrences of series that are out of office somewhere."""
    parsed = feed if isinstance(feed, ParsedFeed) else ParsedFeed(feed)
    try:
        occurrences = list(parsed.expander(away_only=away_only).between(start - _PAD, end + _PAD))
    except (ValueError, TypeError, KeyError) as exc:  # the library's InvalidCalendar is a ValueError
        raise CalendarFeedError(f"the calendar feed's events cannot be expanded: {exc}") from exc
    for event in occurrences:
        if _is_busy(event):
            begin, finish = _instant(event.start, zone), _instant(event.end, zone)
            if begin < finish:  # a zero-length event (DTSTART only) blocks nothing
                yield event, (begin, finish)


def _expander(calendar: Calendar) -> Any:
    try:
        return recurring_ical_events.of(calendar)
    except (ValueError, TypeError, KeyError) as exc:
        raise CalendarFeedError(f"the calendar feed's events cannot be expanded: {exc}") from exc


def _away_series(calendar: Calendar) -> Calendar:
    """The feed's time zones and every series (all its components) with an out-of-office one."""
    away = {str(event.get("UID")) for event in calendar.walk("VEVENT") if busy_status(event) == "OOF"}
    kept = Calendar()
    for component in calendar.subcomponents:
        if component.name == "VTIMEZONE" or (
            component.name == "VEVENT" and str(component.get("UID")) in away
        ):
            kept.add_component(component)
    return kept


def busy_status(event: Component) -> str:
    """Outlook's ``X-MICROSOFT-CDO-BUSYSTATUS`` of the event, upper-cased; ``""`` when absent."""
    return str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper()


def _is_busy(event: Component) -> bool:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    # Outlook's own status is the finer one (an out-of-office day exported TRANSPARENT is
    # still out of office), so it wins over TRANSP when both are present.
    microsoft = busy_status(event)
    if microsoft:
        return microsoft not in _FREE_MS_STATUSES
    return str(event.get("TRANSP", "OPAQUE")).upper() != "TRANSPARENT"


def _freebusy_intervals(calendar: Calendar, zone: ZoneInfo) -> Iterator[Interval]:
    for component in calendar.walk("VFREEBUSY"):
        periods: Any = component.get("FREEBUSY", [])
        for period in periods if isinstance(periods, list) else [periods]:
            if str(period.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            begin, until = period.dt
            finish = begin + until if isinstance(until, timedelta) else until
            yield _instant(begin, zone), _instant(finish, zone)


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A DTSTART-like value in UTC: floating times and dates read in ``zone``."""
    if isinstance(value, datetime):
        return (value.replace(tzinfo=zone) if _is_naive(value) else value).astimezone(UTC)
    return datetime.combine(value, time(0), zone).astimezone(UTC)


def _is_naive(value: object) -> bool:
    return isinstance(value, datetime) and value.tzinfo is None
