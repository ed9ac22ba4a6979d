"""The routing configuration (``routing.yaml``): rules, territories, pools, queues and SLA.

Rules are tried in order and the first that matches and can place the lead wins. The
last rule must be a catch-all (no ``when``) sending to a queue: a lead always lands
somewhere. A rule's ``then`` names exactly one destination:

- ``pool: <name>``: the next available member of the pool (weighted round-robin);
- ``owner: <id>``: that owner, when active;
- ``queue: <name>``: a queue (a CRM queue owner, or left unowned and posted to a channel);
- ``territory: true``: the pool named after the team of the lead's territory;
- ``account_owner: true``: the active owner of the account the lead matched.

A destination that cannot take the lead (no territory matched, the account's owner
inactive, every pool member unavailable) lets the next rule try; the reason is kept.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from agent.routing.rules import Condition
from agent.routing.territories import Territory

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Destination(_Model):
    """Where a rule sends a lead: exactly one of the fields."""

    pool: str | None = Field(None, min_length=1)
    owner: str | None = Field(None, min_length=1)
    queue: str | None = Field(None, min_length=1)
    territory: bool = False
    account_owner: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> Destination:
        chosen = [n for n in ("pool", "owner", "queue") if getattr(self, n) is not None]
        chosen += [n for n in ("territory", "account_owner") if getattr(self, n)]
        if len(chosen) != 1:
            raise ValueError(
                "then needs exactly one of pool, owner, queue, territory: true, account_owner: true"
                + (f" (it has {', '.join(chosen)})" if chosen else "")
            )
        return self

    def describe(self) -> str:
        if self.pool:
            return f"pool {self.pool}"
        if self.owner:
            return f"owner {self.owner}"
        if self.queue:
            return f"queue {self.queue}"
        return "the territory's team" if self.territory else "the matched account's owner"


class Rule(_Model):
    name: str = Field(min_length=1)
    when: Condition | None = None
    """``None``: every lead (a catch-all)."""
    then: Destination


class OutOfOffice(_Model):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    """Inclusive: back the day after."""

    @model_validator(mode="after")
    def _ordered(self) -> OutOfOffice:
        if self.end < self.start:
            raise ValueError(f"out of office ends ({self.end}) before it starts ({self.start})")
        return self


class Member(_Model):
    """A pool member: an owner, their weight, when they work and how much they can take."""

    owner: str = Field(min_length=1)
    weight: int = Field(1, ge=1, le=100)
    timezone: ZoneInfo | None = None
    """Defaults to the file's ``timezone``."""
    hours: str = "09:00-17:00"
    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    out_of_office: tuple[OutOfOffice, ...] = ()
    max_open_leads: int | None = Field(None, ge=0)
    max_per_day: int | None = Field(None, ge=0)
    calendar: str | None = Field(None, min_length=1)
    """A file (relative to this routing file) or an https URL of the member's iCalendar feed."""

    @field_validator("calendar")
    @classmethod
    def _calendar_source(cls, value: str | None) -> str | None:
        # Only files and web feeds are read (agent.meetings.calendars); another scheme would
        # otherwise be taken for a file name and fail later, far from the line that wrote it.
        if value is not None and "://" in value:
            scheme = value.split("://", 1)[0].lower()
            if scheme not in ("https", "http", "webcal"):
                raise ValueError(f"calendar must be a file or an https URL, not a {scheme}:// address")
        return value

    @field_validator("hours")
    @classmethod
    def _hours_shape(cls, value: str) -> str:
        value = value.replace(" ", "")
        match = _HOURS.match(value)
        if match is None:
            raise ValueError(f"hours must look like 09:00-17:30, not {value!r}")
        start, end = (match[1], match[2]), (match[3] or match[5], match[4] or match[6])
        if start >= end:
            raise ValueError(f"hours {value!r} must end after they start")
        return value

    @field_validator("timezone", mode="before")
    @classmethod
    def _zone(cls, value: object) -> object:
        return _zone(value)

    @property
    def working_hours(self) -> tuple[time, time | None]:
        """Start and end of the working day; end ``None``: until midnight (``24:00``)."""
        start, end = self.hours.split("-")
        return time.fromisoformat(start), None if end == "24:00" else time.fromisoformat(end)


