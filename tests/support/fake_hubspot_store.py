"""The data behind the fake HubSpot: objects, owners, associations, search and merge.

Written from HubSpot's public CRM v3 reference, not from any HubSpot code:

- objects (``contacts``, ``companies``, ``notes``, ``meetings``) carry string properties; a property
  set to ``""`` is cleared; unknown properties, read-only ones, options outside an
  enumeration and owner ids that name no active owner are refused (400,
  ``VALIDATION_ERROR``) and nothing of the request is written;
- every write stamps ``hs_lastmodifieddate`` (and ``lastmodifieddate`` on contacts)
  with the fake's clock; stamps of one object type never repeat (a write in the same
  millisecond as the last one is stamped a millisecond later, as the real clock would);
- a merge creates a new object with a new id: the primary's values win, the other's
  fill what the primary lacks, both old ids redirect to the new object (a GET of them
  answers it), and their associations (notes, meetings) move to it;
- notes and meetings are created with their associations (HubSpot-defined types: note ->
  contact 202 / company 190, meeting -> contact 200 / company 188) and need ``hs_timestamp``;
- search evaluates ``filterGroups`` (ORed groups of ANDed filters; at most 5 groups, 10
  filters in a group and 25 in all, HubSpot's limits since August 2024), one sort,
  ``limit`` up to 200 and the ``after`` offset, and refuses any page past the 10,000th
  result (the search endpoints' documented cap); text compares case-insensitively.
  Unlike HubSpot's, the fake's search index is never behind the last write.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Json = dict[str, Any]

SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS = 25

STRING, NUMBER, DATETIME, ENUM, OWNER = "string", "number", "datetime", "enumeration", "owner"

_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
_LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
_SOURCES = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
)
_INDUSTRIES = (
    "COMPUTER_SOFTWARE",
    "FINANCIAL_SERVICES",
    "RETAIL",
    "HOSPITAL_HEALTH_CARE",
    "EDUCATION_MANAGEMENT",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "MEDIA_PRODUCTION",
    "OIL_ENERGY",
    "MANAGEMENT_CONSULTING",
)

_COMMON: dict[str, str] = {
    "hubspot_owner_id": OWNER,
    "phone": STRING,
    "country": STRING,
    "state": STRING,
    "city": STRING,
    "website": STRING,
    "annualrevenue": NUMBER,
    "numberofemployees": NUMBER,
    "createdate": DATETIME,
    "hs_lastmodifieddate": DATETIME,
    "hs_object_id": NUMBER,
    "hs_merged_object_ids": STRING,
}
SCHEMA: dict[str, dict[str, str]] = {
    "contacts": _COMMON
    | {
        "firstname": STRING,
        "lastname": STRING,
        "email": STRING,
        "company": STRING,
        "jobtitle": STRING,
        "revgate_job_function": STRING,
        "revgate_seniority": STRING,
        "hs_lead_status": ENUM,
        "lifecyclestage": ENUM,
        "associatedcompanyid": NUMBER,
        "zip": STRING,
        "industry": STRING,
        "hs_analytics_source": ENUM,
        "notes_last_updated": DATETIME,
        "lastmodifieddate": DATETIME,
    },
    "companies": _COMMON
    | {"name": STRING, "domain": STRING, "industry": ENUM, "notes_last_updated": DATETIME},
    "notes": {
        "hs_note_body": STRING,
        "hs_timestamp": DATETIME,
        "hubspot_owner_id": OWNER,
        "hs_createdate": DATETIME,
        "hs_lastmodifieddate": DATETIME,
        "hs_object_id": NUMBER,
    },
    "meetings": {
        "hs_timestamp": DATETIME,
        "hs_meeting_title": STRING,
        "hs_meeting_body": STRING,
        "hs_internal_meeting_notes": STRING,
        "hs_meeting_external_url": STRING,
        "hs_meeting_location": STRING,
        "hs_meeting_start_time": DATETIME,
        "hs_meeting_end_time": DATETIME,
        "hs_meeting_outcome": ENUM,
        "hubspot_owner_id": OWNER,
        "hs_createdate": DATETIME,
        "hs_lastmodifieddate": DATETIME,
        "hs_object_id": NUMBER,
    },
}
"""The properties each object type has, by kind."""

OPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("contacts", "lifecyclestage"): _STAGES,
    ("contacts", "hs_lead_status"): _LEAD_STATUSES,
    ("contacts", "hs_analytics_source"): _SOURCES,
    ("companies", "industry"): _INDUSTRIES,
    ("meetings", "hs_meeting_outcome"): ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
}

READ_ONLY = frozenset(
    {
        "createdate",
        "hs_createdate",
        "hs_lastmodifieddate",
        "lastmodifieddate",
        "hs_object_id",
        "hs_merged_object_ids",
        "notes_last_updated",
    }
)
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "notes": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    "meetings": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
}

# HubSpot-defined association types: note -> record, and back; meeting -> record, and back.
NOTE_TO: dict[int, str] = {202: "contacts", 190: "companies"}
TO_NOTE: dict[str, int] = {"contacts": 201, "companies": 189}
MEETING_TO: dict[int, str] = {200: "contacts", 188: "companies"}
TO_MEETING: dict[str, int] = {"contacts": 199, "companies": 187}
ENGAGEMENTS: dict[str, tuple[dict[int, str], dict[str, int]]] = {
    "notes": (NOTE_TO, TO_NOTE),
    "meetings": (MEETING_TO, TO_MEETING),
}
"""Engagement type -> (its association types to records, the records' types back to it)."""


class HubSpotError(Exception):
    """A refusal, answered in HubSpot's error shape."""

    def __init__(self, status: int, category: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.extra = extra


def not_found(object_type: str, object_id: str) -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", f"resource not found: {object_type} {object_id}")


def invalid(message: str, **extra: Any) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, **extra)


def iso(moment: datetime) -> str:
    """HubSpot's datetime shape: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def millis(raw: str) -> int:
    """A datetime property or filter value (ISO 8601 or epoch milliseconds) as epoch milliseconds."""
    if raw.lstrip("-").isdigit():
        return int(raw)
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (parsed - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


@dataclass
class StoredObject:
    """One CRM object as the fake keeps it (properties hold only values that are set)."""

    object_type: str
    id: str
    properties: dict[str, str]
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    merged_into: str | None = None

    def as_json(self, names: Iterable[str] | None) -> Json:
        wanted = DEFAULT_PROPERTIES[self.object_type] if names is None else tuple(names)
        known = SCHEMA[self.object_type]
        return {
            "id": self.id,
            "properties": {name: self.properties.get(name) for name in wanted if name in known},
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "archived": self.archived,
        }


@dataclass
class StoredOwner:
    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    archived: bool
    teams: list[Json]
    created_at: datetime

    def as_json(self) -> Json:
        return {
            "id": self.id,
            "email": self.email,
            "type": "PERSON",
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": self.user_id,
            "userIdIncludingInactive": self.user_id,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.created_at),
            "archived": self.archived,
            "teams": self.teams,
        }


@dataclass
class Store:
    """Every object, owner and note association of one fake portal. Not thread-safe: the fake locks."""

    objects: dict[str, StoredObject] = field(default_factory=dict)
    owners: dict[str, StoredOwner] = field(default_factory=dict)
    note_links: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    """note id -> {(object type, object id)} it is associated to."""
    meeting_links: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    """meeting id -> {(object type, object id)} it is associated to."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(101))
    _owner_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7001))
    _last_stamp: datetime | None = None

    # -- identity and time ----------------------------------------------------------

    def new_id(self) -> str:
        """Ids are numbers, unique across object types (contacts and companies never share one)."""
        return str(next(self._ids))

    def stamp(self, now: datetime) -> datetime:
        """``now`` to the millisecond, but always after the previous stamp."""
        moment = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last_stamp is not None and moment <= self._last_stamp:
            moment = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = moment
        return moment

    # -- objects --------------------------------------------------------------------

    def live(self, object_type: str, object_id: str) -> StoredObject:
        """The object an id names now (following merges), or a 404."""
        found = self.objects.get(object_id)
        seen = 0
        while found is not None and found.merged_into is not None and seen < 100:
            found = self.objects.get(found.merged_into)
            seen += 1
        if found is None or found.object_type != object_type or found.archived:
            raise not_found(object_type, object_id)
        return found

    def create(self, object_type: str, properties: Mapping[str, Any], now: datetime) -> StoredObject:
        values = self.validated(object_type, properties, writing=True)
        stamp = self.stamp(now)
        obj = StoredObject(object_type, self.new_id(), {}, stamp, stamp)
        obj.properties.update({k: v for k, v in values.items() if v != ""})
        self._touch(obj, stamp, created=True)
        self.objects[obj.id] = obj
        return obj

    def update(
        self, object_type: str, object_id: str, properties: Mapping[str, Any], now: datetime
    ) -> StoredObject:
        obj = self.live(object_type, object_id)
        values = self.validated(object_type, properties, writing=True)
        self.apply(obj, values, now)
        return obj

    def apply(self, obj: StoredObject, values: Mapping[str, str], now: datetime) -> None:
        for name, value in values.items():
            if value == "":
                obj.properties.pop(name, None)
            else:
                obj.properties[name] = value
        self._touch(obj, self.stamp(now))

    def _touch(self, obj: StoredObject, stamp: datetime, *, created: bool = False) -> None:
        obj.updated_at = stamp
        obj.properties["hs_object_id"] = obj.id
        obj.properties["hs_lastmodifieddate"] = iso(stamp)
        if obj.object_type == "contacts":
            obj.properties["lastmodifieddate"] = iso(stamp)
        if created:
            engagement = obj.object_type in ENGAGEMENTS
            obj.properties["hs_createdate" if engagement else "createdate"] = iso(stamp)

    def archive(self, object_type: str, object_id: str, now: datetime) -> None:
        obj = self.live(object_type, object_id)
        obj.archived = True
        obj.updated_at = self.stamp(now)

    def validated(self, object_type: str, properties: Mapping[str, Any], *, writing: bool) -> dict[str, str]:
        """The properties as strings, or a 400 naming every invalid one (nothing is written then)."""
        schema = SCHEMA[object_type]
        problems: list[Json] = []
        values: dict[str, str] = {}
        for name, raw in properties.items():
            value = "" if raw is None else str(raw)
            kind = schema.get(name)
            error: str | None = None
            if kind is None:
                error, message = "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'
            elif writing and name in READ_ONLY:
                error, message = (
                    "READ_ONLY_VALUE",
                    f'"{name}" is a read only property; its value cannot be set.',
                )
            elif value and kind == NUMBER and not _is_number(value):
                error, message = "INVALID_INTEGER", f"{value!r} is not a valid number"
            elif value and not self._allowed(object_type, name, kind, value):
                error, message = "INVALID_OPTION", f"{value} was not one of the allowed options"
            if error is not None:
                problems.append({"isValid": False, "message": message, "error": error, "name": name})
            else:
                values[name] = value
        if problems:
            raise invalid(f"Property values were not valid: {problems}", errors=problems)
        return values

    def _allowed(self, object_type: str, name: str, kind: str, value: str) -> bool:
        """An enumeration's value is one of its options; an owner's is an active owner."""
        if kind == ENUM:
            return value in OPTIONS.get((object_type, name), ())
        if kind == OWNER:
            return self._active_owner(value)
        return True

    def _active_owner(self, owner_id: str) -> bool:
        owner = self.owners.get(owner_id)
        return owner is not None and not owner.archived

    # -- merge ----------------------------------------------------------------------

    def merge(self, object_type: str, primary_id: str, other_id: str, now: datetime) -> StoredObject:
        if object_type not in ("contacts", "companies"):
            raise invalid(f"{object_type} cannot be merged by this endpoint")
        primary = self.live(object_type, primary_id)
        other = self.live(object_type, other_id)
        if primary.id == other.id:
            raise invalid("cannot merge an object with itself")
        stamp = self.stamp(now)
        merged_ids = {primary.id, other.id}
        for source in (primary, other):
            merged_ids.update(filter(None, source.properties.get("hs_merged_object_ids", "").split(";")))
        values = {**other.properties, **primary.properties}
        made = StoredObject(object_type, self.new_id(), values, primary.created_at, stamp)
        made.properties["hs_merged_object_ids"] = ";".join(sorted(merged_ids, key=int))
        self._touch(made, stamp)
        self.objects[made.id] = made
        for source in (primary, other):
            source.merged_into = made.id
            source.archived = True
            for links in [*self.note_links.values(), *self.meeting_links.values()]:
                if (object_type, source.id) in links:
                    links.discard((object_type, source.id))
                    links.add((object_type, made.id))
        return made

    # -- notes ------------------------------------------------------------------------

    def create_engagement(
        self, engagement: str, properties: Mapping[str, Any], associations: list[Json], now: datetime
    ) -> StoredObject:
        """A note or meeting with its associations to records (all valid, or nothing is written)."""
        to_record = ENGAGEMENTS[engagement][0]
        links: set[tuple[str, str]] = set()
        for association in associations:
            target = str(association.get("to", {}).get("id", ""))
            for kind in association.get("types", []):
                object_type = to_record.get(int(kind.get("associationTypeId", 0)))
                if object_type is None:
                    raise invalid(
                        f"association type {kind.get('associationTypeId')} is not "
                        f"{engagement} -> contact/company"
                    )
                try:
                    links.add((object_type, self.live(object_type, target).id))
                except HubSpotError as missing:
                    raise invalid(f"association target {target} does not exist") from missing
        if "hs_timestamp" not in properties:
            raise invalid(f'Property "hs_timestamp" is required for {engagement}')
        created = self.create(engagement, properties, now)
        self.links_of(engagement)[created.id] = links
        return created

    def create_note(
        self, properties: Mapping[str, Any], associations: list[Json], now: datetime
    ) -> StoredObject:
        return self.create_engagement("notes", properties, associations, now)

    def links_of(self, engagement: str) -> dict[str, set[tuple[str, str]]]:
        return self.note_links if engagement == "notes" else self.meeting_links

    def engagements_of(self, engagement: str, object_type: str, object_id: str) -> list[str]:
        """Ids of the notes or meetings associated to an object (merged-away ids followed)."""
        try:
            found = self.live(object_type, object_id)
        except HubSpotError:
            return []
        links = self.links_of(engagement)
        return sorted((item for item, linked in links.items() if (object_type, found.id) in linked), key=int)

    def notes_of(self, object_type: str, object_id: str) -> list[str]:
        """Ids of the notes associated to an object (a merged-away id answers for the merged object)."""
        return self.engagements_of("notes", object_type, object_id)

    # -- owners -----------------------------------------------------------------------

    def add_owner(
        self, *, email: str, first_name: str, last_name: str, archived: bool, team: str | None, now: datetime
    ) -> StoredOwner:
        owner_id = str(next(self._owner_ids))
        teams = [] if team is None else [{"id": f"team-{team}", "name": team, "primary": True}]
        owner = StoredOwner(owner_id, email, first_name, last_name, int(owner_id) * 10, archived, teams, now)
        self.owners[owner_id] = owner
        return owner

    # -- search -----------------------------------------------------------------------

    def search(self, object_type: str, request: Json) -> Json:
        limit = int(request.get("limit") or 10)
        after = int(request.get("after") or 0)
        if limit > SEARCH_LIMIT:
            raise invalid(f"limit {limit} is more than the maximum of {SEARCH_LIMIT}")
        if after >= SEARCH_CAP:
            raise invalid(
                f"The search API returns at most {SEARCH_CAP} results per query; after={after} is past it"
            )
        groups = [list(group.get("filters", [])) for group in request.get("filterGroups", [])]
        self._check_filters(object_type, groups)
        sorts = request.get("sorts") or []
        if len(sorts) > 1:
            raise invalid("only one sort is allowed")
        tests = [[_predicate(object_type, condition) for condition in group] for group in groups]
        # Ids only grow, so the store is in id order: skip what an hs_object_id floor rules out.
        candidates = list(self.objects.values())
        floor = _id_floor(groups)
        if floor is not None:
            candidates = candidates[bisect.bisect_right(candidates, floor, key=lambda o: int(o.id)) :]
        matches = [
            obj
            for obj in candidates
            if obj.object_type == object_type
            and not obj.archived
            and (not tests or any(all(test(obj.properties) for test in group) for group in tests))
        ]
        matches.sort(key=lambda o: int(o.id))
        if sorts:
            name = sorts[0].get("propertyName", "hs_object_id")
            matches.sort(key=lambda o: _sort_key(o, name), reverse=sorts[0].get("direction") == "DESCENDING")
        end = min(after + limit, len(matches), SEARCH_CAP)
        page = matches[after:end]
        names = list(request.get("properties") or []) or None
        if names is not None:
            names = [*names, *DEFAULT_PROPERTIES[object_type]]
        answer: Json = {"total": len(matches), "results": [obj.as_json(names) for obj in page]}
        if end < min(len(matches), SEARCH_CAP):
            answer["paging"] = {"next": {"after": str(end)}}
        return answer

    def _check_filters(self, object_type: str, groups: list[list[Json]]) -> None:
        if len(groups) > MAX_FILTER_GROUPS:
            raise invalid(f"at most {MAX_FILTER_GROUPS} filter groups are allowed")
        if any(len(group) > MAX_FILTERS_PER_GROUP for group in groups):
            raise invalid(f"at most {MAX_FILTERS_PER_GROUP} filters per group are allowed")
        if sum(map(len, groups)) > MAX_FILTERS:
            raise invalid(f"at most {MAX_FILTERS} filters are allowed")
        for group in groups:
            for condition in group:
                if condition.get("propertyName") not in SCHEMA[object_type]:
                    raise invalid(f'Property "{condition.get("propertyName")}" does not exist')
                if condition.get("operator") not in _OPERATORS:
                    raise invalid(f"operator {condition.get('operator')} is not supported by the fake")


