"""Cross-field checks on a policy: contradictory lists and approver rules nobody could satisfy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from agent.models import CONDITIONS
from agent.policy_approvers import approval_requirement, default_rule, is_group

if TYPE_CHECKING:
    from agent.policy_model import Policy


@dataclass(frozen=True)
class Finding:
    """A cross-field problem in a valid-looking policy, located by its path in the policy."""

    loc: tuple[str | int, ...]
    message: str
    severity: Literal["error", "warning"]


def check_consistency(policy: Policy) -> list[Finding]:
    """Problems no single field shows: contradictory lists and unsatisfiable approver rules.

    Errors make a policy unusable (its constructor raises them unless validation
    is given the :data:`DEFER_CONSISTENCY` context); warnings are legal but
    probably not what the author meant.
    """
    findings: list[Finding] = []
    allowed = policy.allowed_actions
    if not allowed:
        findings.append(
            Finding(
                ("allowed_actions",),
                "allowed_actions is empty, so nothing runs on its own: "
                "everything not in requires_approval is denied",
                "warning",
            )
        )
    for i, name in enumerate(allowed):
        loc = ("allowed_actions", i)
        if name in policy.forbidden_actions:
            findings.append(
                Finding(
                    loc,
                    f"'{name}' is in both allowed_actions and forbidden_actions; forbidden wins",
                    "warning",
                )
            )
        elif name in policy.requires_approval:
            findings.append(
                Finding(
                    loc,
                    f"'{name}' is in both allowed_actions and requires_approval; approval wins",
                    "warning",
                )
            )
        if name in CONDITIONS:
            findings.append(
                Finding(
                    loc,
                    f"'{name}' is a condition and has no effect in allowed_actions "
                    "(list it under requires_approval or forbidden_actions)",
                    "warning",
                )
            )
    findings.extend(_approver_findings(policy))
    return findings


def _approver_findings(policy: Policy) -> list[Finding]:
    findings: list[Finding] = []
    default_users = default_rule(policy).users or []
    for key, rule in policy.approvers.items():
        users = default_users if rule.users is None else rule.users
        people = [u for u in users if not is_group(u)]
        if users and len(people) == len(users) and rule.min_approvals > len(people):
            whose = f"approvers.{key}" if rule.users is not None else f"the default list (inherited by {key})"
            findings.append(
                Finding(
                    ("approvers", key, "min_approvals"),
                    f"approvers.{key} needs min_approvals={rule.min_approvals}, but {whose} names only "
                    f"{len(people)} user(s) and no group, so it could never be approved",
                    "error",
                )
            )
    for gate in policy.requires_approval:
        if not approval_requirement(policy, [gate]).lists[0]:
            key = gate if gate in policy.approvers else "default"
            findings.append(
                Finding(
                    ("approvers", key),
                    f"nobody may approve '{gate}' (approvers lists no one for it or as default), "
                    "so its requests can only expire",
                    "warning",
                )
            )
    return findings
