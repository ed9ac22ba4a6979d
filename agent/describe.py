"""Plain-language descriptions of proposals, shared by the CLI and Slack cards."""

from __future__ import annotations

from collections.abc import Mapping

from agent.models import OWNER_FIELD, Owner, ProposedAction

_VERB = {
    "update_lead_status": "Set the status of",
    "add_note": "Add a note to",
    "enrich_data": "Enrich",
    "normalize_field": "Normalise",
    "assign_owner": "Assign an owner to",
    "change_owner": "Change the owner of",
    "merge": "Merge",
    "delete": "Delete",
}


def owner_name(owner_id: object, owners: Mapping[str, Owner]) -> str:
    if not owner_id:
        return "nobody"
    owner = owners.get(str(owner_id))
    if owner is None:
        return str(owner_id)
    return owner.name if owner.active else f"{owner.name} (inactive)"


def subject(action: ProposedAction) -> str:
    """The records, named: one label, or a count."""
    if len(action.targets) == 1:
        target = action.targets[0]
        return f"{action.object_type} {target.label or target.record_id}"
    return f"{len(action.targets)} {action.object_type}s"


def describe(action: ProposedAction, owners: Mapping[str, Owner] | None = None) -> str:
    """What the agent wants to do, in one sentence."""
    owners = owners or {}
    kind = action.kind
    if kind == "merge" and action.merge is not None:
        survivor = next(t for t in action.targets if t.record_id == action.merge.survivor_id)
        others = len(action.targets) - 1
        return (
            f"Merge {others} duplicate {action.object_type}{'s' if others > 1 else ''} into "
            f"{survivor.label or survivor.record_id} ({survivor.record_id})."
        )
    if kind in ("assign_owner", "change_owner") and len(action.targets) == 1:
        change = action.targets[0].changes[OWNER_FIELD]
        verb = "Assign" if kind == "assign_owner" else "Move"
        return (
            f"{verb} {subject(action)} from {owner_name(change.before, owners)} "
            f"to {owner_name(change.after, owners)}."
        )
    if kind == "update_lead_status" and len(action.targets) == 1:
        change = action.targets[0].changes["status"]
        return f"Set the status of {subject(action)} from {change.before} to {change.after}."
    if kind in ("normalize_field", "enrich_data"):
        fields = sorted({name for t in action.targets for name in t.changes})
        return f"{_VERB[kind]} {', '.join(fields)} on {subject(action)}."
    return f"{_VERB[kind]} {subject(action)}."