_OPERATORS = frozenset(
    {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "IN", "NOT_IN"}
)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _converter(object_type: str, name: str) -> Callable[[str], float | str]:
    """How a property's values compare: datetimes and numbers as numbers, text case-insensitively."""
    kind = SCHEMA[object_type].get(name, STRING)
    if kind == DATETIME:
        return lambda raw: float(millis(raw))
    if kind == NUMBER:
        return lambda raw: float(raw) if _is_number(raw) else raw.lower()
    return str.lower


def _predicate(object_type: str, condition: Json) -> Callable[[Mapping[str, str]], bool]:
    """One search filter as a test of an object's properties (built once per request)."""
    name = str(condition["propertyName"])
    operator = str(condition["operator"])
    convert = _converter(object_type, name)
    if operator == "HAS_PROPERTY":
        return lambda props: name in props
    if operator == "NOT_HAS_PROPERTY":
        return lambda props: name not in props
    if operator in ("IN", "NOT_IN"):
        wanted = {convert(str(v)) for v in condition.get("values", [])}
        inside = operator == "IN"
        return lambda props: (name in props and convert(props[name]) in wanted) == inside
    target = convert(str(condition.get("value", "")))
    compare: Callable[[Any], bool] = {
        "EQ": lambda v: v == target,
        "NEQ": lambda v: v != target,
        "LT": lambda v: type(v) is type(target) and v < target,
        "LTE": lambda v: type(v) is type(target) and v <= target,
        "GT": lambda v: type(v) is type(target) and v > target,
        "GTE": lambda v: type(v) is type(target) and v >= target,
    }[operator]
    if operator == "NEQ":
        return lambda props: name not in props or compare(convert(props[name]))
    return lambda props: name in props and compare(convert(props[name]))


def _id_floor(groups: list[list[Json]]) -> int | None:
    """The largest id no match can have, when every group bounds ``hs_object_id`` from below."""
    floors: list[int] = []
    for group in groups:
        bounds = [
            int(f["value"]) - (1 if f["operator"] == "GTE" else 0)
            for f in group
            if f.get("propertyName") == "hs_object_id" and f.get("operator") in ("GT", "GTE")
        ]
        if not bounds:
            return None
        floors.append(max(bounds))
    return min(floors) if floors else None


def _sort_key(obj: StoredObject, name: str) -> tuple[int, float | str]:
    value = obj.properties.get(name)
    return (1, "") if value is None else (0, _converter(obj.object_type, name)(value))
