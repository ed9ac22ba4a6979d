"""What counts as each planted defect, measured on a record as stored."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from agent.crm.fields import REQUIRED_FIELDS
from agent.crm.seed.reference import COUNTRIES, DISPOSABLE_DOMAINS, JUNK_WORDS, PARTICLES, US_STATES
from agent.models import FieldValue, Record

DEFECTS: tuple[str, ...] = (
    "exact_duplicate",
    "fuzzy_duplicate",
    "bad_name_casing",
    "invalid_email",
    "disposable_email",
    "messy_email",
    "unformatted_phone",
    "country_variant",
    "state_variant",
    "missing_required",
    "unowned_lead",
    "inactive_owner_lead",
    "stale_lead",
    "high_value_account",
    "high_value_account_inactive_owner",
    "junk_lead",
)
"""Every planted defect, as counted in :attr:`SeedReport.defects`.

Each count is the number of records showing the defect in the stored data:

- exact_duplicate: leads beyond the first sharing an email (compared stripped, lower-cased);
- fuzzy_duplicate: planted pairs (see ``fuzzy_duplicate_pairs``): one typo, another address;
- bad_name_casing: a first or last name that is padded, ALL CAPS, or has a lower-case word
  other than a particle ("jOHN", "  mary  ", "SMITH");
- invalid_email / disposable_email / messy_email: bad syntax; a throwaway domain; upper case
  or surrounding whitespace on an otherwise usable address;
- unformatted_phone: not E.164; country_variant: not an ISO code; state_variant: not a USPS code;
- missing_required: a field of ``REQUIRED_FIELDS`` is empty;
- unowned_lead, inactive_owner_lead, stale_lead (New, no activity or update for 120 days);
- high_value_account (annual_revenue >= 1,000,000), and those of an inactive owner;
- junk_lead: "test"/"asdf" as a name or company, or as the email's local part.
"""

STALE_AFTER = timedelta(days=120)
"""A lead is stale when it is New and neither active nor updated for this long."""
HIGH_VALUE_REVENUE = 1_000_000


_E164 = re.compile(r"\+[1-9]\d{7,14}")
_EMAIL = re.compile(r"[a-z0-9]+(?:[._+-][a-z0-9]+)*@(?:[a-z0-9]+(?:-[a-z0-9]+)*\.)+[a-z]{2,}")


def well_cased(name: str) -> bool:
    """True for "John", "McDonald", "O'Neil", "van der Berg"; False for "jOHN", "  mary ", "SMITH"."""
    if name != name.strip() or "  " in name:
        return False
    words = name.split(" ")
    for word in words:
        letters = [c for c in word if c.isalpha()]
        if len(letters) > 1 and word.isupper():
            return False
        if letters and letters[0].islower() and word not in PARTICLES:
            return False
    return True


def _valid_email_syntax(email: str) -> bool:
    """Plain address syntax, after stripping and lower-casing (no DNS)."""
    return _EMAIL.fullmatch(email.strip().lower()) is not None


def defects_of(record: Record, inactive: frozenset[str], now: datetime) -> list[str]:
    found: list[str] = []
    f = record.fields
    for name in ("first_name", "last_name"):
        value = f.get(name)
        if isinstance(value, str) and not well_cased(value):
            found.append("bad_name_casing")
            break
    email = f.get("email")
    if isinstance(email, str):
        if not _valid_email_syntax(email):
            found.append("invalid_email")
        elif email.strip().lower().rpartition("@")[2] in DISPOSABLE_DOMAINS:
            found.append("disposable_email")
        if email != email.strip().lower():
            found.append("messy_email")
    phone = f.get("phone")
    if isinstance(phone, str) and not _E164.fullmatch(phone):
        found.append("unformatted_phone")
    if f.get("country") is not None and f.get("country") not in {c.code for c in COUNTRIES}:
        found.append("country_variant")
    if f.get("state") is not None and f.get("state") not in US_STATES:
        found.append("state_variant")
    if any(not f.get(name) for name in REQUIRED_FIELDS[record.object_type]):
        found.append("missing_required")
    if record.object_type == "lead":
        if record.owner_id is None:
            found.append("unowned_lead")
        elif record.owner_id in inactive:
            found.append("inactive_owner_lead")
        if _is_stale(record, now):
            found.append("stale_lead")
        if _is_junk(f):
            found.append("junk_lead")
    revenue = f.get("annual_revenue")
    if record.object_type == "account" and isinstance(revenue, int | float) and revenue >= HIGH_VALUE_REVENUE:
        found.append("high_value_account")
        if record.owner_id in inactive:
            found.append("high_value_account_inactive_owner")
    return found


def _is_stale(record: Record, now: datetime) -> bool:
    activity = record.fields.get("last_activity_at")
    cutoff = now - STALE_AFTER
    return (
        record.fields.get("status") == "New"
        and record.updated_at < cutoff
        and isinstance(activity, str)
        and activity < cutoff.date().isoformat()
    )


def _is_junk(fields: Mapping[str, FieldValue]) -> bool:
    words = {str(fields.get(n) or "").strip().lower() for n in ("first_name", "last_name", "company")}
    local = str(fields.get("email") or "").strip().lower().partition("@")[0]
    return bool(words & JUNK_WORDS) or local in JUNK_WORDS
