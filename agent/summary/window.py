"""A local day as a UTC window, and the local date of a moment: pure time arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_window(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC: local midnight starting ``day`` to local midnight starting the next.

    A day is 23 or 25 hours long when the clocks change. Where midnight does not
    exist locally (a zone that springs forward at 00:00), zoneinfo resolves it to
    the first instant after the gap, so consecutive windows still tile time.
    """
    return _midnight(day, tz), _midnight(day + timedelta(days=1), tz)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar date of ``moment`` (aware) in ``tz``."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(tz).date()


def trend_days(day: date, days: int = 30) -> list[date]:
    """The ``days`` dates ending with ``day``, oldest first."""
    return [day - timedelta(days=n) for n in range(days - 1, -1, -1)]


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    # Round-trip through UTC so a non-existent local midnight lands after the gap.
    local = datetime.combine(day, time(0), tzinfo=tz)
    return local.astimezone(UTC)