class Pool(_Model):
    members: tuple[Member, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> Pool:
        owners = [m.owner for m in self.members]
        if len(set(owners)) != len(owners):
            twice = sorted({o for o in owners if owners.count(o) > 1})
            raise ValueError(f"{', '.join(twice)} listed twice in one pool (use weight instead)")
        return self


class Queue(_Model):
    owner: str | None = None
    """A CRM queue (or user) id the lead is given to; ``None``: the lead stays unowned."""
    channel: str | None = None
    """Where leads landing in the queue are announced (and alerts about them go)."""


class SLA(_Model):
    """How fast a routed lead must be worked, in the owner's working minutes."""

    remind_after: int = Field(30, ge=1)
    escalate_after: int = Field(60, ge=1)
    reassign_after: int = Field(120, ge=1)
    escalation_channel: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SLA:
        if not self.remind_after <= self.escalate_after <= self.reassign_after:
            raise ValueError("remind_after <= escalate_after <= reassign_after must hold")
        return self


class Segment(_Model):
    """A named band of employee counts (``segment`` in conditions and territories)."""

    min: int = Field(0, ge=0)
    max: int | None = None


DEFAULT_SEGMENTS = {
    "smb": Segment(min=0, max=199),
    "mid_market": Segment(min=200, max=999),
    "enterprise": Segment(min=1000),
}


class MeetingOffer(_Model):
    """``meetings``: when routing books a meeting as its last step, and what kind of meeting.

    ``offer_when`` is a condition like a rule's ``when``, on the same lead values (say
    ``{field: lead_source, in: [Demo request]}``); without it routing never books.
    """

    offer_when: Condition | None = None
    duration: int = Field(30, ge=5, le=480)
    """Minutes."""
    buffer: int = Field(10, ge=0, le=240)
    """Minutes kept free around the rep's other meetings."""
    horizon_days: int = Field(5, ge=1, le=60)
    """The rep's working days searched."""
    min_notice: int = Field(120, ge=0, le=10080)
    """Minutes from now before the first slot."""


class RoutingConfig(_Model):
    timezone: ZoneInfo = ZoneInfo("UTC")
    rules: tuple[Rule, ...] = Field(min_length=1)
    pools: dict[str, Pool] = Field(default_factory=dict)
    queues: dict[str, Queue] = Field(default_factory=dict)
    territories: tuple[Territory, ...] = ()
    segments: dict[str, Segment] = Field(default_factory=lambda: dict(DEFAULT_SEGMENTS))
    sla: SLA = SLA()
    meetings: MeetingOffer = MeetingOffer()

    @field_validator("timezone", mode="before")
    @classmethod
    def _zone(cls, value: object) -> object:
        return _zone(value)

    @model_validator(mode="after")
    def _references(self) -> RoutingConfig:
        # Every broken reference is reported, each at the place that holds it, so a
        # routing file's reader can name the line (a plain ValueError would point at
        # the whole file).
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            if rule.name in seen:
                problems.append((("rules", index, "name"), f"rule name {rule.name!r} is used twice"))
            seen.add(rule.name)
        last = len(self.rules) - 1
        if self.rules[last].when is not None or self.rules[last].then.queue is None:
            problems.append(
                (
                    ("rules", last),
                    f"the last rule ({self.rules[last].name}) must be a catch-all fallback: "
                    "no 'when', and 'then: {queue: ...}'",
                )
            )
        for index, rule in enumerate(self.rules):
            if rule.then.pool is not None and rule.then.pool not in self.pools:
                problems.append(
                    (
                        ("rules", index, "then", "pool"),
                        f"rule {rule.name} sends to pool {rule.then.pool!r}, which is not defined",
                    )
                )
            if rule.then.queue is not None and rule.then.queue not in self.queues:
                problems.append(
                    (
                        ("rules", index, "then", "queue"),
                        f"rule {rule.name} sends to queue {rule.then.queue!r}, which is not defined",
                    )
                )
        territory_names: set[str] = set()
        for index, territory in enumerate(self.territories):
            if territory.name in territory_names:
                problems.append(
                    (("territories", index, "name"), f"territory name {territory.name!r} is used twice")
                )
            territory_names.add(territory.name)
            if territory.team not in self.pools:
                problems.append(
                    (
                        ("territories", index, "team"),
                        f"territory {territory.name} names team {territory.team!r}, which has no pool",
                    )
                )
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("routing_reference", message), loc=loc, input=None
                    )
                    for loc, message in problems
                ],
            )
        return self

    @property
    def fallback_queue(self) -> str:
        """The catch-all's queue: where a lead goes when nothing else can take it."""
        queue = self.rules[-1].then.queue
        assert queue is not None  # by _references
        return queue

    def member_zone(self, member: Member) -> ZoneInfo:
        return member.timezone or self.timezone

    def segment_of(self, employees: float | None) -> str | None:
        if employees is None:
            return None
        for name, band in self.segments.items():
            if employees >= band.min and (band.max is None or employees <= band.max):
                return name
        return None


def _zone(value: object) -> object:
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from exc
    return value
