"""The offline planner's hygiene checks, one function each.

Each check reads records and returns :class:`Draft` proposals; the planner decides
which records each check may touch (see ``OfflinePlanner.plan``), orders the drafts
and gives them ids. Checks are pure: time comes in as an argument.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agent.models import (
    ActionKind,
    FieldChange,
    FieldValue,
    MergePlan,
    ObjectType,
    Owner,
    ProposedAction,
    Record,
    Target,
)
from agent.normalize import (
    country_code,
    email_problem,
    is_junk_lead,
    normalize_email,
    normalize_person_name,
    normalize_phone,
)

SOURCE = "offline rules"
CHECK_ORDER: tuple[str, ...] = (
    "normalize_fields",
    "invalid_email",
    "unowned_lead",
    "stale_lead",
    "duplicate_email",
    "inactive_owner",
    "junk_lead",
)
"""Every check, in the order its proposals are listed."""

CLOSED_LEAD_STATUSES = frozenset({"qualified", "unqualified"})
MERGE_CAVEATS = (
    "Merged records are removed; their notes move to the survivor.",
    "The survivor keeps its own values; only its blank fields are filled from the duplicates.",
)

RecordKey = tuple[ObjectType, str]
Evidence = dict[str, str | int | float | bool]


@dataclass(frozen=True)
class Draft:
    """A proposal before it gets an id; what every check returns."""

    check: str
    kind: ActionKind
    object_type: ObjectType
    targets: tuple[Target, ...]
    rationale: str
    evidence: Evidence
    merge: MergePlan | None = None

    def sort_key(self) -> tuple[int, str]:
        """Check order first, then the first target's record id (a merge lists its survivor first)."""
        return CHECK_ORDER.index(self.check), self.targets[0].record_id

    def to_action(self, action_id: str, planner: str) -> ProposedAction:
        return ProposedAction(
            id=action_id,
            kind=self.kind,
            object_type=self.object_type,
            targets=list(self.targets),
            merge=self.merge,
            rationale=self.rationale,
            evidence=self.evidence,
            planner=planner,
            check=self.check,
            requested_by="agent",
        )


def key(record: Record) -> RecordKey:
    return record.object_type, record.id


def label(record: Record) -> str:
    """A human name: ``"Jane Doe <jane@x.com>"`` for people, the name for accounts."""
    if record.object_type == "account":
        return _text(record.fields.get("name")) or _text(record.fields.get("domain")) or record.id
    name = " ".join(
        part
        for part in (_text(record.fields.get("first_name")), _text(record.fields.get("last_name")))
        if part
    )
    email = _text(record.fields.get("email"))
    if name and email:
        return f"{name} <{email}>"
    return name or email or _text(record.fields.get("company")) or record.id


def target(
    record: Record, *, changes: dict[str, FieldChange] | None = None, note: str | None = None
) -> Target:
    """A target pinned to the version the plan saw, with a human label."""
    return Target(
        record_id=record.id, version=record.version, label=label(record), changes=changes or {}, note=note
    )


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


# --- 3. assign_owner -----------------------------------------------------------------------


def unowned_leads(leads: list[Record], owners: list[Owner], reserved: set[RecordKey]) -> list[Draft]:
    """Assign each unowned lead to the active owner with the fewest open leads (ties: owner id).

    Assignments made earlier in the same plan count, so a batch of unowned leads is
    spread across owners instead of all going to today's least busy one.
    """
    active = sorted((o for o in owners if o.active), key=lambda o: o.id)
    if not active:
        return []
    load = Counter(
        lead.owner_id
        for lead in leads
        if lead.owner_id is not None
        and _text(lead.fields.get("status")).casefold() not in CLOSED_LEAD_STATUSES
    )
    drafts: list[Draft] = []
    for lead in _by_id(leads):
        if lead.owner_id or key(lead) in reserved:
            continue
        owner = min(active, key=lambda o: (load[o.id], o.id))
        loads = ", ".join(f"{o.id}={load[o.id]}" for o in active)
        drafts.append(
            Draft(
                check="unowned_lead",
                kind="assign_owner",
                object_type="lead",
                targets=(target(lead, changes={"owner_id": FieldChange(before=None, after=owner.id)}),),
                rationale=(
                    f"This lead has no owner; {owner.name} has the fewest open leads ({load[owner.id]}) "
                    f"of the {len(active)} active owners."
                ),
                evidence={
                    "rule": "fewest open leads among active owners, ties by owner id",
                    "source": SOURCE,
                    "owner_open_leads": load[owner.id],
                    "active_owners": len(active),
                    "loads": loads,
                },
            )
        )
        load[owner.id] += 1
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


# --- 5. merge ------------------------------------------------------------------------------


