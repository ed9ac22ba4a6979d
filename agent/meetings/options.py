"""Meeting options for a routed lead: its zone, the rep, and the first slots that fit both.

:class:`MeetingOptions` puts the pure core together for one lead (read-only: it books nothing):

- the lead's zone from its ``country``, ``state`` and ``phone``
  (:func:`~agent.meetings.timezones.infer_lead_zone`), falling back to the routing file's
  ``timezone``, "the team's zone";
- the rep is the lead's owner. Their hours are their entry in the first pool (in file order)
  listing them; an owner in no pool works 09:00-17:00, Monday to Friday, in the routing
  file's zone. Their days off are the routing file's plus the whole days their calendar
  marks out of office; their busy times come from :class:`~agent.meetings.calendars.Calendars`;
- when the owner is out of office for the whole horizon, the next members of the owner's
  pools (after the owner, in file order, wrapping round) are tried and the first with
  slots inside the lead's hours is proposed instead, with the reason in words.

A lead without an owner has nobody to meet: :class:`LeadNotRoutedError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from math import ceil

from agent.errors import LeadNotRoutedError
from agent.meetings.calendars import Calendars
from agent.meetings.hours import WorkingHours
from agent.meetings.slots import NoSlot, Slot, SlotRules, SlotSearch, find_slots
from agent.meetings.timezones import LeadZone, infer_lead_zone
from agent.models import Record
from agent.ports import Clock
from agent.routing.config import Member, RoutingConfig

TEAM_ZONE = "the team's zone"
# Days off are looked up this far ahead, beyond the horizon, so "back on" is right even
# when the calendar's leave outlasts the search.
_LEAVE_LOOKAHEAD = timedelta(days=92)


@dataclass(frozen=True)
class Rep:
    """Who the slots are with: an owner, their hours (days off included) and where they come from."""

    owner_id: str
    hours: WorkingHours
    pool: str | None
    """The pool whose entry gave the hours; ``None``: in no pool (default hours)."""
    calendar: str
    """Where the busy times came from (``no calendar``, a redacted feed)."""


@dataclass(frozen=True)
class Substitution:
    """The owner is away for the whole horizon, so another member of their pool is proposed."""

    owner_id: str
    until: date | None
    """The owner's last day off seen; ``None``: away beyond the lookahead."""
    pool: str

    def describe(self, rep_id: str, name: Callable[[str], str] = str) -> str:
        away = f"until {self.until}" if self.until else "for the whole horizon and beyond"
        proposing = f"proposing {name(rep_id)} from pool {self.pool}"
        return f"owner {name(self.owner_id)} is out of office {away}; {proposing}"


@dataclass(frozen=True)
class LeadOptions:
    """The meeting options for one lead (see the module doc)."""

    lead_id: str
    lead_zone: LeadZone
    owner_id: str
    rep: Rep
    search: SlotSearch
    substitution: Substitution | None = None
    note: str | None = None
    """Why the owner stays the rep although away (no pool, nobody in it has slots)."""

    @property
    def slots(self) -> tuple[Slot, ...]:
        return self.search.slots

    @property
    def reason(self) -> NoSlot | None:
        return self.search.reason

    @property
    def explanation(self) -> str | None:
        """Why no slot fits both parties' hours (``None`` when some do)."""
        return self.search.explanation


