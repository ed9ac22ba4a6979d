"""The calendar port: when a team member is busy or away, whatever calendar system holds it.

:class:`Calendars` is what slot finding asks: an owner's busy intervals and whole days out
of office in a window. Two implementations live here:

- :class:`NoCalendars`: nobody is ever busy (working hours alone decide);
- :class:`FeedCalendars`: an iCalendar feed per owner (``calendar:`` of a routing pool
  member), a file or an ``https``/``http`` (or ``webcal``) URL such as the "secret address"
  Google Calendar and Outlook publish. Events, recurring series, free/busy periods and
  Outlook's all-day out-of-office are read by :mod:`agent.meetings.busy` and
  :mod:`agent.meetings.leave`.

Google Calendar and Microsoft 365 plug in behind the same port with their APIs instead of a
feed. ``busy(owner, start, end, zone)`` maps to Google's ``freebusy.query`` (``POST
/calendar/v3/freeBusy`` with ``timeMin``/``timeMax`` and the owner's calendar id: the
``busy`` periods it returns are the intervals) and to Microsoft Graph's
``POST /users/{id}/calendar/getSchedule`` (``scheduleItems`` whose ``status`` is ``busy``,
``tentative`` or ``oof``). ``out_of_office`` maps to Graph's ``oof`` items that cover whole
days and, on Google, to ``events.list`` with ``eventTypes=outOfOffice``. The owner id maps to
the calendar id (an email address) through the CRM's owner record. Such an adapter raises
:class:`~agent.errors.CalendarFeedError` (naming the owner) when the calendar cannot be read,
as the feed does, so callers handle one error.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

from agent.errors import CalendarFeedError
from agent.meetings.busy import ParsedFeed, busy_intervals, parse_feed
from agent.meetings.intervals import Interval
from agent.meetings.leave import out_of_office_days
from agent.routing.config import RoutingConfig

FETCH_TIMEOUT_SECONDS = 10.0
MAX_FEED_BYTES = 20 * 1024 * 1024
"""A feed bigger than this is refused: a busy calendar for years is a few megabytes."""
_WEB_SCHEMES = ("https://", "http://", "webcal://")

Fetch = Callable[[str], bytes]
"""Reads a feed's URL; raises :class:`CalendarFeedError` with a reason free of the URL."""