def duplicate_emails(leads: Iterable[Record]) -> list[Draft]:
    """Merge leads that share an exact (normalised) email into the oldest one.

    Invalid, blank and disposable addresses never match: a public throwaway inbox is
    shared by strangers, and a wrong merge destroys data.
    """
    groups: dict[str, list[Record]] = {}
    for lead in leads:
        email = normalize_email(_text(lead.fields.get("email")) or None)
        if email is not None and email_problem(email) is None:
            groups.setdefault(email, []).append(lead)
    drafts: list[Draft] = []
    for email, group in sorted(groups.items()):
        if len(group) < 2:
            continue
        ordered = sorted(group, key=lambda r: (r.created_at, r.id))
        survivor, duplicates = ordered[0], ordered[1:]
        # Most recently updated first, so each blank is filled with the freshest value.
        donors = sorted(sorted(duplicates, key=lambda r: r.id), key=lambda r: r.updated_at, reverse=True)
        field_plan: dict[str, FieldValue] = {}
        names = [*sorted({name for r in duplicates for name in r.fields} - {"email"}), "owner_id"]
        for name in names:
            if _blank(survivor.get(name)):
                value = next((d.get(name) for d in donors if not _blank(d.get(name))), None)
                if value is not None:
                    field_plan[name] = value
        filled = ", ".join(field_plan) or "none"
        drafts.append(
            Draft(
                check="duplicate_email",
                kind="merge",
                object_type="lead",
                targets=tuple(target(r) for r in ordered),
                merge=MergePlan(survivor_id=survivor.id, field_plan=field_plan, caveats=list(MERGE_CAVEATS)),
                rationale=(
                    f"{len(ordered)} leads share the email {email}; keep the oldest "
                    f"({label(survivor)}, created {survivor.created_at.date().isoformat()}) and merge "
                    f"{'the other' if len(duplicates) == 1 else f'the other {len(duplicates)}'} into it."
                ),
                evidence={
                    "rule": "duplicate email",
                    "source": SOURCE,
                    "match": "exact email",
                    "score": 1.0,
                    "email": email,
                    "records": len(ordered),
                    "filled_fields": filled,
                },
            )
        )
    return drafts


# --- 6. change_owner -----------------------------------------------------------------------


def inactive_owners(
    accounts: Iterable[Record], owners: list[Owner], *, field: str, minimum: float
) -> list[Draft]:
    """Hand high-value accounts owned by an inactive (or unknown) user to an active owner.

    The new owner is the active one with the fewest high-value accounts, counting
    hand-overs made earlier in the same plan (ties: owner id).
    """
    by_id = {o.id: o for o in owners}
    active = sorted((o for o in owners if o.active), key=lambda o: o.id)
    if not active:
        return []
    high_value = [a for a in _by_id(accounts) if (_number(a.fields.get(field)) or 0.0) >= minimum]
    load = Counter(a.owner_id for a in high_value if a.owner_id is not None)
    drafts: list[Draft] = []
    for account in high_value:
        if not account.owner_id:
            continue  # unowned is not this check's business: there is no owner to replace
        current = by_id.get(account.owner_id)
        if current is not None and current.active:
            continue
        gone = (
            f"{current.name}, who is inactive"
            if current
            else f"user {account.owner_id}, who is not in the CRM"
        )
        owner = min(active, key=lambda o: (load[o.id], o.id))
        value = _number(account.fields.get(field)) or 0.0
        drafts.append(
            Draft(
                check="inactive_owner",
                kind="change_owner",
                object_type="account",
                targets=(
                    target(
                        account, changes={"owner_id": FieldChange(before=account.owner_id, after=owner.id)}
                    ),
                ),
                rationale=(
                    f"{label(account)} ({field} {value:,.0f}) is owned by {gone}; hand it to {owner.name}, "
                    f"who owns the fewest high-value accounts ({load[owner.id]})."
                ),
                evidence={
                    "rule": f"high-value account ({field} >= {minimum:,.0f}) needs an active owner",
                    "source": SOURCE,
                    "inactive_owner": account.owner_id,
                    "high_value_field": field,
                    "high_value": value,
                    "new_owner_high_value_accounts": load[owner.id],
                },
            )
        )
        load[owner.id] += 1
    return drafts


# --- 7. delete -----------------------------------------------------------------------------


def junk_leads(leads: Iterable[Record]) -> dict[str, str]:
    """Lead id -> why it is junk, for the leads :func:`is_junk_lead` flags."""
    reasons = {lead.id: is_junk_lead(lead.fields) for lead in leads}
    return {lead_id: reason for lead_id, reason in reasons.items() if reason is not None}


def junk_deletes(leads: Iterable[Record], reasons: Mapping[str, str]) -> list[Draft]:
    """A ``delete`` per junk lead (the policy may well refuse it; proposing is still right)."""
    return [
        Draft(
            check="junk_lead",
            kind="delete",
            object_type="lead",
            targets=(target(lead),),
            rationale=f"This lead looks like test data ({reasons[lead.id]}), so it should be deleted.",
            evidence={"rule": "obvious test data", "source": SOURCE, "reason": reasons[lead.id]},
        )
        for lead in _by_id(leads)
        if lead.id in reasons
    ]


# --- helpers -------------------------------------------------------------------------------


def _by_id(records: Iterable[Record]) -> list[Record]:
    return sorted(records, key=lambda r: r.id)


def _text(value: FieldValue) -> str:
    return value.strip() if isinstance(value, str) else ""


def _blank(value: FieldValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: FieldValue) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
    return None


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
