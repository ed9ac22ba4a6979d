"""Someone's working (or business) hours: wall-clock times on given weekdays, in their zone.

Hours are wall-clock: 09:00 stays 09:00 local across a daylight-saving change, so its UTC
instant moves by an hour. Each day's window is built from the local date and turned into
UTC only then; nothing adds hours to a zone-aware datetime.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.meetings.intervals import Interval, require_aware
from agent.routing.config import WEEKDAYS, Member

MONDAY_TO_FRIDAY: frozenset[int] = frozenset(range(5))


@dataclass(frozen=True)
class WorkingHours:
    """Working days and hours in ``zone``, and days off (inclusive date ranges).

    The defaults are a lead's assumed business hours: 09:00-17:00, Monday to Friday.
    """

    zone: ZoneInfo
    start: time = time(9)
    end: time | None = time(17)
    """``None``: until midnight (``24:00``)."""
    days: frozenset[int] = MONDAY_TO_FRIDAY
    """Weekday numbers, Monday 0."""
    out_of_office: tuple[tuple[date, date], ...] = field(default=())
    """``(first, last)`` days off, both inclusive."""

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            raise ValueError(f"working days must be weekday numbers 0-6, at least one: {sorted(self.days)}")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"working hours must end after they start ({self.start}-{self.end})")

    @classmethod
    def parse(
        cls,
        zone: ZoneInfo,
        hours: str = "09:00-17:00",
        days: Iterable[str] = ("mon", "tue", "wed", "thu", "fri"),
        out_of_office: Iterable[tuple[date, date]] = (),
    ) -> WorkingHours:
        """From the routing file's spellings: ``"09:00-17:30"`` (``24:00`` allowed) and ``"mon"``..."""
        first, _, last = hours.replace(" ", "").partition("-")
        try:
            start = time.fromisoformat(first)
            end = None if last == "24:00" else time.fromisoformat(last)
            weekdays = frozenset(WEEKDAYS.index(day.lower()) for day in days)
        except ValueError as exc:
            raise ValueError(f"cannot read working hours {hours!r} on {list(days)}: {exc}") from exc
        return cls(zone, start, end, weekdays, tuple(out_of_office))

    @classmethod
    def of_member(cls, member: Member, default_zone: ZoneInfo) -> WorkingHours:
        """A routing pool member's calendar; ``default_zone`` is the routing file's zone."""
        start, end = member.working_hours
        return cls(
            member.timezone or default_zone,
            start,
            end,
            frozenset(WEEKDAYS.index(day) for day in member.days),
            tuple((leave.start, leave.end) for leave in member.out_of_office),
        )

    @property
    def label(self) -> str:
        """``09:00-17:00 Europe/London``, for explanations."""
        end = "24:00" if self.end is None else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end} {self.zone.key}"

    def works_on(self, day: date) -> bool:
        """A working weekday (days off not considered)."""
        return day.weekday() in self.days

    def is_off(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.out_of_office)

    def bounds(self, day: date) -> Interval:
        """The hours of the local ``day`` in UTC, whether or not it is worked."""
        begin = datetime.combine(day, self.start, self.zone)
        finish = (
            datetime.combine(day + timedelta(days=1), time(0), self.zone)
            if self.end is None
            else datetime.combine(day, self.end, self.zone)
        )
        return require_aware(begin, "start"), require_aware(finish, "end")

    def window(self, day: date) -> Interval | None:
        """The working window of the local ``day`` in UTC; ``None`` when not worked (weekend, leave)."""
        if not self.works_on(day) or self.is_off(day):
            return None
        return self.bounds(day)

    def contains(self, span: Interval) -> bool:
        """Whether ``span`` lies inside one working window (the one of its start's local day)."""
        start, end = span
        window = self.window(start.astimezone(self.zone).date())
        return window is not None and window[0] <= start and end <= window[1]

    def next_working_day(self, after: date, *, limit: int = 366) -> date | None:
        """The first day after ``after`` that is worked and not off; ``None`` within ``limit`` days."""
        for offset in range(1, limit + 1):
            day = after + timedelta(days=offset)
            if self.works_on(day) and not self.is_off(day):
                return day
        return None
