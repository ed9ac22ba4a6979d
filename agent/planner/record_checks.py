"""Checks that remove records: merges of leads sharing an email, and deletes of junk leads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agent.models import FieldValue, MergePlan, Record
from agent.normalize import email_problem, is_junk_lead, normalize_email
from agent.planner.draft import SOURCE, Draft, _by_id, _text, label, target

MERGE_CAVEATS = (
    "Merged records are removed; their notes move to the survivor.",
    "The survivor keeps its own values; only its blank fields are filled from the duplicates.",
)


# --- 5. merge ------------------------------------------------------------------------------


def shared_email_ids(leads: Iterable[Record]) -> set[str]:
    """Ids of the leads :func:`duplicate_emails` would merge (without building the merges)."""
    groups: dict[str, list[str]] = {}
    for lead in leads:
        email = normalize_email(_text(lead.fields.get("email")) or None)
        if email is not None:
            groups.setdefault(email, []).append(lead.id)
    return {
        rid
        for email, group in groups.items()
        if len(group) > 1 and email_problem(email) is None
        for rid in group
    }


def duplicate_emails(leads: Iterable[Record]) -> list[Draft]:
    """Merge leads that share an exact (normalised) email into the oldest one.

    Invalid, blank and disposable addresses never match: a public throwaway inbox is
    shared by strangers, and a wrong merge destroys data.
    """
    groups: dict[str, list[Record]] = {}
    for lead in leads:
        email = normalize_email(_text(lead.fields.get("email")) or None)
        if email is not None:
            groups.setdefault(email, []).append(lead)
    drafts: list[Draft] = []
    for email, group in sorted(groups.items()):
        # Only a shared address is judged: parsing every address here cost more than the check.
        if len(group) < 2 or email_problem(email) is not None:
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


def _blank(value: FieldValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
