"""What needs a person: requests waiting for a decision, and changes the policy refused.

A refused change is a recommendation: the agent may not do it (``forbidden``, or
not allowed at all), but a person may, by hand, if it is right. Every run of the
day proposes it again, so refusals are folded by their change (kind, records,
values): each shows once, with the reason and the rule that refused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agent.describe import describe
from agent.models import Owner, ProposedAction
from agent.store.rows import ApprovalRow, ProposalRow
from agent.summary.activity import check_of
from agent.summary.models import PendingItem, RefusedItem

REFUSED_ORDER: dict[str, int] = {"delete": 0, "merge": 1, "change_owner": 2, "assign_owner": 3}
"""Refusals a person most needs to see first (they lose or move data)."""


def pending_items(rows: Iterable[ApprovalRow], owners: Mapping[str, Owner]) -> list[PendingItem]:
    """Pending requests, oldest first (the closest to expiring without a decision, usually)."""
    items = []
    for row in rows:
        action = ProposedAction.model_validate(row.action)
        items.append(
            PendingItem(
                approval_id=row.id,
                kind=row.kind,
                check=check_of(row.action),
                description=describe(action, owners),
                records=len(action.targets),
                created_at=row.created_at,
                expires_at=row.expires_at,
            )
        )
    return sorted(items, key=lambda i: (i.created_at, i.approval_id))


def refused_items(proposals: Iterable[ProposalRow], owners: Mapping[str, Owner]) -> list[RefusedItem]:
    """The day's refused proposals, one per distinct change (the latest refusal wins)."""
    latest: dict[str, tuple[ProposalRow, ProposedAction]] = {}
    for row in proposals:
        if row.disposition != "refused" or row.outcome != "deny":
            continue
        action = ProposedAction.model_validate(row.action)
        latest[action.dedupe_key()] = (row, action)
    items = [
        RefusedItem(
            proposal_id=row.id,
            kind=action.kind,
            check=check_of(row.action),
            description=describe(action, owners),
            records=len(action.targets),
            reason=row.reason,
            rule=row.rule,
        )
        for row, action in latest.values()
    ]
    last = len(REFUSED_ORDER)
    return sorted(items, key=lambda i: (REFUSED_ORDER.get(i.kind, last), i.description, i.proposal_id))
