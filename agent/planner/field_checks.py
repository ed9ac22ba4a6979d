"""Checks on a record's own fields: formats to normalise, unusable emails, stale lead status.

Formats and email checks run on :mod:`agent.enrich`: a :class:`RecordNormaliser` (and
the :class:`ReferenceLists` it shares with the run's :class:`OfflineProvider`) is built
once per run by the caller and passed in; the defaults build a fresh one, which is
cheap (the reference data is parsed lazily) but not free, so a run should pass its own.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta

from agent.enrich import FieldFix, OfflineProvider, RecordNormaliser, ReferenceLists, load_reference_lists
from agent.enrich.emails import check_email
from agent.models import FieldChange, Record
from agent.planner.draft import SOURCE, Draft, Evidence, RecordKey, _by_id, _text, key, target
from agent.planner.quality_checks import fingerprint, note_draft, tagged

# What each normalised field's fix is called in a rationale, in the order they are listed.
_FIX_WORDS: dict[str, str] = {
    "email": "lower-case the email",
    "phone": "write the phone in international E.164 form",
    "first_name": "fix the name's casing and spacing",
    "last_name": "fix the name's casing and spacing",
    "country": "write the country as its ISO 3166 code",
    "state": "write the state as its ISO 3166-2 code",
    "website": "reduce the website to its bare host",
    "domain": "reduce the domain to its registrable domain",
}

# --- 1. normalize_field --------------------------------------------------------------------


def default_normaliser() -> RecordNormaliser:
    """A normaliser over the bundled reference data (no accounts, no CSV: formats need neither)."""
    return RecordNormaliser.sharing(OfflineProvider.build())


def normalize_fields(
    records: Iterable[Record], reserved: set[RecordKey], normaliser: RecordNormaliser | None = None
) -> list[Draft]:
    """One ``normalize_field`` per record with fields whose canonical form differs from the value.

    The fields are those :class:`agent.enrich.RecordNormaliser` canonicalises with
    confidence: email (lower case), phone (E.164 in the record's country), first and
    last name (casing, spacing, honorifics; McDonald, van der Berg, O'Neil), country
    and state (ISO 3166 codes), website (bare host, only when the value is messy: a
    clean URL such as ``https://www.acme.com`` stays) and domain (registrable domain).
    An ambiguous country or state ("Georgia") is never changed here (see
    :func:`ambiguous_places`). Every fix of a record goes
    in one draft: the executor writes a record at the version the plan saw, so two
    drafts on one record's formats would make the second stale.
    """
    normaliser = normaliser or default_normaliser()
    drafts: list[Draft] = []
    for record in _by_id(records):
        if key(record) in reserved:
            continue
        fixes = [fix for fix in normaliser.normalise(record).fixes if not _tidy_website(fix)]
        if not fixes:
            continue
        changes = {fix.field: FieldChange(before=fix.before, after=fix.after) for fix in fixes}
        what = list(dict.fromkeys(_FIX_WORDS.get(fix.field, f"tidy the {fix.field}") for fix in fixes))
        evidence: Evidence = {
            "rule": "standard formats",
            "source": SOURCE,
            "fields": ", ".join(changes),
            "confidence": min(fix.confidence for fix in fixes),
        }
        for fix in fixes:
            evidence[f"{fix.field}_source"] = fix.source
            evidence[f"{fix.field}_confidence"] = fix.confidence
        if "phone" in changes:
            country = _text(record.fields.get("country"))
            region = normaliser.geography.country(country).code if country else None
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


# --- ambiguous places ----------------------------------------------------------------------


def ambiguous_places(
    records: Iterable[Record],
    reserved: set[RecordKey],
    normaliser: RecordNormaliser,
    *,
    noted: Collection[str] = (),
) -> list[Draft]:
    """An ``add_note`` on each record whose country or state has several readings ("Georgia").

    ``normalize_fields`` leaves such a value alone; this note asks a person to choose.
    Check name ``ambiguous_value``.
    """
    drafts: list[Draft] = []
    for record in _by_id(records):
        if key(record) in reserved:
            continue
        questions = normaliser.normalise(record).questions
        if not questions:
            continue
        mark = fingerprint("ambiguous_value", record, **{q.field: q.value for q in questions})
        if mark in noted:
            continue
        text = "; ".join(f"{q.field}: {q.note}" for q in questions)
        drafts.append(
            note_draft(
                "ambiguous_value",
                record,
                f"Ambiguous value, left unchanged: {text}.",
                mark,
                rationale="A place with several readings is not guessed at; a note asks a person to choose.",
                rule="country and state with more than one ISO reading",
                fields=", ".join(q.field for q in questions),
                candidates="; ".join(f"{q.field}={'/'.join(q.candidates)}" for q in questions),
            )
        )
    return drafts


# --- 2. add_note for unusable emails --------------------------------------------------------


def invalid_emails(
    records: Iterable[Record],
    reserved: set[RecordKey],
    lists: ReferenceLists | None = None,
    *,
    noted: Collection[str] = (),
) -> list[Draft]:
    """An ``add_note`` on each record whose email is malformed or disposable, or a role inbox.

    A malformed or disposable address is unusable ("invalid"); a role account
    (``info@``, ``sales@``) is valid but a shared inbox, so its note says so and asks
    for a person's address instead. Every note carries a fingerprint (see
    :func:`agent.planner.quality_checks.fingerprint`); one in ``noted`` is not proposed again.
    """
    lists = lists or load_reference_lists()
    drafts: list[Draft] = []
    for record in _by_id(records):
        email = _text(record.fields.get("email"))
        if key(record) in reserved or not email:
            continue
        check = check_email(email, lists)
        if check.problem is not None:
            finding = "disposable" if check.disposable else "invalid"
            note = (
                f"Email '{email}' is invalid: {check.problem}. "
                "Please correct it or confirm the contact another way."
            )
            rationale = (
                f"The email '{email}' cannot be used ({check.problem}), so a note asks for a correction."
            )
            problem = check.problem
        elif check.role_account:
            finding, problem = "role_account", "a shared role inbox, not a person"
            note = (
                f"Email '{email}' is a shared role inbox ({check.local_part}@), not a person's address. "
                "It works, but please add the contact's own address if you have it."
            )
            rationale = f"The email '{email}' is a role account, so a note asks for a personal address."
        else:
            continue
        mark = fingerprint("invalid_email", record, email=email)
        if mark in noted:
            continue
        drafts.append(
            Draft(
                check="invalid_email",
                kind="add_note",
                object_type=record.object_type,
                targets=(target(record, note=tagged(note, mark)),),
                rationale=rationale,
                evidence={
                    "rule": "email syntax, disposable domains and role accounts",
                    "source": SOURCE,
                    "detail_source": "offline:email-validator"
                    if finding == "invalid"
                    else "offline:revgate-lists",
                    "confidence": 1.0,
                    "finding": finding,
                    "problem": problem,
                    "fingerprint": mark,
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


def _tidy_website(fix: FieldFix) -> bool:
    """A website already written as a clean URL or host (``https://www.acme.com``) is no fix.

    CRM website fields usually hold URLs, so rewriting every clean one to a bare host
    would flood a plan with changes nobody needs; only messy values (case, spaces, a
    path, a query) are normalised.
    """
    if fix.field != "website" or not isinstance(fix.before, str):
        return False
    host = fix.after
    clean = {host, f"www.{host}"}
    clean |= {f"{scheme}://{name}" for scheme in ("http", "https") for name in tuple(clean)}
    return fix.before.removesuffix("/") in clean


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