class MeetingOptions:
    """Assembles :class:`LeadOptions` from the routing file, a calendar port and the clock.

    ``active``: whether an owner may be proposed instead of the lead's owner (say, active in
    the CRM); ``None``: every pool member may.
    """

    def __init__(
        self,
        config: RoutingConfig,
        calendars: Calendars,
        clock: Clock,
        *,
        active: Callable[[str], bool] | None = None,
    ) -> None:
        self._config = config
        self._calendars = calendars
        self._clock = clock
        self._active = active

    def for_lead(self, lead: Record, rules: SlotRules | None = None) -> LeadOptions:
        """The options for ``lead``.

        Raises:
            LeadNotRoutedError: the lead has no owner.
            CalendarFeedError: a rep's calendar cannot be read.
        """
        if lead.owner_id is None:
            raise LeadNotRoutedError(
                f"lead {lead.id} has no owner: route it first (revgate route-lead {lead.id})"
            )
        rules = rules or SlotRules()
        now = self._clock.now()
        zone = infer_lead_zone(
            country=_text(lead.get("country")),
            state=_text(lead.get("state")),
            phone=_text(lead.get("phone")),
            fallback=self._config.timezone,
            fallback_label=TEAM_ZONE,
        )
        lead_hours = WorkingHours(zone.zone)
        owner = lead.owner_id
        entries = self._entries(owner)
        rep, search = self._search(owner, entries[0] if entries else None, lead_hours, rules, now)
        found = LeadOptions(lead.id, zone, owner, rep, search)
        if search.reason is not NoSlot.REP_OUT_OF_OFFICE:
            return found
        if not entries:
            return replace(found, note=f"{owner} is in no pool: nobody to propose instead")
        until = _last_day_off(rep.hours, search.back_on)
        for pool, member in self._others(owner):
            other, other_search = self._search(member.owner, (pool, member), lead_hours, rules, now)
            if other_search.found:
                return LeadOptions(
                    lead.id, zone, owner, other, other_search, Substitution(owner, until, pool)
                )
        pools = ", ".join(pool for pool, _ in entries)
        return replace(found, note=f"nobody else in pool {pools} has a slot in the horizon either")

    def _search(
        self,
        owner: str,
        entry: tuple[str, Member] | None,
        lead: WorkingHours,
        rules: SlotRules,
        now: datetime,
    ) -> tuple[Rep, SlotSearch]:
        hours = (
            WorkingHours.of_member(entry[1], self._config.timezone)
            if entry is not None
            else WorkingHours(self._config.timezone)
        )
        earliest = now + rules.min_notice
        # The horizon is N of the rep's working days; this many calendar weeks (plus one for
        # a partly worked first week) always contains them, and the result is clipped anyway.
        end = earliest + timedelta(weeks=ceil(rules.horizon_days / len(hours.days)) + 1)
        # From local midnight: leave is whole days, and today's would be cut at ``now`` otherwise.
        today = datetime.combine(now.astimezone(hours.zone).date(), time(0), hours.zone)
        away = self._calendars.out_of_office(owner, today, end + _LEAVE_LOOKAHEAD, hours.zone)
        hours = replace(hours, out_of_office=hours.out_of_office + away)
        busy = self._calendars.busy(owner, now, end, hours.zone)
        rep = Rep(owner, hours, entry[0] if entry else None, self._calendars.describe(owner))
        return rep, find_slots(hours, busy, lead, rules, now)

    def _entries(self, owner: str) -> list[tuple[str, Member]]:
        """The owner's pool entries, in file order."""
        return [
            (name, member)
            for name, pool in self._config.pools.items()
            for member in pool.members
            if member.owner == owner
        ]

    def _others(self, owner: str) -> Iterator[tuple[str, Member]]:
        """The other members of the owner's pools: each pool's members after the owner, wrapping round."""
        seen = {owner}
        for name, pool in self._config.pools.items():
            owners = [member.owner for member in pool.members]
            if owner not in owners:
                continue
            at = owners.index(owner)
            for member in pool.members[at + 1 :] + pool.members[:at]:
                if member.owner in seen or (self._active is not None and not self._active(member.owner)):
                    continue
                seen.add(member.owner)
                yield name, member


def _last_day_off(hours: WorkingHours, back_on: date | None) -> date | None:
    """The last day off before ``back_on`` (skipping the weekend between), for "away until"."""
    if back_on is None:
        return None
    day = back_on - timedelta(days=1)
    for _ in range(7):
        if hours.is_off(day):
            return day
        day -= timedelta(days=1)
    return back_on - timedelta(days=1)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
