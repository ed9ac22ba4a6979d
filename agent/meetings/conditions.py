"""What the policy measures on a ``book_meeting`` action: its time against both parties' hours, its rep.

The two conditions are facts about the data, like ``bulk_operations``:

- ``outside_working_hours``: the meeting does not lie inside one of the rep's working windows
  (the routing file's hours and weekdays, in the rep's zone) or inside the lead's business
  hours (09:00-17:00, Monday to Friday, in the lead's zone);
- ``other_rep``: the rep is not the lead's owner as the CRM holds it now.

Only the standard library and the models here: :mod:`agent.facts` imports this module, and
the routing package (which :mod:`agent.meetings.hours` needs) imports the runner, and so facts.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.models import MeetingPlan, Record

LEAD_HOURS = (time(9), time(17))
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def inside_hours(start: datetime, end: datetime, zone: ZoneInfo, hours: str, days: list[int]) -> bool:
    """Whether ``[start, end)`` lies inside one working window: ``hours`` (``09:00-17:00``,
    ``24:00`` allowed) on ``days`` (Monday 0), wall-clock in ``zone``."""
    first, _, last = hours.replace(" ", "").partition("-")
    opens = time.fromisoformat(first)
    local = start.astimezone(zone)
    day = local.date()
    if day.weekday() not in days:
        return False
    begin = datetime.combine(day, opens, zone)
    finish = (
        datetime.combine(day + timedelta(days=1), time(0), zone)
        if last == "24:00"
        else datetime.combine(day, time.fromisoformat(last), zone)
    )
    return begin <= start and end <= finish


def outside_working_hours(plan: MeetingPlan) -> str | None:
    """Why the meeting's time is outside the rep's or the lead's hours; ``None`` when inside both."""
    rep_zone, lead_zone = ZoneInfo(plan.rep_zone), ZoneInfo(plan.lead_zone)
    if not inside_hours(plan.start, plan.end, rep_zone, plan.rep_hours, plan.rep_days):
        days = ", ".join(_DAY_NAMES[d] for d in sorted(plan.rep_days))
        return (
            f"{_local(plan.start, rep_zone)} is outside {plan.rep_name}'s working hours "
            f"({plan.rep_hours} {plan.rep_zone}, {days})"
        )
    lead_hours = f"{LEAD_HOURS[0]:%H:%M}-{LEAD_HOURS[1]:%H:%M}"
    if not inside_hours(plan.start, plan.end, lead_zone, lead_hours, [0, 1, 2, 3, 4]):
        return (
            f"{_local(plan.start, lead_zone)} is outside the lead's business hours "
            f"({lead_hours} {plan.lead_zone}, Mon-Fri)"
        )
    return None


def other_rep(plan: MeetingPlan, lead: Record | None) -> str | None:
    """Why the meeting's rep is not the lead's owner; ``None`` when it is."""
    owner = lead.owner_id if lead is not None else None
    if owner == plan.rep_id:
        return None
    why = f"the meeting is with {plan.rep_name} ({plan.rep_id}), not the lead's owner {owner or 'nobody'}"
    return f"{why}: {plan.substitution}" if plan.substitution else why


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %d %b %H:%M} {zone.key}"
