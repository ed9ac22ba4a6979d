"""Checks on a record's own fields: formats to normalise, unusable emails, stale lead status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from agent.models import FieldChange, Record
from agent.normalize import (
    country_code,
    email_problem,
    normalize_email,
    normalize_person_name,
    normalize_phone,
)
from agent.planner.draft import SOURCE, Draft, Evidence, RecordKey, _by_id, _text, key, target

# --- 1. normalize_field --------------------------------------------------------------------


def normalize_fields(records: Iterable[Record], reserved: set[RecordKey]) -> list[Draft]:
    """One ``normalize_field`` per record whose email, phone or name casing is off."""
    drafts: list[Draft] = []
    for record in _by_id(records):
        if key(record) in reserved:
            continue
        changes: dict[str, FieldChange] = {}
        email = record.fields.get("email")
        if isinstance(email, str) and email_problem(email) is None:
            tidy = normalize_email(email)
            if tidy != email:
                changes["email"] = FieldChange(before=email, after=tidy)
        phone = record.fields.get("phone")
        region = country_code(_text(record.fields.get("country")) or None)
        if isinstance(phone, str):
            e164 = normalize_phone(phone, region)
            if e164 is not None and e164 != phone:
                changes["phone"] = FieldChange(before=phone, after=e164)
        for name in ("first_name", "last_name"):
            value = record.fields.get(name)
            if isinstance(value, str):
                fixed = normalize_person_name(value)
                if fixed and fixed != value:
                    changes[name] = FieldChange(before=value, after=fixed)
        if not changes:
            continue
        what = []
        if "email" in changes:
            what.append("lower-case the email")
        if "phone" in changes:
            what.append("write the phone in international E.164 form")
        if changes.keys() & {"first_name", "last_name"}:
            what.append("fix the name's casing and spacing")
        evidence: Evidence = {"rule": "standard formats", "source": SOURCE, "fields": ", ".join(changes)}
        if "phone" in changes:
            evidence["phone_region"] = region or "from the number's + prefix"
        drafts.append(
            Draft(
                check="normalize_fields",
                kind="normalize_field",
                object_type=record.object_type,
                targets=(target(record, changes=changes),),
                rationale=f"Formatting only: {_join(what)}; the values themselves stay the same.",
                evidence=evidence,
            )
        )
    return drafts


# --- 2. add_note for unusable emails --------------------------------------------------------


def invalid_emails(records: Iterable[Record], reserved: set[RecordKey]) -> list[Draft]:
    """An ``add_note`` on each record whose email is malformed or disposable."""
    drafts: list[Draft] = []
    for record in _by_id(records):
        email = _text(record.fields.get("email"))
        if key(record) in reserved or not email:
            continue
        problem = email_problem(email)
        if problem is None:
            continue
        note = f"Email '{email}' is invalid: {problem}. Please correct it or confirm the contact another way."
        drafts.append(
            Draft(
                check="invalid_email",
                kind="add_note",
                object_type=record.object_type,
                targets=(target(record, note=note),),
                rationale=f"The email '{email}' cannot be used ({problem}), so a note asks for a correction.",
                evidence={
                    "rule": "email syntax and disposable domains",
                    "source": SOURCE,
                    "problem": problem,
                },
            )
        )
    return drafts


# --- 4. update_lead_status -----------------------------------------------------------------


def stale_leads(
    leads: Iterable[Record], reserved: set[RecordKey], *, now: datetime, stale_after_days: int
) -> list[Draft]:
    """Move "New" leads with no activity for ``stale_after_days`` to "Nurturing".

    A lead with no ``last_activity_at`` is judged by when it was created; one whose
    date cannot be read is left alone rather than guessed at.
    """
    cutoff = _utc(now) - timedelta(days=stale_after_days)
    drafts: list[Draft] = []
    for lead in _by_id(leads):
        status = lead.fields.get("status")
        if key(lead) in reserved or not isinstance(status, str) or status.strip().casefold() != "new":
            continue
        raw = _text(lead.fields.get("last_activity_at"))
        basis = "last_activity_at" if raw else "created_at"
        last = _parse_time(raw) if raw else lead.created_at
        if last is None or _utc(last) >= cutoff:
            continue
        days = (_utc(now) - _utc(last)).days
        drafts.append(
            Draft(
                check="stale_lead",
                kind="update_lead_status",
                object_type="lead",
                targets=(target(lead, changes={"status": FieldChange(before=status, after="Nurturing")}),),
                rationale=(
                    f"This lead is still New with no activity for {days} days "
                    f"(over {stale_after_days}), so it moves to Nurturing."
                ),
                evidence={
                    "rule": f"New with no activity for over {stale_after_days} days",
                    "source": SOURCE,
                    "days_inactive": days,
                    "basis": basis,
                },
            )
        )
    return drafts


# --- helpers -------------------------------------------------------------------------------


def _parse_time(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _utc(moment: datetime) -> datetime:
    """Naive times are taken as UTC (CRM exports usually are)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