class Calendars(Protocol):
    """Where owners' busy times and days off come from (a feed, Google Calendar, Microsoft 365)."""

    def busy(self, owner_id: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[Interval]:
        """The owner's busy intervals inside ``[start, end)``, sorted, merged, in UTC.

        ``zone`` is the owner's zone: it places floating times and all-day events.
        Raises :class:`CalendarFeedError` when the owner's calendar cannot be read.
        """
        ...

    def out_of_office(
        self, owner_id: str, start: datetime, end: datetime, zone: ZoneInfo
    ) -> tuple[tuple[date, date], ...]:
        """Inclusive ``(first, last)`` local days inside ``[start, end)`` the owner is away."""
        ...

    def describe(self, owner_id: str) -> str:
        """Where the owner's busy times come from, for explanations (never a secret)."""
        ...


class NoCalendars:
    """Nobody is busy: slots follow working hours (and the routing file's days off) alone."""

    def busy(self, owner_id: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[Interval]:
        return []

    def out_of_office(
        self, owner_id: str, start: datetime, end: datetime, zone: ZoneInfo
    ) -> tuple[tuple[date, date], ...]:
        return ()

    def describe(self, owner_id: str) -> str:
        return "no calendar"


@dataclass(frozen=True)
class _Read:
    feed: bytes
    at: float
    digest: bytes
    calendar: ParsedFeed | None = None
    """The feed parsed (parsing a busy feed is the slow part: kept while the bytes are the same)."""


class FeedCalendars:
    """An iCalendar feed per owner: ``sources`` maps owner ids to a file or a URL.

    A relative file is read from ``base`` (the routing file's folder, as ``territory_files``).
    A URL is fetched with ``fetch`` (default: :func:`fetch_feed`, 10 seconds' timeout). An
    owner without a source has no busy times. Each feed is read at most once per
    ``max_age_seconds`` (busy times and days off come from the same read); pass 0 for the
    fresh read a booking's re-check needs.

    Every failure is a :class:`CalendarFeedError` naming the owner and the source, a URL
    shown as :func:`redact` leaves it.
    """

    def __init__(
        self,
        sources: Mapping[str, str],
        *,
        base: Path,
        fetch: Fetch | None = None,
        max_age_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sources = dict(sources)
        self._base = base
        self._fetch = fetch or fetch_feed
        self._max_age = max_age_seconds
        self._monotonic = monotonic
        self._reads: dict[str, _Read] = {}

    def busy(self, owner_id: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[Interval]:
        calendar = self._calendar(owner_id)
        if calendar is None:
            return []
        try:
            return busy_intervals(calendar, start, end, zone)
        except CalendarFeedError as error:
            raise self._error(owner_id, f"cannot be used: {error}") from error

    def out_of_office(
        self, owner_id: str, start: datetime, end: datetime, zone: ZoneInfo
    ) -> tuple[tuple[date, date], ...]:
        calendar = self._calendar(owner_id)
        if calendar is None:
            return ()
        try:
            return out_of_office_days(calendar, start, end, zone)
        except CalendarFeedError as error:
            raise self._error(owner_id, f"cannot be used: {error}") from error

    def describe(self, owner_id: str) -> str:
        source = self._sources.get(owner_id)
        return "no calendar" if source is None else f"calendar feed {redact(source)}"

    def _calendar(self, owner_id: str) -> ParsedFeed | None:
        """The owner's feed, parsed: read again once ``max_age_seconds`` old, parsed again only
        when the bytes changed."""
        source = self._sources.get(owner_id)
        if source is None:
            return None
        now = self._monotonic()
        kept = self._reads.get(owner_id)
        if kept is not None and kept.calendar is not None and now - kept.at < self._max_age:
            return kept.calendar
        feed = self._read(owner_id, source)
        digest = hashlib.sha256(feed).digest()
        if kept is not None and kept.calendar is not None and kept.digest == digest:
            calendar = kept.calendar
        else:
            try:
                calendar = ParsedFeed(parse_feed(feed))
            except CalendarFeedError as error:
                raise self._error(owner_id, f"cannot be used: {error}") from error
        self._reads[owner_id] = _Read(feed, now, digest, calendar)
        return calendar

    def _read(self, owner_id: str, source: str) -> bytes:
        if source.lower().startswith(_WEB_SCHEMES):
            # webcal:// is how calendar apps spell "subscribe to this https feed".
            url = (
                "https://" + source[len("webcal://") :] if source.lower().startswith("webcal://") else source
            )
            try:
                return self._fetch(url)
            except CalendarFeedError as error:
                raise self._error(owner_id, f"cannot be fetched: {error}") from None
            except (OSError, requests.RequestException) as error:
                # Not chained (from None): a requests error's text and traceback carry the whole URL.
                raise self._error(owner_id, f"cannot be fetched: {type(error).__name__}") from None
        path = Path(source)
        path = path if path.is_absolute() else self._base / path
        try:
            return path.read_bytes()
        except OSError as error:
            raise self._error(owner_id, f"cannot be read: {error.strerror or error}") from error

    def _error(self, owner_id: str, reason: str) -> CalendarFeedError:
        return CalendarFeedError(f"the calendar of {owner_id} ({redact(self._sources[owner_id])}) {reason}")


def calendar_sources(config: RoutingConfig) -> dict[str, str]:
    """Each pool member's ``calendar``, by owner id (an owner in several pools: the first entry with one)."""
    sources: dict[str, str] = {}
    for pool in config.pools.values():
        for member in pool.members:
            if member.calendar is not None:
                sources.setdefault(member.owner, member.calendar)
    return sources


def fetch_feed(url: str) -> bytes:
    """The body of ``url`` (GET, 10 seconds' timeout, at most :data:`MAX_FEED_BYTES`).

    Raises :class:`CalendarFeedError` whose message never contains the URL (it may carry a token).
    """
    try:
        with requests.get(url, timeout=FETCH_TIMEOUT_SECONDS, stream=True) as response:
            if response.status_code != 200:
                raise CalendarFeedError(f"HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(chunk_size=65536):
                body += chunk
                if len(body) > MAX_FEED_BYTES:
                    raise CalendarFeedError(f"the feed is larger than {MAX_FEED_BYTES // (1024 * 1024)} MB")
            return bytes(body)
    except requests.Timeout:
        raise CalendarFeedError(f"no answer within {FETCH_TIMEOUT_SECONDS:g} seconds") from None
    except requests.ConnectionError:
        raise CalendarFeedError("cannot connect") from None
    except requests.RequestException as error:
        raise CalendarFeedError(type(error).__name__) from None


def redact(source: str) -> str:
    """A source fit for messages: a URL keeps its scheme, host and file name, nothing else.

    Secret calendar addresses carry their token in the query string, the user info, or a path
    segment (Google's ``.../private-<token>/basic.ics``, Outlook's ``.../<token>/calendar.ics``),
    so everything but the last path segment is elided. A file path is shown as written.
    """
    if not source.lower().startswith(_WEB_SCHEMES):
        return source
    parts = urlsplit(source)
    host = parts.hostname or ""
    with suppress(ValueError):  # a port that is not a number: the host alone says enough
        host += f":{parts.port}" if parts.port is not None else ""
    segments = [segment for segment in parts.path.split("/") if segment]
    path = ""
    if segments:
        path = ("/…/" if len(segments) > 1 else "/") + segments[-1]
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{path}{query}"
