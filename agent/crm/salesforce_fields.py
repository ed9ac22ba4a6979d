"""How revgate's canonical fields map onto Salesforce's objects and fields.

Standard fields where Salesforce has one; documented custom fields (``Job_Function__c``,
``Seniority__c``, ``Domain__c``) where it has none, which the org must define (see the
adapter's docstring). Salesforce ids carry a three-character key prefix per object, so an
id of another object (or of no shape at all) is known not to exist without a request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, Literal

from agent.errors import CRMValidationError
from agent.models import OWNER_FIELD, FieldValue, ObjectType

Kind = Literal["text", "number", "integer", "date", "id"]


@dataclass(frozen=True)
class SObject:
    """One Salesforce object revgate maps, with its field names and key prefix."""

    name: str
    prefix: str
    fields: Mapping[str, str]
    """Canonical name -> Salesforce field name."""
    live: str
    """The SOQL condition that makes a row a live record of revgate's type (empty: all rows)."""


_COMMON_PERSON = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "phone": "Phone",
    "title": "Title",
    "job_function": "Job_Function__c",
    "seniority": "Seniority__c",
    "last_activity_at": "LastActivityDate",
}

SOBJECTS: Mapping[ObjectType, SObject] = MappingProxyType(
    {
        "lead": SObject(
            "Lead",
            "00Q",
            MappingProxyType(
                {
                    **_COMMON_PERSON,
                    "company": "Company",
                    "status": "Status",
                    "country": "Country",
                    "state": "State",
                    "city": "City",
                    "postcode": "PostalCode",
                    "website": "Website",
                    "industry": "Industry",
                    "lead_source": "LeadSource",
                    "annual_revenue": "AnnualRevenue",
                    "employees": "NumberOfEmployees",
                }
            ),
            live="IsConverted = false",
        ),
        "contact": SObject(
            "Contact",
            "003",
            MappingProxyType(
                {
                    **_COMMON_PERSON,
                    "account_id": "AccountId",
                    "country": "MailingCountry",
                    "state": "MailingState",
                }
            ),
            live="",
        ),
        "account": SObject(
            "Account",
            "001",
            MappingProxyType(
                {
                    "name": "Name",
                    "domain": "Domain__c",
                    "website": "Website",
                    "phone": "Phone",
                    "industry": "Industry",
                    "annual_revenue": "AnnualRevenue",
                    "employees": "NumberOfEmployees",
                    "country": "BillingCountry",
                    "state": "BillingState",
                    "city": "BillingCity",
                }
            ),
            live="",
        ),
    }
)

KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        "AnnualRevenue": "number",
        "NumberOfEmployees": "integer",
        "LastActivityDate": "date",
        "AccountId": "id",
    }
)
"""Salesforce fields that are not text (every other mapped field is)."""

READ_ONLY: frozenset[str] = frozenset({"LastActivityDate"})
"""Computed by Salesforce from activities: readable, never writable through the API."""

USER_PREFIX = "005"
NOTE_PREFIX = "002"
SYSTEM_FIELDS = ("Id", "OwnerId", "CreatedDate", "SystemModstamp")

_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")


def is_id_of(prefix: str, value: str) -> bool:
    """A 15- or 18-character Salesforce id whose key prefix is ``prefix``."""
    return bool(_ID.match(value)) and value.startswith(prefix)


def select_list(object_type: ObjectType) -> list[str]:
    """Every Salesforce field revgate reads of the type (system fields first)."""
    extra = ["IsConverted"] if object_type == "lead" else []
    return [*SYSTEM_FIELDS, *extra, *SOBJECTS[object_type].fields.values()]


def to_salesforce(object_type: ObjectType, changes: Mapping[str, FieldValue]) -> dict[str, Any]:
    """The Salesforce field values of canonical ``changes`` (``owner_id`` included).

    Unknown and read-only fields raise ``CRMValidationError`` before any request.
    """
    sobject = SOBJECTS[object_type]
    unknown = sorted(set(changes) - set(sobject.fields) - {OWNER_FIELD})
    if unknown:
        raise CRMValidationError(f"{object_type} has no field(s) {', '.join(unknown)}")
    payload: dict[str, Any] = {}
    for name, value in changes.items():
        field = "OwnerId" if name == OWNER_FIELD else sobject.fields[name]
        if field in READ_ONLY:
            raise CRMValidationError(f"{name} ({sobject.name}.{field}) is read-only in Salesforce")
        if field == "OwnerId" and value is not None and not is_id_of(USER_PREFIX, str(value)):
            raise CRMValidationError(f"{value!r} is not a Salesforce user id")
        payload[field] = value
    return payload


def from_salesforce(object_type: ObjectType, row: Mapping[str, Any]) -> dict[str, FieldValue]:
    """The canonical fields that are set on a Salesforce row (empty ones are left out)."""
    fields: dict[str, FieldValue] = {}
    for name, field in SOBJECTS[object_type].fields.items():
        value = row.get(field)
        if value is not None and value != "":
            fields[name] = value
    return fields


def soql_literal(field: str, value: FieldValue) -> str | None:
    """``value`` as a SOQL literal for ``field``; ``None`` when no row of that field can equal it."""
    if value is None:
        return "null"
    kind = KINDS.get(field, "text")
    if isinstance(value, bool):
        return None
    if kind in ("number", "integer"):
        return repr(value) if isinstance(value, int | float) else None
    if not isinstance(value, str):
        return None
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    if kind == "id" and not _ID.match(value):
        return None
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return f"'{escaped}'"


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal, floored to whole seconds (Salesforce's stamps have no fraction)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: str) -> datetime:
    """Salesforce's ``2026-11-24T09:00:00.000+0000``."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
