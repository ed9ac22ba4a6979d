"""The simple routing rule behind ``/route-lead`` until the routing engine lands.

An owned lead whose owner is active stays where it is. An unowned lead goes to
the active owner with the fewest open leads (ties by owner id); a lead whose
owner has left is proposed for the same owner through an owner change, which
the policy gates like any other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.errors import CRMNotFoundError
from agent.models import OWNER_FIELD, FieldChange, Owner, ProposedAction, Record, Target
from agent.normalize import normalize_email
from agent.ports import CRMClient

CLOSED_STATUSES = frozenset({"Qualified", "Unqualified"})


@dataclass(frozen=True)
class RouteDecision:
    """Where a lead should go, and why, in lines a person can read."""

    lead: Record
    current: Owner | None
    chosen: Owner | None
    action: ProposedAction | None
    """The change to make; ``None`` when the lead stays where it is."""
    explanation: list[str] = field(default_factory=list)


class SimpleRouter:
    def __init__(self, crm: CRMClient, *, new_id: Callable[[], str]) -> None:
        self._crm = crm
        self._new_id = new_id

    def find_lead(self, ref: str) -> Record:
        """A lead by id or by email address.

        Raises:
            CRMNotFoundError: no lead has that id or email.
        """
        ref = ref.strip()
        lead = self._crm.get("lead", ref)
        if lead is not None:
            return lead
        email = normalize_email(ref)
        if email and "@" in email:
            for candidate in (ref, email):
                found = self._crm.search("lead", "email", candidate)
                if found:
                    return sorted(found, key=lambda r: r.created_at)[0]
        raise CRMNotFoundError(f"no lead with id or email {ref!r}")

    def route(self, ref: str, *, requested_by: str) -> RouteDecision:
        lead = self.find_lead(ref)
        owners = {o.id: o for o in self._crm.owners()}
        current = owners.get(lead.owner_id) if lead.owner_id else None
        why = [f"Lead {lead.id} ({_label(lead)})."]
        if current is not None and current.active:
            why.append(f"Already owned by {current.name}, who is active: no change.")
            return RouteDecision(lead, current, current, None, why)
        active = sorted((o for o in owners.values() if o.active), key=lambda o: o.id)
        if not active:
            why.append("No active owner to route to: left for the fallback queue.")
            return RouteDecision(lead, current, None, None, why)
        load = self._open_leads_by_owner()
        chosen = min(active, key=lambda o: (load[o.id], o.id))
        why.append(
            "Rule: fewest open leads among active owners ("
            + ", ".join(f"{o.name} {load[o.id]}" for o in active)
            + f"): {chosen.name}."
        )
        if current is not None:
            why.append(f"The current owner, {current.name}, is inactive: this is an owner change.")
        kind = "assign_owner" if lead.owner_id is None else "change_owner"
        action = ProposedAction(
            id=self._new_id(),
            kind=kind,
            object_type="lead",
            targets=[
                Target(
                    record_id=lead.id,
                    version=lead.version,
                    label=_label(lead),
                    changes={OWNER_FIELD: FieldChange(before=lead.owner_id, after=chosen.id)},
                )
            ],
            rationale=" ".join(why[1:]),
            evidence={"rule": "fewest open leads", "load": load[chosen.id]},
            planner="routing",
            check="route_lead",
            requested_by=requested_by,
        )
        return RouteDecision(lead, current, chosen, action, why)

    def _open_leads_by_owner(self) -> Counter[str]:
        load: Counter[str] = Counter()
        for lead in self._crm.iter_records("lead"):
            if lead.owner_id and lead.fields.get("status") not in CLOSED_STATUSES:
                load[lead.owner_id] += 1
        return load


def _label(lead: Record) -> str:
    name = " ".join(str(lead.fields.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    email = lead.fields.get("email")
    return f"{name} <{email}>" if email else name or lead.id
