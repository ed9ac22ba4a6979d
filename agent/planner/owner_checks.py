"""Checks on who owns a record: unowned leads, and high-value accounts of inactive owners."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from agent.models import FieldChange, FieldValue, Owner, Record
from agent.planner.draft import SOURCE, Draft, RecordKey, _by_id, _text, key, label, target

CLOSED_LEAD_STATUSES = frozenset({"qualified", "unqualified"})


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


# --- helpers -------------------------------------------------------------------------------


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
