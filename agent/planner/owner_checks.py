"""Checks on who owns a record: unowned leads, contacts and accounts, and records of inactive owners.

Leads go to the active owner with the fewest open leads; high-value accounts of an
inactive owner are handed over by :func:`inactive_owners`. The rest
(:func:`unowned_records`, :func:`inactive_owner_records`) follow the account: a
contact belongs with its account's owner when that owner is active, which is how
most sales teams split territory; anything else goes to the least loaded active owner.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from agent.models import ActionKind, FieldChange, FieldValue, Owner, Record
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


# --- 3b. assign_owner for contacts and accounts ---------------------------------------------


def unowned_records(
    contacts: Iterable[Record], accounts: Iterable[Record], owners: list[Owner], reserved: set[RecordKey]
) -> list[Draft]:
    """``assign_owner`` for each unowned contact and account (check ``unowned_record``).

    A contact goes to its account's owner when that owner is active; otherwise, and
    for accounts, to the active owner with the fewest records of that type (counting
    assignments made earlier in the plan; ties: owner id).
    """
    active = sorted((o for o in owners if o.active), key=lambda o: o.id)
    if not active:
        return []
    contacts, accounts = _by_id(contacts), _by_id(accounts)
    account_owner: dict[str, str] = {a.id: a.owner_id for a in accounts if a.owner_id is not None}
    drafts: list[Draft] = []
    for records in (accounts, contacts):
        load: Counter[str] = Counter(r.owner_id for r in records if r.owner_id is not None)
        for record in records:
            if record.owner_id or key(record) in reserved:
                continue
            owner, why = _successor(record, active, load, account_owner)
            drafts.append(
                _owner_draft(
                    "unowned_record",
                    "assign_owner",
                    record,
                    owner,
                    f"This {record.object_type} has no owner; {why}.",
                )
            )
            load[owner.id] += 1
    return drafts


# --- 6b. change_owner for the other records of inactive owners ------------------------------


def inactive_owner_records(
    leads: Iterable[Record],
    contacts: Iterable[Record],
    accounts: Iterable[Record],
    owners: list[Owner],
    reserved: set[RecordKey],
) -> list[Draft]:
    """``change_owner`` for open leads and contacts whose owner is inactive (check ``inactive_owner_record``).

    ``accounts`` are read, never proposed: a contact follows its account's active
    owner. Accounts are :func:`inactive_owners`' business, which hands over only the
    high-value ones (set its minimum to 0 to hand over every account). Closed leads
    (Qualified, Unqualified) keep their owner: nobody works them, and the history
    stays readable. An owner id missing from the CRM counts as inactive.
    """
    by_id = {o.id: o for o in owners}
    active = sorted((o for o in owners if o.active), key=lambda o: o.id)
    if not active:
        return []
    leads, contacts, accounts = _by_id(leads), _by_id(contacts), _by_id(accounts)
    account_owner: dict[str, str] = {a.id: a.owner_id for a in accounts if a.owner_id is not None}

    def orphaned(record: Record) -> bool:
        owner = by_id.get(record.owner_id or "")
        return bool(record.owner_id) and (owner is None or not owner.active) and key(record) not in reserved

    candidates = [
        [lead for lead in leads if _text(lead.fields.get("status")).casefold() not in CLOSED_LEAD_STATUSES],
        contacts,
    ]
    drafts: list[Draft] = []
    for records in candidates:
        load: Counter[str] = Counter(r.owner_id for r in records if r.owner_id is not None)
        for record in records:
            if not orphaned(record):
                continue
            owner, why = _successor(record, active, load, account_owner)
            gone = by_id.get(record.owner_id or "")
            was = (
                f"{gone.name}, who is inactive" if gone else f"user {record.owner_id}, who is not in the CRM"
            )
            rationale = f"This {record.object_type} is owned by {was}; {why}."
            drafts.append(_owner_draft("inactive_owner_record", "change_owner", record, owner, rationale))
            load[owner.id] += 1
    return drafts


def _successor(
    record: Record, active: list[Owner], load: Counter[str], account_owner: dict[str, str]
) -> tuple[Owner, str]:
    """The owner a record should go to, and why (in words)."""
    by_id = {o.id: o for o in active}
    account_id = _text(record.fields.get("account_id")) if record.object_type == "contact" else ""
    follow = by_id.get(account_owner.get(account_id) or "")
    if follow is not None:
        return follow, f"{follow.name} owns its account"
    owner = min(active, key=lambda o: (load[o.id], o.id))
    kind = f"{record.object_type}s"
    return owner, f"{owner.name} owns the fewest {kind} ({load[owner.id]}) of the {len(active)} active owners"


def _owner_draft(check: str, kind: ActionKind, record: Record, owner: Owner, rationale: str) -> Draft:
    return Draft(
        check=check,
        kind=kind,
        object_type=record.object_type,
        targets=(target(record, changes={"owner_id": FieldChange(before=record.owner_id, after=owner.id)}),),
        rationale=rationale,
        evidence={
            "rule": "contacts follow their account's active owner, else the least loaded active owner",
            "source": SOURCE,
            "previous_owner": record.owner_id or "none",
            "new_owner": owner.id,
        },
    )


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
