"""Slot finding: the first meeting times that fit the rep's calendar and the lead's business hours.

The search, for :func:`find_slots`:

- The **horizon** is the rep's next N working days (their weekdays, days off included in
  the count), starting with the first whose hours end after the earliest allowed start
  (``now`` plus the minimum notice). Days off inside it are skipped, not replaced, so a
  rep away for the whole horizon is reported, not silently searched past.
- **Candidates** start at the rep's working start and every ``step`` after it, in each
  working window, and never before the earliest allowed start. A candidate fits when it
  ends inside the window and neither it nor a ``buffer`` on either side of it overlaps
  a busy interval.
- The first ``count`` that also lie inside the **lead's business hours** are returned.
  When there are none, the reason is given (:class:`NoSlot`) and, if the rules allow,
  the first slots inside the rep's hours alone, flagged as outside the lead's hours.

All times are wall-clock in each party's zone (see :mod:`agent.meetings.hours`): each day's
window starts at the local working start whatever the offset that day. Within a window the
steps are real minutes, so in the rare hours that span a change itself (01:00-03:00 local)
the grid keeps its spacing rather than its clock labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from agent.meetings.hours import WorkingHours
from agent.meetings.intervals import Interval, conflicts, merge, require_aware

OUTSIDE_LEAD_HOURS = "outside the lead's business hours"


@dataclass(frozen=True)
class SlotRules:
    duration: timedelta = timedelta(minutes=30)
    buffer: timedelta = timedelta(0)
    """Kept free before and after each existing meeting."""
    min_notice: timedelta = timedelta(hours=2)
    horizon_days: int = 5
    """The rep's working days searched."""
    step: timedelta = timedelta(minutes=30)
    count: int = 3
    fallback_to_rep_hours: bool = True
    """When nothing fits both parties' hours, offer slots in the rep's hours only (flagged)."""

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.step <= timedelta(0):
            raise ValueError("duration and step must be positive")
        if self.buffer < timedelta(0) or self.min_notice < timedelta(0):
            raise ValueError("buffer and min_notice cannot be negative")
        if self.horizon_days < 1 or self.count < 1:
            raise ValueError("horizon_days and count must be at least 1")


@dataclass(frozen=True)
class Slot:
    """A meeting time: ``start``/``end`` in UTC, and each party's zone to show it in."""

    start: datetime
    end: datetime
    rep_zone: ZoneInfo
    lead_zone: ZoneInfo
    inside_lead_hours: bool

    @property
    def span(self) -> Interval:
        return self.start, self.end

    @property
    def rep_local(self) -> Interval:
        return self.start.astimezone(self.rep_zone), self.end.astimezone(self.rep_zone)

    @property
    def lead_local(self) -> Interval:
        return self.start.astimezone(self.lead_zone), self.end.astimezone(self.lead_zone)

    @property
    def note(self) -> str | None:
        return None if self.inside_lead_hours else OUTSIDE_LEAD_HOURS

    def describe(self) -> str:
        """``Tue 16 Mar 09:00-09:30 America/New_York / Tue 16 Mar 13:00-13:30 Europe/London``."""
        return " / ".join(
            f"{start:%a %d %b %H:%M}-{end:%H:%M} {start.tzinfo}"
            for start, end in (self.rep_local, self.lead_local)
        )


class NoSlot(StrEnum):
    """Why no slot fits inside both parties' hours."""

    REP_OUT_OF_OFFICE = "rep_out_of_office"
    """The rep is off on every working day of the horizon."""
    NO_OVERLAP = "no_overlap"
    """From the earliest allowed start, the two parties' hours never share a slot that long."""
    CALENDAR_FULL = "calendar_full"
    """They do, but every such slot is taken by meetings and their buffers."""


@dataclass(frozen=True)
class SlotSearch:
    slots: tuple[Slot, ...]
    """Inside both parties' hours; or, with ``reason`` set, the rep-hours-only fallback (maybe empty)."""
    horizon: tuple[date, ...]
    """The rep's local working days searched."""
    reason: NoSlot | None = None
    explanation: str | None = None
    back_on: date | None = None
    """For ``REP_OUT_OF_OFFICE``: the rep's first working day after the leave, if any within a year."""

    @property
    def found(self) -> bool:
        """Whether slots inside both parties' hours were found."""
        return self.reason is None and bool(self.slots)


