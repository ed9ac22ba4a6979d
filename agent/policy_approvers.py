"""Who may approve a gated action: the combined approver requirement, and one user checked against it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.policy_rules import ApproverRule
from agent.ports import ApproverDirectory

if TYPE_CHECKING:
    from agent.policy_model import Policy


@dataclass(frozen=True)
class ApprovalRequirement:
    """Who must approve a gated action, and how many of them.

    Attributes:
        lists: One approver list per applicable gate (identical lists once); an
            approver must qualify under every list.
        min_approvals: Distinct approvals needed (the largest any gate asks for).
        requester_may_approve: False when any gate bars the requester.
    """

    lists: tuple[tuple[str, ...], ...]
    min_approvals: int
    requester_may_approve: bool


def default_rule(policy: Policy) -> ApproverRule:
    return policy.approvers.get("default") or ApproverRule(users=[])


def is_group(approver_id: str) -> bool:
    return approver_id.startswith("S")


def approval_requirement(policy: Policy, gates: Sequence[str]) -> ApprovalRequirement:
    """Combine the approver rules of every gate that applies to an action.

    Each gate uses its own rule in ``approvers``, else the ``default`` rule; a rule
    without ``users`` uses the default rule's users. No gates means the default rule.

    Every applicable gate must be satisfied: an approver must be on *each* gate's
    list, the strictest ``min_approvals`` wins, and if any gate bars the requester
    from approving their own request, the requester is barred. A bulk change-owner
    therefore needs someone who may approve both bulk operations and owner changes.

    Args:
        policy: The policy in force.
        gates: ``Verdict.gates`` of a ``require_approval`` verdict.

    Returns:
        The combined requirement.
    """
    default = default_rule(policy)
    rules = [policy.approvers.get(gate, default) for gate in gates] or [default]
    lists: list[tuple[str, ...]] = []
    for rule in rules:
        source = default.users if rule.users is None else rule.users
        users = tuple(dict.fromkeys(source or ()))
        if users not in lists:
            lists.append(users)
    return ApprovalRequirement(
        lists=tuple(lists),
        min_approvals=max(rule.min_approvals for rule in rules),
        requester_may_approve=all(rule.requester_may_approve for rule in rules),
    )


def may_approve(requirement: ApprovalRequirement, user_id: str, directory: ApproverDirectory) -> bool:
    """Whether a Slack user qualifies under every list of a requirement.

    A list accepts a user named in it, or a member of a user group (``S...``) named
    in it. Whether the user is the requester, and how many approvals are still
    needed, are the caller's to check.
    """

    def on(approvers: tuple[str, ...]) -> bool:
        return any(
            user_id == entry or (is_group(entry) and directory.is_member(user_id, entry))
            for entry in approvers
        )

    # a requirement without lists is malformed; it must not let everyone approve
    return bool(requirement.lists) and all(on(approvers) for approvers in requirement.lists)
