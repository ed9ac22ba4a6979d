"""The offline planner: deterministic hygiene rules, no network, no model.

It proposes; the policy decides. It happily proposes a ``delete`` for a junk lead
even though the shipped policies forbid deletes: refusing is the policy's job.

Conflict rules, because the executor compare-and-sets on record versions:

- a record in a ``merge`` or ``delete`` proposal gets no other proposal in the plan;
- a junk lead is only ever proposed for ``delete`` (never merged or normalised);
- otherwise a record may get several proposals only when they change disjoint fields,
  which holds by construction: ``normalize_field`` touches email, phone and names,
  ``assign_owner`` owner_id, ``update_lead_status`` status, ``add_note`` no field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent.models import ProposedAction
from agent.planner import checks
from agent.planner.base import CRMSnapshot, snapshot_from

__all__ = ["CRMSnapshot", "OfflinePlanner", "snapshot_from"]


class OfflinePlanner:
    """Rule-based planner; same snapshot and same ids in, same actions out."""

    name = "offline"

    def __init__(
        self,
        *,
        new_id: Callable[[], str],
        now: Callable[[], datetime],
        high_value_field: str = "annual_revenue",
        high_value_min: float = 1_000_000,
        stale_after_days: int = 90,
    ) -> None:
        self._new_id = new_id
        self._now = now
        self.high_value_field = high_value_field
        self.high_value_min = high_value_min
        self.stale_after_days = stale_after_days

    def plan(self, snapshot: CRMSnapshot) -> list[ProposedAction]:
        """Every proposal for the snapshot, sorted by check (see ``checks.CHECK_ORDER``) then record id.

        Ids are drawn from ``new_id`` in that order, so the output is fully determined
        by the snapshot and the id sequence.
        """
        junk = checks.junk_leads(snapshot.leads)
        merges = checks.duplicate_emails(lead for lead in snapshot.leads if lead.id not in junk)
        reserved: set[checks.RecordKey] = {("lead", lead_id) for lead_id in junk}
        reserved |= {(d.object_type, t.record_id) for d in merges for t in d.targets}
        people = [*snapshot.leads, *snapshot.contacts]

        drafts = [
            *checks.normalize_fields(people, reserved),
            *checks.invalid_emails(people, reserved),
            *checks.unowned_leads(snapshot.leads, snapshot.owners, reserved),
            *checks.stale_leads(
                snapshot.leads, reserved, now=self._now(), stale_after_days=self.stale_after_days
            ),
            *merges,
            *checks.inactive_owners(
                snapshot.accounts, snapshot.owners, field=self.high_value_field, minimum=self.high_value_min
            ),
            *checks.junk_deletes(snapshot.leads, junk),
        ]
        drafts.sort(key=checks.Draft.sort_key)
        return [draft.to_action(self._new_id(), self.name) for draft in drafts]
