"""Record-quality checks: missing required fields, off-picklist values, lifecycle
inconsistencies and stale contacts/accounts; and the note fingerprints every note-making check uses.

Like every check, these only propose (an ``add_note`` asking a person, or a fix when the
right value is certain); the policy decides what happens to each proposal.

Notes must not pile up run after run, so every note ends with a fingerprint
(:func:`fingerprint`, ``revgate:<check>:<object>/<id>:<field>=<value>;...``) of the
record state it is about, repeated in ``evidence["fingerprint"]``. A check skips a
note whose fingerprint is in ``noted``; the planner builds that set from the notes
already on the records (:func:`noted_fingerprints` over ``CRMClient.notes``) or from
the evidence of ``add_note`` proposals it made before. When the record changes, the
fingerprint changes, and the note is worth proposing again.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from agent.crm.fields import INDUSTRIES, LEAD_SOURCES, LEAD_STATUSES, REQUIRED_FIELDS, fields_of
from agent.models import ActionKind, FieldChange, FieldValue, Record
from agent.planner.draft import SOURCE, Draft, Evidence, RecordKey, _by_id, _text, key, target

_REF = re.compile(r"\[ref (revgate:[^\]]+)\]")

STAGE_REQUIRED: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "Working": (("email", "phone"),),
    "Nurturing": (("email",),),
    "Qualified": (("email", "phone"), ("company",)),
}
"""Lead status -> groups of fields of which at least one must be filled, beyond ``REQUIRED_FIELDS``.