def find_slots(
    rep: WorkingHours,
    busy: Iterable[Interval],
    lead: WorkingHours,
    rules: SlotRules,
    now: datetime,
) -> SlotSearch:
    """The first ``rules.count`` slots for a meeting between ``rep`` and the lead (see the module doc)."""
    earliest = require_aware(now, "now") + rules.min_notice
    taken = merge((require_aware(s, "busy start"), require_aware(e, "busy end")) for s, e in busy)
    days = _horizon(rep, earliest, rules.horizon_days)
    windows = [window for day in days if (window := rep.window(day)) is not None]
    both = list(_fitting(windows, earliest, rules, taken, lead, count=rules.count))
    if both:
        return SlotSearch(tuple(_slot(span, rep, lead, inside=True) for span in both), days)
    if not windows:
        back_on = rep.next_working_day(days[-1])
        explanation = f"the rep is out of office on every working day from {days[0]} to {days[-1]}"
        explanation += f", back on {back_on}" if back_on else ""
        return SlotSearch((), days, NoSlot.REP_OUT_OF_OFFICE, explanation, back_on)
    minutes = int(rules.duration.total_seconds() // 60)
    if not any(_fitting(windows, earliest, rules, [], lead, count=1)):
        reason = NoSlot.NO_OVERLAP
        explanation = (
            f"the rep's hours ({rep.label}) and the lead's ({lead.label}) share no {minutes}-minute slot"
        )
    else:
        reason = NoSlot.CALENDAR_FULL
        explanation = f"every {minutes}-minute slot inside both parties' hours is taken"
        if rules.buffer:
            explanation += f" (meetings with {int(rules.buffer.total_seconds() // 60)} minutes' buffer)"
    explanation += f" in the rep's next {len(days)} working days"
    fallback: tuple[Slot, ...] = ()
    if rules.fallback_to_rep_hours:
        spans = _fitting(windows, earliest, rules, taken, None, count=rules.count)
        fallback = tuple(_slot(span, rep, lead, inside=lead.contains(span)) for span in spans)
    return SlotSearch(fallback, days, reason, explanation)


def still_free(slot: Slot | Interval, busy: Iterable[Interval], buffer: timedelta = timedelta(0)) -> bool:
    """Whether ``slot`` is still bookable against fresh ``busy`` times (the re-check before booking)."""
    span = slot.span if isinstance(slot, Slot) else slot
    return not conflicts(span, busy, buffer)


def _horizon(rep: WorkingHours, earliest: datetime, count: int) -> tuple[date, ...]:
    days: list[date] = []
    day = earliest.astimezone(rep.zone).date()
    while len(days) < count:
        if rep.works_on(day) and rep.bounds(day)[1] > earliest:
            days.append(day)
        day += timedelta(days=1)  # ends: every rep works at least one weekday
    return tuple(days)


def _fitting(
    windows: Sequence[Interval],
    earliest: datetime,
    rules: SlotRules,
    taken: Sequence[Interval],
    lead: WorkingHours | None,
    *,
    count: int,
) -> Iterator[Interval]:
    """Up to ``count`` free spans in ``windows``, inside ``lead``'s hours unless it is ``None``."""
    found = 0
    for begin, finish in windows:
        if found == count:
            return
        # Steps from the working start: ceil((earliest - begin) / step) of them to skip.
        skip = max(0, -((begin - earliest) // rules.step))
        start = begin + skip * rules.step
        while start + rules.duration <= finish and found < count:
            span = (start, start + rules.duration)
            if not conflicts(span, taken, rules.buffer) and (lead is None or lead.contains(span)):
                found += 1
                yield span
            start += rules.step


def _slot(span: Interval, rep: WorkingHours, lead: WorkingHours, *, inside: bool) -> Slot:
    return Slot(span[0], span[1], rep.zone, lead.zone, inside)
