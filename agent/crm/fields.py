"""Canonical CRM field names and picklists.

Every adapter maps its own property names onto these; the agent only ever reads
and writes the canonical names (``owner_id`` is not a field here: records carry
it beside their fields, see :class:`agent.models.Record`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agent.models import ObjectType

EMAIL = "email"
"""Mirrored into an indexed column by the embedded CRM, so exact-email search is cheap."""
LAST_ACTIVITY_AT = "last_activity_at"
"""An ISO 8601 date string (``YYYY-MM-DD``)."""
ANNUAL_REVENUE = "annual_revenue"

LEAD_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "title",
    "job_function",
    "seniority",
    "status",
    "country",
    "state",
    "city",
    "postcode",
    "website",
    "industry",
    "lead_source",
    "annual_revenue",
    "employees",
    "last_activity_at",
)

CONTACT_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "job_function",
    "seniority",
    "account_id",
    "country",
    "state",
    "last_activity_at",
)

ACCOUNT_FIELDS: tuple[str, ...] = (
    "name",
    "domain",
    "website",
    "phone",
    "industry",
    "annual_revenue",
    "employees",
    "country",
    "state",
    "city",
)

FIELDS: Mapping[ObjectType, frozenset[str]] = MappingProxyType(
    {
        "lead": frozenset(LEAD_FIELDS),
        "contact": frozenset(CONTACT_FIELDS),
        "account": frozenset(ACCOUNT_FIELDS),
    }
)
"""The fields each object type has; writes naming anything else are refused."""

REQUIRED_FIELDS: Mapping[ObjectType, tuple[str, ...]] = MappingProxyType(
    {
        "lead": ("last_name", "company"),
        "contact": ("last_name",),
        "account": ("name",),
    }
)
"""Fields a record is incomplete without (what most CRMs enforce on entry)."""

LEAD_STATUSES: tuple[str, ...] = ("New", "Working", "Nurturing", "Qualified", "Unqualified")
"""The lead status picklist, in funnel order."""

LEAD_SOURCES: tuple[str, ...] = (
    "Web",
    "Referral",
    "Event",
    "Partner",
    "Webinar",
    "Paid Search",
    "Cold Call",
)

INDUSTRIES: tuple[str, ...] = (
    "Software",
    "Financial Services",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Education",
    "Logistics",
    "Media",
    "Energy",
    "Consulting",
)


def fields_of(object_type: ObjectType) -> frozenset[str]:
    """The canonical field names of ``object_type``."""
    return FIELDS[object_type]
