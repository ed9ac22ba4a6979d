"""How revgate's canonical records map onto HubSpot contacts and companies.

Object types: a revgate ``account`` is a HubSpot company; ``lead`` and ``contact``
both live in HubSpot contacts and are told apart by ``lifecyclestage``. The stages
that make a lead are configurable (:data:`DEFAULT_LEAD_STAGES` by default); a contact
with no stage is a lead, one with any other stage (custom stages included) is a
contact, so every HubSpot contact is exactly one of the two.

Properties (``revgate_*`` are custom single-line text properties the portal must have;
see the adapter's docstring):

========================  ==========================  ==========================
canonical                 lead / contact (contacts)   account (companies)
========================  ==========================  ==========================
first_name, last_name     firstname, lastname
email, phone              email, phone                phone
company                   company (lead)
title                     jobtitle
job_function, seniority   revgate_job_function,
                          revgate_seniority
status                    hs_lead_status (lead)
account_id                associatedcompanyid
                          (contact)
country, state, city      country, state, city        country, state, city
postcode                  zip (lead)
website, industry         website, industry (lead)    website, industry
lead_source               hs_analytics_source (lead)
annual_revenue            annualrevenue (lead)        annualrevenue
employees                 numberofemployees (lead)    numberofemployees
last_activity_at          notes_last_updated          (read only, a date)
name, domain                                          name, domain
========================  ==========================  ==========================

Picklists are translated both ways by :class:`Picklist`: a HubSpot value with no
revgate counterpart reads as itself, and a revgate value with no HubSpot counterpart
is sent as is (HubSpot then refuses it, a ``CRMValidationError``). Lead status
(``hs_lead_status`` -> ``LEAD_STATUSES``):

- NEW, OPEN -> New; ATTEMPTED_TO_CONTACT, CONNECTED, IN_PROGRESS -> Working;
  BAD_TIMING -> Nurturing; OPEN_DEAL -> Qualified; UNQUALIFIED -> Unqualified.
- Written: New -> NEW, Working -> IN_PROGRESS, Nurturing -> BAD_TIMING,
  Qualified -> OPEN_DEAL, Unqualified -> UNQUALIFIED.

Every value written reads back as written (tested), so the executor's
post-condition holds; reads are many-to-one, so a CONNECTED lead reads as Working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from agent.crm.fields import fields_of
from agent.crm.versions import content_version
from agent.errors import CRMValidationError
from agent.models import OWNER_FIELD, FieldValue, ObjectType, Record

CONTACTS = "contacts"
COMPANIES = "companies"
NOTES = "notes"
OWNER_PROPERTY = "hubspot_owner_id"
STAGE_PROPERTY = "lifecyclestage"
STAMP_PROPERTY = "hs_lastmodifieddate"
CREATED_PROPERTY = "createdate"
ID_PROPERTY = "hs_object_id"

DEFAULT_LEAD_STAGES: tuple[str, ...] = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "other",
)
"""``lifecyclestage`` values (and an empty stage) that make a HubSpot contact a revgate lead."""

NOTE_ASSOCIATION_TYPE: Mapping[str, int] = MappingProxyType({CONTACTS: 202, COMPANIES: 190})
"""HubSpot-defined association type ids, note -> contact and note -> company."""

_PEOPLE: dict[str, str] = {
    "first_name": "firstname",
    "last_name": "lastname",
    "email": "email",
    "phone": "phone",
    "title": "jobtitle",
    "job_function": "revgate_job_function",
    "seniority": "revgate_seniority",
    "country": "country",
    "state": "state",
    "last_activity_at": "notes_last_updated",
}

PROPERTIES: Mapping[ObjectType, Mapping[str, str]] = MappingProxyType(
    {
        "lead": MappingProxyType(
            _PEOPLE
            | {
                "company": "company",
                "status": "hs_lead_status",
                "city": "city",
                "postcode": "zip",
                "website": "website",
                "industry": "industry",
                "lead_source": "hs_analytics_source",
                "annual_revenue": "annualrevenue",
                "employees": "numberofemployees",
            }
        ),
        "contact": MappingProxyType(_PEOPLE | {"account_id": "associatedcompanyid"}),
        "account": MappingProxyType(
            {
                "name": "name",
                "domain": "domain",
                "website": "website",
                "phone": "phone",
                "industry": "industry",
                "annual_revenue": "annualrevenue",
                "employees": "numberofemployees",
                "country": "country",
                "state": "state",
                "city": "city",
            }
        ),
    }
)
"""Canonical field -> HubSpot property, per object type (exactly the fields of ``agent.crm.fields``)."""

READ_ONLY: frozenset[str] = frozenset({"last_activity_at"})
"""Canonical fields HubSpot calculates itself (``notes_last_updated``): refused on write."""


@dataclass(frozen=True)
class Picklist:
    """A picklist translated between HubSpot's internal values and revgate's."""

    to_revgate: Mapping[str, str]
    to_hubspot: Mapping[str, str]

    def read(self, raw: str) -> str:
        return self.to_revgate.get(raw, raw)

    def write(self, value: str) -> str:
        return self.to_hubspot.get(value, value)

    def raw_values_of(self, value: str) -> list[str]:
        """Every HubSpot value that reads as ``value`` (for a search)."""
        raws = [raw for raw, mine in self.to_revgate.items() if mine == value]
        if value not in self.to_revgate:
            raws.append(value)
        return raws


LEAD_STATUS = Picklist(
    to_revgate={
        "NEW": "New",
        "OPEN": "New",
        "ATTEMPTED_TO_CONTACT": "Working",
        "CONNECTED": "Working",
        "IN_PROGRESS": "Working",
        "BAD_TIMING": "Nurturing",
        "OPEN_DEAL": "Qualified",
        "UNQUALIFIED": "Unqualified",
    },
    to_hubspot={
        "New": "NEW",
        "Working": "IN_PROGRESS",
        "Nurturing": "BAD_TIMING",
        "Qualified": "OPEN_DEAL",
        "Unqualified": "UNQUALIFIED",
    },
)

LEAD_SOURCE = Picklist(
    to_revgate={
        "PAID_SEARCH": "Paid Search",
        "REFERRALS": "Referral",
        "ORGANIC_SEARCH": "Web",
        "DIRECT_TRAFFIC": "Web",
    },
    to_hubspot={"Paid Search": "PAID_SEARCH", "Referral": "REFERRALS", "Web": "DIRECT_TRAFFIC"},
)
"""``hs_analytics_source`` (Original source); Event, Partner, Webinar, Cold Call have no HubSpot value."""

_INDUSTRIES = {
    "COMPUTER_SOFTWARE": "Software",
    "FINANCIAL_SERVICES": "Financial Services",
    "RETAIL": "Retail",
    "HOSPITAL_HEALTH_CARE": "Healthcare",
    "EDUCATION_MANAGEMENT": "Education",
    "LOGISTICS_AND_SUPPLY_CHAIN": "Logistics",
    "MEDIA_PRODUCTION": "Media",
    "OIL_ENERGY": "Energy",
    "MANAGEMENT_CONSULTING": "Consulting",
}
COMPANY_INDUSTRY = Picklist(
    to_revgate=_INDUSTRIES, to_hubspot={mine: raw for raw, mine in _INDUSTRIES.items()}
)
"""The company ``industry`` enumeration (a contact's ``industry`` is free text)."""

_NUMBERS = frozenset({"annual_revenue", "employees"})


def picklist_of(object_type: ObjectType, field: str) -> Picklist | None:
    if field == "status" and object_type == "lead":
        return LEAD_STATUS
    if field == "lead_source" and object_type == "lead":
        return LEAD_SOURCE
    if field == "industry" and object_type == "account":
        return COMPANY_INDUSTRY
    return None


def hubspot_type(object_type: ObjectType) -> str:
    """The HubSpot object type a revgate type lives in."""
    return COMPANIES if object_type == "account" else CONTACTS


def read_properties(object_type: ObjectType) -> list[str]:
    """The properties to ask HubSpot for when reading a record of the type."""
    extra = [OWNER_PROPERTY, STAMP_PROPERTY, CREATED_PROPERTY]
    if object_type != "account":
        extra.append(STAGE_PROPERTY)
    return sorted({*PROPERTIES[object_type].values(), *extra})


def check_writable(object_type: ObjectType, names: Iterable[str]) -> None:
    """Refuse, before any request, a field the type lacks or HubSpot calculates."""
    wanted = {name for name in names if name != OWNER_FIELD}
    unknown = sorted(wanted - fields_of(object_type))
    if unknown:
        raise CRMValidationError(f"{object_type} has no field(s) {', '.join(unknown)}")
    calculated = sorted(wanted & READ_ONLY)
    if calculated:
        raise CRMValidationError(f"HubSpot calculates {', '.join(calculated)}; it cannot be written")


def encode(object_type: ObjectType, field: str, value: FieldValue) -> str:
    """A canonical value as the HubSpot property string (``""`` clears the property)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    picklist = picklist_of(object_type, field)
    return picklist.write(text) if picklist is not None else text


def to_properties(object_type: ObjectType, changes: Mapping[str, FieldValue]) -> dict[str, str]:
    """Canonical changes (``owner_id`` included) as HubSpot properties."""
    names = PROPERTIES[object_type]
    properties: dict[str, str] = {}
    for field, value in changes.items():
        if field == OWNER_FIELD:
            properties[OWNER_PROPERTY] = "" if value is None else str(value)
        else:
            properties[names[field]] = encode(object_type, field, value)
    return properties


def decode(object_type: ObjectType, field: str, raw: str) -> FieldValue:
    if field in _NUMBERS:
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() else number
    if field == "last_activity_at":
        return parse_time(raw).date().isoformat()
    picklist = picklist_of(object_type, field)
    return picklist.read(raw) if picklist is not None else raw


def parse_time(raw: str) -> datetime:
    """A HubSpot datetime: ISO 8601 (``...Z``) or milliseconds since the epoch."""
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_millis(moment: datetime) -> str:
    """A datetime as the milliseconds string HubSpot's search filters take.

    Integer arithmetic: ``timestamp() * 1000`` can land a hair below the millisecond
    (``...122.9999``) and truncate to the one before.
    """
    return str((moment - _EPOCH) // timedelta(milliseconds=1))


@dataclass(frozen=True)
class Classifier:
    """Tells leads from contacts by ``lifecyclestage``."""

    lead_stages: frozenset[str]

    def type_of(self, hubspot_object: str, properties: Mapping[str, Any]) -> ObjectType:
        if hubspot_object == COMPANIES:
            return "account"
        stage = properties.get(STAGE_PROPERTY) or ""
        return "lead" if not stage or stage in self.lead_stages else "contact"


def to_record(object_type: ObjectType, record_id: str, properties: Mapping[str, Any]) -> Record:
    """A HubSpot object's properties as a revgate record, versioned by :func:`content_version`."""
    fields: dict[str, FieldValue] = {}
    for field, name in PROPERTIES[object_type].items():
        raw = properties.get(name)
        if raw is not None and raw != "":
            fields[field] = decode(object_type, field, str(raw))
    owner = properties.get(OWNER_PROPERTY) or None
    stamp = str(properties.get(STAMP_PROPERTY) or "")
    created = properties.get(CREATED_PROPERTY) or stamp
    return Record(
        object_type=object_type,
        id=record_id,
        version=content_version(stamp, owner, fields),
        owner_id=None if owner is None else str(owner),
        fields=fields,
        created_at=parse_time(str(created)),
        updated_at=parse_time(stamp),
    )
