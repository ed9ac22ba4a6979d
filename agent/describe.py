"""Plain-language descriptions of proposals, shared by the CLI and Slack cards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.models import OWNER_FIELD, MeetingPlan, Owner, ProposedAction

_VERB = {
    "update_lead_status": "Set the status of",
    "add_note": "Add a note to",
    "enrich_data": "Enrich",
    "normalize_field": "Normalise",
    "assign_owner": "Assign an owner to",
    "change_owner": "Change the owner of",
    "merge": "Merge",
    "delete": "Delete",
    "book_meeting": "Book a meeting with",
}


def owner_name(owner_id: object, owners: Mapping[str, Owner]) -> str:
    if not owner_id:
        return "nobody"
    owner = owners.get(str(owner_id))
    if owner is None:
        return str(owner_id)
    return owner.name if owner.active else f"{owner.name} (inactive)"


def local_time(moment: datetime, zone: str) -> str:
    """``Tue 25 Nov 09:00 Europe/Berlin``."""
    return f"{moment.astimezone(ZoneInfo(zone)):%a %d %b %H:%M} {zone}"


def meeting_phrase(plan: MeetingPlan) -> str:
    """``a 30-minute meeting of Ann Lee with Debra Jones on Tue 25 Nov 09:00 America/New_York
    (15:00 Europe/Berlin for the lead)``."""
    minutes = int((plan.end - plan.start).total_seconds() // 60)
    lead_local = plan.start.astimezone(ZoneInfo(plan.lead_zone))
    return (
        f"a {minutes}-minute meeting of {plan.lead_name} with {plan.rep_name} on "
        f"{local_time(plan.start, plan.rep_zone)} ({lead_local:%a %H:%M} {plan.lead_zone} for the lead)"
    )


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
    if kind == "book_meeting" and action.meeting is not None:
        return f"Book {meeting_phrase(action.meeting)}."
    if kind == "update_lead_status" and len(action.targets) == 1:
        change = action.targets[0].changes["status"]
        return f"Set the status of {subject(action)} from {change.before} to {change.after}."
    if kind in ("normalize_field", "enrich_data"):
        fields = sorted({name for t in action.targets for name in t.changes})
        return f"{_VERB[kind]} {', '.join(fields)} on {subject(action)}."
    return f"{_VERB[kind]} {subject(action)}."
