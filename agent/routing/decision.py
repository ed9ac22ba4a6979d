"""What a routing decision holds, and how it reads to a person (``/route-lead ... explain``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.models import Owner, ProposedAction, Record
from agent.routing.accounts import AccountMatch

SHOWN_VALUES = (
    "email",
    "email_domain",
    "free_mail",
    "company",
    "country",
    "state",
    "postcode",
    "industry",
    "employees",
    "segment",
    "account_matched",
)


@dataclass(frozen=True)
class Step:
    """One rule tried: ``matched``, ``no match`` or ``could not place``, and why."""

    rule: str
    outcome: str
    why: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.outcome} ({self.why})"


@dataclass(frozen=True)
class Skipped:
    owner_id: str
    reason: str


@dataclass
class Placement:
    """Where a rule put the lead: an owner (from a pool or not) or a queue."""

    owner_id: str | None
    pool: str | None = None
    queue: str | None = None
    credits: dict[str, float] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    suggested_by: str | None = None
    """``model`` when the fallback model chose it (its rationale is in ``note``)."""
    note: str = ""


@dataclass
class RouteDecision:
    """Where a lead goes and everything that led there."""

    lead: Record
    current: Owner | None
    chosen: Owner | None
    """The new owner (``None``: the lead goes to a queue with no owner, or stays)."""
    rule: str
    values: dict[str, Any]
    path: list[Step]
    account: AccountMatch
    placement: Placement
    decided_at: datetime
    action: ProposedAction | None = None
    """The owner change to make (``None``: nothing changes)."""
    alert: str | None = None
    """Set when the lead fell back to the queue because nobody could take it."""
    sla_due_at: datetime | None = None
    """When the owner must have worked the lead (the first SLA step)."""

    @property
    def queue(self) -> str | None:
        return self.placement.queue

    @property
    def explanation(self) -> list[str]:
        """The decision in short lines: where, by which rule, and why."""
        lines = [f"Lead {self.lead.id} ({lead_label(self.lead)})."]
        lines.append(f"Rule {self.rule}: " + self._destination())
        if self.placement.note:
            lines.append(self.placement.note)
        if self.placement.skipped:
            lines.append(
                "Skipped: " + "; ".join(f"{s.owner_id} ({s.reason})" for s in self.placement.skipped) + "."
            )
        if self.alert:
            lines.append(f"Alert: {self.alert}")
        if self.action is None:
            lines.append("No change.")
        elif self.current is not None:
            lines.append(f"This changes the owner from {self.current.name}: a person approves it.")
        return lines

    def details(self) -> list[str]:
        """Everything, for ``explain``: input, normalised values, accounts, rule path, pool state."""
        lines = list(self.explanation)
        shown = {k: self.values.get(k) for k in SHOWN_VALUES if self.values.get(k) not in (None, "")}
        lines.append("Normalised: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
        if self.account.candidates:
            lines.append(
                "Account candidates: " + "; ".join(c.describe() for c in self.account.candidates[:5])
            )
            if self.account.tie_break:
                lines.append(f"Tie-break: {self.account.tie_break}.")
        else:
            lines.append("Account candidates: none.")
        lines.append("Rule path: " + " -> ".join(str(step) for step in self.path))
        if self.placement.credits:
            lines.append(
                f"Pool {self.placement.pool} credits before the pick: "
                + ", ".join(f"{o} {c:g}" for o, c in self.placement.credits.items())
            )
        previous = self.current.name if self.current else "none"
        lines.append(f"Previous owner: {previous}; chosen: {self.chosen.name if self.chosen else 'none'}.")
        if self.sla_due_at is not None:
            lines.append(f"SLA: work it by {self.sla_due_at:%Y-%m-%d %H:%M} UTC.")
        return lines

    def as_record(self) -> dict[str, Any]:
        """The decision as JSON for the audit log and the assignment row."""
        return {
            "lead_id": self.lead.id,
            "input": {k: v for k, v in self.lead.fields.items() if isinstance(v, str | int | float | bool)},
            "values": {k: v for k, v in self.values.items() if isinstance(v, str | int | float | bool)},
            "rule": self.rule,
            "path": [{"rule": s.rule, "outcome": s.outcome, "why": s.why} for s in self.path],
            "account": {
                "chosen": self.account.chosen.account.id if self.account.chosen else None,
                "candidates": [c.describe() for c in self.account.candidates[:10]],
                "tie_break": self.account.tie_break,
            },
            "pool": self.placement.pool,
            "queue": self.placement.queue,
            "credits": self.placement.credits,
            "skipped": [{"owner_id": s.owner_id, "reason": s.reason} for s in self.placement.skipped],
            "suggested_by": self.placement.suggested_by,
            "previous_owner": self.current.id if self.current else None,
            "chosen_owner": self.chosen.id if self.chosen else None,
            "alert": self.alert,
            "sla_due_at": self.sla_due_at.isoformat() if self.sla_due_at else None,
            "explanation": self.explanation,
        }

    def _destination(self) -> str:
        where = self.chosen.name if self.chosen else None
        if self.placement.queue:
            where = f"queue {self.placement.queue}" + (f" ({where})" if where else ", left unowned")
        elif self.placement.pool:
            where = f"{where} from pool {self.placement.pool}"
        if self.placement.suggested_by:
            where = f"{where}, suggested by the {self.placement.suggested_by}"
        return f"{where}."


def lead_label(lead: Record) -> str:
    name = " ".join(str(lead.fields.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    email = lead.fields.get("email")
    return f"{name} <{email}>" if email else name or lead.id
