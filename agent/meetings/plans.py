"""A ``book_meeting`` proposal from a lead's meeting options: the slot, both zones, the rep's hours.

Pure: the caller passes the options (:mod:`agent.meetings.options`), the lead, the rep's
CRM user and the id; nothing is read or written here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agent.meetings.hours import WorkingHours
from agent.meetings.intervals import Interval
from agent.meetings.options import LeadOptions
from agent.meetings.slots import SlotRules
from agent.models import MeetingPlan, MeetingSlot, Owner, ProposedAction, Record, Target
from agent.routing.decision import lead_label

DEFAULT_TITLE = "Intro call"


def hours_text(hours: WorkingHours) -> str:
    """``09:00-17:00`` (``24:00`` for until midnight), as the routing file spells it."""
    return f"{hours.start:%H:%M}-{'24:00' if hours.end is None else f'{hours.end:%H:%M}'}"


def lead_name(lead: Record) -> str:
    name = " ".join(str(lead.fields.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    return name or str(lead.fields.get("email") or lead.id)


def meeting_title(lead: Record, rep: Owner, title: str = DEFAULT_TITLE) -> str:
    company = str(lead.fields.get("company") or "").strip()
    who = f"{lead_name(lead)} ({company})" if company else lead_name(lead)
    return f"{title}: {who} and {rep.name}"


def booking_action(
    options: LeadOptions,
    span: Interval,
    *,
    lead: Record,
    rep: Owner,
    rules: SlotRules,
    action_id: str,
    requested_by: str,
    alternatives: Sequence[Interval] = (),
    name: Callable[[str], str] = str,
    title: str = DEFAULT_TITLE,
    chosen: str = "the first slot free in both parties' hours",
) -> ProposedAction:
    """The proposal to book ``span`` with ``options.rep`` for ``lead`` (see the module doc)."""
    hours = options.rep.hours
    zone = options.lead_zone
    plan = MeetingPlan(
        rep_id=rep.id,
        rep_name=rep.name,
        rep_email=rep.email,
        lead_name=lead_name(lead),
        lead_email=str(lead.fields.get("email") or ""),
        start=span[0],
        end=span[1],
        rep_zone=hours.zone.key,
        rep_hours=hours_text(hours),
        rep_days=sorted(hours.days),
        lead_zone=zone.zone.key,
        lead_zone_note=f"from {zone.source}, {zone.confidence} confidence: {zone.assumption}",
        title=meeting_title(lead, rep, title),
        alternatives=[MeetingSlot(start=s, end=e) for s, e in alternatives if (s, e) != span],
        substitution=(
            options.substitution.describe(rep.id, name) if options.substitution is not None else None
        ),
        buffer_minutes=int(rules.buffer.total_seconds() // 60),
    )
    minutes = int((span[1] - span[0]).total_seconds() // 60)
    rationale = f"{lead_label(lead)} is {'owned by' if rep.id == lead.owner_id else 'proposed to'} {rep.name}"
    rationale += f"; {minutes} minutes at {chosen}"
    if options.substitution is not None:
        rationale += f" ({plan.substitution})"
    return ProposedAction(
        id=action_id,
        kind="book_meeting",
        object_type="lead",
        targets=[Target(record_id=lead.id, version=lead.version, label=lead_label(lead))],
        meeting=plan,
        rationale=rationale + ".",
        evidence={
            "lead_zone": zone.zone.key,
            "zone_source": zone.source,
            "zone_confidence": zone.confidence,
            "rep_calendar": options.rep.calendar,
        },
        planner="meetings",
        check="meeting",
        requested_by=requested_by,
    )