- Working: a lead someone works must be reachable (email or phone).
- Nurturing: nurture is email sequences, so it needs an email.
- Qualified: sales accepts it, so it must be reachable and say which company it is.
"""

PICKLISTS: Mapping[str, tuple[str, ...]] = {
    "status": LEAD_STATUSES,
    "lead_source": LEAD_SOURCES,
    "industry": INDUSTRIES,
}
"""Picklist field -> allowed values; a field is checked on the objects that have it."""

PICKLIST_ALIASES: Mapping[str, Mapping[str, str]] = {
    "status": {
        "contacted": "Working",
        "in progress": "Working",
        "nurture": "Nurturing",
        "disqualified": "Unqualified",
    },
    "lead_source": {
        "website": "Web",
        "web form": "Web",
        "inbound web": "Web",
        "ppc": "Paid Search",
        "sem": "Paid Search",
        "google ads": "Paid Search",
        "adwords": "Paid Search",
        "trade show": "Event",
        "tradeshow": "Event",
        "conference": "Event",
        "web seminar": "Webinar",
        "cold calling": "Cold Call",
        "cold outreach call": "Cold Call",
    },
    "industry": {
        "saas": "Software",
        "software as a service": "Software",
        "finance": "Financial Services",
        "banking": "Financial Services",
        "health care": "Healthcare",
        "retail and ecommerce": "Retail",
        "consultancy": "Consulting",
        "transportation and logistics": "Logistics",
    },
}
"""Unambiguous other spellings of a picklist value; matched after folding (see :func:`fold`)."""

ALIAS_CONFIDENCE = 0.9


# --- fingerprints --------------------------------------------------------------------------


def fingerprint(check: str, record: Record, **values: FieldValue) -> str:
    """``revgate:<check>:<object>/<id>:<name>=<value>;...``, the state a note is about (sorted names)."""
    # "]" would end the [ref ...] tag early and ";" split a value: neither may appear inside.
    state = ";".join(
        f"{name}={_text(value).replace(']', ')').replace(';', ',') if isinstance(value, str) else value}"
        for name, value in sorted(values.items())
    )
    return f"revgate:{check}:{record.object_type}/{record.id}:{state}"


def tagged(note: str, mark: str) -> str:
    """The note text with its fingerprint appended, so a later run can find it on the record."""
    return f"{note} [ref {mark}]"


def noted_fingerprints(note_bodies: Iterable[str]) -> set[str]:
    """Every fingerprint found in these note texts (what ``noted`` takes)."""
    return {match for body in note_bodies for match in _REF.findall(body)}


# --- missing required fields ---------------------------------------------------------------


def missing_required(
    records: Iterable[Record], reserved: set[RecordKey], *, noted: Collection[str] = ()
) -> list[Draft]:
    """An ``add_note`` per record missing ``REQUIRED_FIELDS`` for its object or its lead stage."""
    drafts: list[Draft] = []
    for record in _by_id(records):
        if key(record) in reserved:
            continue
        # Field (or "a or b") -> why it is required.
        missing = {
            f: f"every {record.object_type}"
            for f in REQUIRED_FIELDS[record.object_type]
            if not _filled(record, f)
        }
        stage = _status(record) if record.object_type == "lead" else ""
        for group in STAGE_REQUIRED.get(stage, ()):
            if not any(_filled(record, f) for f in group) and not set(group) & missing.keys():
                missing[" or ".join(group)] = f"a {stage} lead"
        if not missing:
            continue
        mark = fingerprint("missing_required", record, missing=",".join(missing))
        if mark in noted:
            continue
        what = "; ".join(f"{field} (required on {why})" for field, why in missing.items())
        drafts.append(
            note_draft(
                "missing_required",
                record,
                f"Missing required fields: {what}. Please fill them in.",
                mark,
                rationale=f"This record lacks {'; '.join(missing)}, so a note asks for it.",
                rule="required fields per object and lead stage",
                missing="; ".join(missing),
            )
        )
    return drafts


# --- picklists -----------------------------------------------------------------------------


def fold(value: str) -> str:
    """Case, space and punctuation folded away: ``" Paid-search "`` -> ``"paidsearch"``."""
    return re.sub(r"[^0-9a-z]", "", value.casefold())


def picklist_match(field: str, value: str) -> tuple[str, str] | None:
    """The allowed value ``value`` means, and how it was matched (``"spelling"`` or ``"alias"``)."""
    folded = fold(value)
    for allowed in PICKLISTS[field]:
        if fold(allowed) == folded:
            return allowed, "spelling"
    for alias, allowed in PICKLIST_ALIASES.get(field, {}).items():
        if fold(alias) == folded:
            return allowed, "alias"
    return None


def invalid_picklists(
    records: Iterable[Record],
    reserved: set[RecordKey],
    *,
    status_taken: Collection[RecordKey] = (),
    noted: Collection[str] = (),
) -> list[Draft]:
    """Fixes for near-miss picklist values, a note for the rest.

    A value that matches an allowed one once case, spaces and punctuation are folded
    away ("working", "Paid search"), or one of :data:`PICKLIST_ALIASES`, becomes a fix:
    ``update_lead_status`` for ``status``, one ``normalize_field`` for the others. Any
    other value gets an ``add_note`` listing what is allowed. ``status_taken``: records
    whose status another draft of the plan already changes (``stale_lead``), left alone
    so two drafts never write one field.
    """
    drafts: list[Draft] = []
    for record in _by_id(records):
        if key(record) in reserved:
            continue
        fixes: dict[str, tuple[FieldChange, str]] = {}
        unknown: dict[str, str] = {}
        for field, allowed in PICKLISTS.items():
            value = record.fields.get(field)
            if field not in fields_of(record.object_type) or not isinstance(value, str) or not value.strip():
                continue
            if value in allowed or (field == "status" and key(record) in status_taken):
                continue
            match = picklist_match(field, value)
            if match is None:
                unknown[field] = value
            else:
                fixes[field] = (FieldChange(before=value, after=match[0]), match[1])
        if "status" in fixes:
            drafts.append(_picklist_fix(record, "update_lead_status", {"status": fixes.pop("status")}))
        if fixes:
            drafts.append(_picklist_fix(record, "normalize_field", fixes))
        if unknown:
            drafts.extend(_picklist_note(record, unknown, noted))
    return drafts


def _picklist_fix(record: Record, kind: ActionKind, fixes: dict[str, tuple[FieldChange, str]]) -> Draft:
    changes = {field: change for field, (change, _) in fixes.items()}
    how = {how for _, how in fixes.values()}
    said = ", ".join(f"{field} '{c.before}' is '{c.after}'" for field, c in changes.items())
    evidence: Evidence = {
        "rule": "picklist value matched ignoring case, spaces and punctuation, or by alias",
        "source": SOURCE,
        "match": ", ".join(sorted(how)),
        "confidence": ALIAS_CONFIDENCE if "alias" in how else 1.0,
    }
    return Draft(
        check="invalid_picklist",
        kind=kind,
        object_type=record.object_type,
        targets=(target(record, changes=changes),),
        rationale=f"Off-picklist spelling: {said} in the picklist.",
        evidence=evidence,
    )


def _picklist_note(record: Record, unknown: dict[str, str], noted: Collection[str]) -> list[Draft]:
    mark = fingerprint("invalid_picklist", record, **unknown)
    if mark in noted:
        return []
    parts = [
        f"{field} '{value}' (allowed: {', '.join(PICKLISTS[field])})" for field, value in unknown.items()
    ]
    note = f"Value not in the picklist: {'; '.join(parts)}. Please pick an allowed value."
    return [
        note_draft(
            "invalid_picklist",
            record,
            note,
            mark,
            rationale=f"{', '.join(unknown)} holds a value not in the picklist, so a note asks for one.",
            rule="picklist values",
            fields=", ".join(unknown),
        )
    ]


# --- lifecycle -----------------------------------------------------------------------------

CLOSED_STATUSES = frozenset({"Qualified", "Unqualified"})
FUTURE_SLACK = timedelta(days=1)
"""An activity date up to a day ahead is a time zone, not an error."""


def lifecycle_inconsistencies(
    leads: Iterable[Record],
    reserved: set[RecordKey],
    *,
    now: datetime,
    stale_after_days: int = 90,
    noted: Collection[str] = (),
) -> list[Draft]:
    """One ``add_note`` per lead whose status and activity contradict each other.

    The rules (each named in the note and in ``evidence["rules"]``):

    - ``closed_without_activity``: Qualified or Unqualified with no activity date; a
      lead is judged after a conversation, so the qualifying touch should be logged.
    - ``activity_in_future``: the last activity is more than a day after ``now``.
    - ``working_gone_quiet``: Working with no activity (else no creation) for over
      ``stale_after_days``; nobody works it, but moving it is the owner's call. A quiet
      New lead is ``stale_lead``'s (a status change), so it is not reported here.
    """
    drafts: list[Draft] = []
    for lead in _by_id(leads):
        if key(lead) in reserved:
            continue
        status = _status(lead)
        raw = lead.fields.get("last_activity_at")
        last = parse_time(raw)
        if _filled(lead, "last_activity_at") and last is None:
            continue  # an unreadable date is not guessed at
        found: list[tuple[str, str]] = []
        if status in CLOSED_STATUSES and last is None:
            found.append(("closed_without_activity", f"it is {status} but has no activity logged"))
        if last is not None and last > _aware(now) + FUTURE_SLACK:
            found.append(("activity_in_future", f"its last activity ({_text(raw)}) is in the future"))
        quiet = days_since(last or _aware(lead.created_at), now)
        if status == "Working" and quiet > stale_after_days:
            found.append(("working_gone_quiet", f"it is Working but has had no activity for {quiet} days"))
        if not found:
            continue
        rules = ",".join(rule for rule, _ in found)
        mark = fingerprint("lifecycle", lead, rules=rules, status=status, last_activity_at=_text(raw))
        if mark in noted:
            continue
        why = "; ".join(text for _, text in found)
        drafts.append(
            note_draft(
                "lifecycle",
                lead,
                f"Lifecycle inconsistency: {why}. Please log the activity or update the status.",
                mark,
                rationale=f"The lead's status and activity disagree ({why}); a note asks the owner to check.",
                rule="lead status agrees with activity",
                rules=rules,
            )
        )
    return drafts


# --- stale contacts and accounts -----------------------------------------------------------


def stale_records(
    contacts: Iterable[Record],
    accounts: Iterable[Record],
    reserved: set[RecordKey],
    *,
    now: datetime,
    stale_after_days: int = 365,
    noted: Collection[str] = (),
) -> list[Draft]:
    """An ``add_note`` on contacts and accounts with no activity for over ``stale_after_days``.

    A contact is judged by its ``last_activity_at`` (its creation when blank); an
    account by the latest activity of its contacts, and only when it has contacts
    (accounts carry no activity date of their own). Unreadable dates are not guessed at.
    """
    contacts = list(contacts)
    latest: dict[str, datetime] = {}
    drafts: list[Draft] = []
    for contact in _by_id(contacts):
        last = _last_touch(contact)
        account_id = _text(contact.fields.get("account_id"))
        if account_id and last is not None and (account_id not in latest or last > latest[account_id]):
            latest[account_id] = last
        drafts.extend(_stale_note(contact, last, reserved, now, stale_after_days, noted))
    for account in _by_id(accounts):
        if account.id in latest:
            drafts.extend(_stale_note(account, latest[account.id], reserved, now, stale_after_days, noted))
    return drafts


def _last_touch(record: Record) -> datetime | None:
    if _filled(record, "last_activity_at"):
        return parse_time(record.fields.get("last_activity_at"))
    return _aware(record.created_at)


def _stale_note(
    record: Record,
    last: datetime | None,
    reserved: set[RecordKey],
    now: datetime,
    stale_after_days: int,
    noted: Collection[str],
) -> list[Draft]:
    if last is None or key(record) in reserved:
        return []
    days = days_since(last, now)
    if days <= stale_after_days:
        return []
    since = last.date().isoformat()
    mark = fingerprint("stale_record", record, last_activity=since)
    if mark in noted:
        return []
    whose = "its contacts have" if record.object_type == "account" else "it has"
    return [
        note_draft(
            "stale_record",
            record,
            f"No activity for {days} days (last {since}): "
            f"please check this {record.object_type} is still current.",
            mark,
            rationale=f"{whose.capitalize()} had no activity for {days} days (over {stale_after_days}).",
            rule=f"no activity for over {stale_after_days} days",
            last_activity=since,
        )
    ]


# --- helpers -------------------------------------------------------------------------------


def note_draft(
    check: str, record: Record, note: str, mark: str, *, rationale: str, rule: str, **extra: str
) -> Draft:
    evidence: Evidence = {"rule": rule, "source": SOURCE, "confidence": 1.0, **extra}
    evidence["fingerprint"] = mark
    return Draft(
        check=check,
        kind="add_note",
        object_type=record.object_type,
        targets=(target(record, note=tagged(note, mark)),),
        rationale=rationale,
        evidence=evidence,
    )


def _filled(record: Record, field: str) -> bool:
    value = record.fields.get(field)
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def _status(record: Record) -> str:
    """The lead's status as the picklist spells it, when it is one (near misses included)."""
    raw = _text(record.fields.get("status"))
    match = picklist_match("status", raw) if raw else None
    return match[0] if match else raw


def parse_time(raw: FieldValue) -> datetime | None:
    """An ISO date or datetime as an aware UTC time (naive is taken as UTC); ``None`` if unreadable."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return _aware(moment)


def days_since(moment: datetime, now: datetime) -> int:
    return (_aware(now) - _aware(moment)) // timedelta(days=1)


def _aware(moment: datetime) -> datetime:
    """Naive times are taken as UTC (CRM exports usually are)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
