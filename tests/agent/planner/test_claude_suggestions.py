"""Approval history per action kind and check -> policy suggestions, as data."""

from __future__ import annotations

from agent.planner.suggestions import policy_suggestions
from tests.support.stack import Stack, merge_action


def _merges(stack: Stack, count: int, *, check: str) -> list[str]:
    ids = []
    for n in range(count):
        first = stack.lead(email=f"a{check}{n}@acme.io", last_name=f"Doe{n}")
        second = stack.lead(email=f"b{check}{n}@acme.io", last_name=f"Doe{n}")
        action = merge_action(first, second, action_id=f"{check}-{n}").model_copy(update={"check": check})
        ids.append(stack.queue(action))
    return ids


def test_always_approved_merges_suggest_allowing_them_and_rejected_ones_a_review(stack: Stack) -> None:
    for approval_id in _merges(stack, 4, check="duplicate_email"):
        stack.approvals.approve(approval_id, "U0APPROVER")
    fuzzy = _merges(stack, 4, check="fuzzy_duplicate")
    for approval_id in fuzzy[:3]:
        stack.approvals.reject(approval_id, "U0APPROVER", "not the same person")
    stack.approvals.approve(fuzzy[3], "U0APPROVER")

    found = policy_suggestions(stack.services.database, stack.services.policy, min_decisions=4)

    texts = {(s.kind, s.check): s for s in found}
    exact = texts[("merge", "duplicate_email")]
    assert (exact.approved, exact.rejected, exact.change) == (4, 0, "allow")
    assert exact.text.startswith(
        "merge of exact-email duplicates: 4 approved, 0 rejected; people always approve"
    )
    judged = texts[("merge", "fuzzy_duplicate")]
    assert (judged.approved, judged.rejected, judged.change) == (1, 3, "review_check")


def test_too_few_decisions_suggest_nothing(stack: Stack) -> None:
    for approval_id in _merges(stack, 2, check="duplicate_email"):
        stack.approvals.approve(approval_id, "U0APPROVER")
    _merges(stack, 1, check="fuzzy_duplicate")  # still pending: not a decision

    found = policy_suggestions(stack.services.database, stack.services.policy)

    assert [(s.check, s.change) for s in found] == [("duplicate_email", "none")]
