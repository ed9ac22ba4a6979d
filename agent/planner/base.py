"""What every planner shares: the snapshot it plans from and the interface it offers.

A planner reads a :class:`CRMSnapshot` and returns :class:`~agent.models.ProposedAction`
objects. It never writes and never decides whether an action may run: that is the
policy's job, whatever the planner (rules or a model) thinks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from agent.models import Owner, ProposedAction, Record
from agent.ports import CRMClient


@dataclass(frozen=True)
class CRMSnapshot:
    """The records and owners a plan is based on, as read at one moment."""

    leads: list[Record] = field(default_factory=list)
    contacts: list[Record] = field(default_factory=list)
    accounts: list[Record] = field(default_factory=list)
    owners: list[Owner] = field(default_factory=list)


def snapshot_from(crm: CRMClient) -> CRMSnapshot:
    """Read every live lead, contact and account, and every owner, from a CRM."""
    return CRMSnapshot(
        leads=list(crm.iter_records("lead")),
        contacts=list(crm.iter_records("contact")),
        accounts=list(crm.iter_records("account")),
        owners=list(crm.owners()),
    )


class Planner(Protocol):
    """Turns a snapshot into proposals; implementations must not write to the CRM."""

    name: str
    """Recorded as ``ProposedAction.planner`` on everything it proposes."""

    def plan(self, snapshot: CRMSnapshot) -> list[ProposedAction]:
        """Proposals for this snapshot, in a stable order."""
        ...
