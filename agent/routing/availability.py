"""Whether a pool member can take a lead now, and working-minute arithmetic for SLAs.

Everything is read in the member's own time zone: working days and hours, and out
of office dates (inclusive). A member is skipped, with the reason kept, when inactive
in the CRM, out of office, outside working hours, or at a capacity cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.models import Owner
from agent.routing.config import WEEKDAYS, Member


@dataclass(frozen=True)
class Load:
    """A member's current load: open leads they own, and leads routed to them today (their day)."""

    open_leads: int = 0
    today: int = 0


@dataclass(frozen=True)
class WorkingTime:
    """A member's working calendar in their zone."""

    member: Member
    zone: ZoneInfo

    def off_reason(self, now: datetime) -> str | None:
        """Why the member is not working at ``now`` (``None``: they are)."""
        local = now.astimezone(self.zone)
        for leave in self.member.out_of_office:
            if leave.start <= local.date() <= leave.end:
                return f"out of office until {leave.end.isoformat()}"
        day = WEEKDAYS[local.weekday()]
        if day not in self.member.days:
            return f"not a working day ({local:%a %H:%M} {self.zone.key})"
        start, end = self.member.working_hours
        if local.time() < start or (end is not None and local.time() >= end):
            return f"outside working hours {self.member.hours} ({local:%a %H:%M} {self.zone.key})"
        return None

    def add_working_minutes(self, start: datetime, minutes: int, *, horizon_days: int = 60) -> datetime:
        """The moment ``minutes`` working minutes after ``start`` (time off and nights skipped).

        Working minutes are real elapsed minutes inside the member's working windows; the
        windows are wall-clock hours in their zone, so a deadline across a daylight-saving
        change still falls at the right local time.
        """
        left = timedelta(minutes=minutes)
        cursor = start.astimezone(UTC)
        for _ in range(horizon_days * 2 + 2):
            window = self._window_from(cursor)
            if window is None:
                break
            begin, end = window
            cursor = max(cursor, begin)
            if cursor + left <= end:
                return cursor + left
            left -= end - cursor
            cursor = end
        # No working time in the horizon (a long leave): the clock runs in calendar time.
        return (start + timedelta(minutes=minutes)).astimezone(UTC)

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        """Working minutes in ``[start, end)``."""
        total = timedelta()
        cursor = start.astimezone(UTC)
        stop = end.astimezone(UTC)
        while cursor < stop:
            window = self._window_from(cursor)
            if window is None or window[0] >= stop:
                break
            begin, finish = window
            total += min(finish, stop) - max(cursor, begin)
            cursor = finish
        return int(total.total_seconds() // 60)

    def _window_from(self, moment: datetime) -> tuple[datetime, datetime] | None:
        """The working window (in UTC) holding ``moment`` or the next one (``None``: none in 60 days).

        Arithmetic on aware datetimes sharing a ``ZoneInfo`` is wall-clock arithmetic (an
        hour is lost or gained silently across a daylight-saving change), so the windows
        are turned into UTC instants and every sum is done on those.
        """
        start_time, end_time = self.member.working_hours
        day = moment.astimezone(self.zone).date()
        for _ in range(60):
            begin = datetime.combine(day, start_time, self.zone).astimezone(UTC)
            if end_time is None:
                end = datetime.combine(day + timedelta(days=1), time(0), self.zone).astimezone(UTC)
            else:
                end = datetime.combine(day, end_time, self.zone).astimezone(UTC)
            works = WEEKDAYS[day.weekday()] in self.member.days and not any(
                leave.start <= day <= leave.end for leave in self.member.out_of_office
            )
            if works and begin < end and end > moment:
                return begin, end
            day += timedelta(days=1)
        return None


def unavailable_reason(
    member: Member, zone: ZoneInfo, owner: Owner | None, now: datetime, load: Load
) -> str | None:
    """Why ``member`` cannot take a lead now (``None``: they can)."""
    if owner is None:
        return "not an owner in the CRM"
    if not owner.active:
        return "inactive in the CRM"
    off = WorkingTime(member, zone).off_reason(now)
    if off is not None:
        return off
    if member.max_open_leads is not None and load.open_leads >= member.max_open_leads:
        return f"at capacity: {load.open_leads} open leads (max {member.max_open_leads})"
    if member.max_per_day is not None and load.today >= member.max_per_day:
        return f"daily cap reached: {load.today} leads today (max {member.max_per_day})"
    return None
