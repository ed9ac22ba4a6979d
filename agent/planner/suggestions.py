"""Approval history -> policy suggestions ("merge of exact-email duplicates: 40 approved, 0 rejected").

Counts decided approvals per action kind and the check that proposed them, and
turns clear patterns into suggestions a person may act on (issue 5 posts them).
Nothing here changes a policy: it returns data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from agent.policy import Policy
from agent.store.database import Database
from agent.store.rows import ApprovalRow

APPROVED_STATUSES = frozenset({"approved", "executing", "executed", "undone", "failed", "superseded"})
"""A person said yes to these (what happened afterwards is the executor's story)."""
CHECK_LABELS = {
    "duplicate_email": "exact-email duplicates",
    "fuzzy_duplicate": "fuzzy duplicates judged by the model",
    "inactive_owner": "high-value accounts of inactive owners",
    "unowned_lead": "unowned leads",
    "normalize_fields": "format fixes",
    "invalid_email": "notes on unusable emails",
    "stale_lead": "stale leads",
    "job_title": "job title enrichment",
    "bulk": "bulk bundles",
}

Change = Literal["allow", "review_check", "none"]


@dataclass(frozen=True)
class PolicySuggestion:
    kind: str
    check: str
    approved: int
    rejected: int
    change: Change
    """``allow``: people always say yes; ``review_check``: they mostly say no; ``none``: mixed."""
    text: str


def policy_suggestions(
    database: Database, policy: Policy, *, min_decisions: int = 20, reject_share: float = 0.5
) -> list[PolicySuggestion]:
    """One line per (kind, check) with decisions, most decided first; the change says what to consider."""
    approved: Counter[tuple[str, str]] = Counter()
    rejected: Counter[tuple[str, str]] = Counter()
    with database.transaction() as session:
        for kind, status, action in session.execute(
            select(ApprovalRow.kind, ApprovalRow.status, ApprovalRow.action)
        ):
            group = (kind, str(action.get("check") or "") if isinstance(action, dict) else "")
            if status == "rejected":
                rejected[group] += 1
            elif status in APPROVED_STATUSES:
                approved[group] += 1
    found = []
    for group in sorted(approved.keys() | rejected.keys(), key=lambda g: (-(approved[g] + rejected[g]), g)):
        kind, check = group
        yes, no = approved[group], rejected[group]
        what = f"{kind} of {CHECK_LABELS.get(check, check or 'other proposals')}"
        text = f"{what}: {yes} approved, {no} rejected"
        change: Change = "none"
        if yes + no >= min_decisions and no == 0 and kind in policy.requires_approval:
            change = "allow"
            text += (
                f"; people always approve it: consider letting {kind} from this check run without approval"
            )
        elif yes + no >= min_decisions and no / (yes + no) >= reject_share:
            change = "review_check"
            text += "; people mostly reject it: review the check that proposes it"
        found.append(PolicySuggestion(kind, check, yes, no, change, text))
    return found
