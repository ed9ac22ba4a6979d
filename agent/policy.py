"""The policy: what the agent may do alone, what needs a person, and what never happens.

A policy is data (see ``policies/*.yaml`` and :mod:`agent.policy_file`), validated
into frozen models and decided by plain functions. Nothing here does I/O, reads a
clock or trusts a planner: :func:`evaluate` decides on the
:class:`~agent.models.ActionFacts` the agent measured on the data.

Precedence: ``forbidden_actions`` > ``requires_approval`` > ``allowed_actions`` >
anything unlisted is denied. ``bulk_operations``, ``high_value_changes`` and, for
meetings, ``outside_working_hours`` and ``other_rep`` are *conditions*: they apply
when the data triggers them and only tighten a verdict.

This module is the public import path for all of it. The pieces live in
:mod:`agent.policy_rules` (section rules, field types, durations),
:mod:`agent.policy_model` (:class:`Policy`), :mod:`agent.policy_checks`
(consistency) and :mod:`agent.policy_approvers` (who may approve).
"""

from __future__ import annotations

from datetime import timedelta

from agent.models import ActionFacts, Outcome, ProposedAction, Verdict
from agent.policy_approvers import ApprovalRequirement, approval_requirement, may_approve
from agent.policy_checks import Finding, check_consistency
from agent.policy_model import DEFER_CONSISTENCY, Policy
from agent.policy_rules import (
    POLICY_NAMES,
    ApproverId,
    ApproverKey,
    ApproverRule,
    BulkRule,
    Duration,
    ExpiryFallback,
    ExpiryKey,
    ExpiryRule,
    HighValueRule,
    PolicyName,
    did_you_mean,
    format_duration,
    parse_duration,
)

__all__ = [
    "DEFER_CONSISTENCY",
    "POLICY_NAMES",
    "ApprovalRequirement",
    "ApproverId",
    "ApproverKey",
    "ApproverRule",
    "BulkRule",
    "Duration",
    "ExpiryFallback",
    "ExpiryKey",
    "ExpiryRule",
    "Finding",
    "HighValueRule",
    "Policy",
    "PolicyName",
    "approval_requirement",
    "check_consistency",
    "did_you_mean",
    "evaluate",
    "expiry_for",
    "format_duration",
    "may_approve",
    "parse_duration",
]

# --- evaluation -----------------------------------------------------------


def evaluate(policy: Policy, action: ProposedAction, facts: ActionFacts) -> Verdict:
    """Decide one action on the facts measured from the data, never on the planner's claims.

    The names that apply are the effective kind plus every condition the facts
    trigger. Then, in order:

    1. any applicable name in ``forbidden_actions`` -> ``deny``;
    2. the kind in neither ``allowed_actions`` nor ``requires_approval`` -> ``deny``
       (anything unlisted is denied; a gated condition does not open it);
    3. any applicable name in ``requires_approval`` -> ``require_approval`` with
       every such name in ``gates``;
    4. otherwise ``allow``.

    Args:
        policy: The policy in force.
        action: The proposal, used only to explain a reclassification.
        facts: What the data says: effective kind, record counts, largest value.

    Returns:
        The verdict with a one-sentence reason and the rule that decided.
    """
    kind = facts.effective_kind
    triggered = _triggered_conditions(policy, facts)
    names = [kind, *triggered]
    lead = _reclassification(action.kind, kind)

    gates = tuple(n for n in names if n in policy.requires_approval)

    def verdict(outcome: Outcome, rule: str, reason: str, gates: tuple[str, ...] = ()) -> Verdict:
        text = f"{lead}, so {reason[0].lower()}{reason[1:]}" if lead else reason
        return Verdict(outcome=outcome, rule=rule, reason=text, gates=gates)

    for name in names:
        if name in policy.forbidden_actions:
            why = (
                f"{kind} is in forbidden_actions"
                if name == kind
                else f"{triggered[name]}, and {name} is in forbidden_actions"
            )
            return verdict("deny", f"forbidden_actions: {name}", f"This {kind} is denied: {why}.")
    if kind not in policy.allowed_actions and kind not in policy.requires_approval:
        return verdict(
            "deny",
            f"unlisted: {kind}",
            f"{kind} is not listed in allowed_actions or requires_approval, and anything unlisted is denied.",
        )
    if gates:
        whys = [f"{kind} is in requires_approval" if g == kind else triggered[g] for g in gates]
        return verdict(
            "require_approval",
            f"requires_approval: {gates[0]}",
            f"This {kind} needs approval: {'; '.join(whys)}.",
            gates,
        )
    return verdict(
        "allow", f"allowed_actions: {kind}", f"{kind} is in allowed_actions and no gated condition applies."
    )


def _triggered_conditions(policy: Policy, facts: ActionFacts) -> dict[str, str]:
    """Each condition the facts trigger, with why (in the order the policy checks them)."""
    triggered: dict[str, str] = {}
    limit = policy.bulk_operations.max_records
    run_total = facts.run_records_touched + facts.records_touched
    if facts.records_touched > limit:
        triggered["bulk_operations"] = (
            f"it touches {facts.records_touched} records, more than bulk_operations.max_records={limit}"
        )
    elif run_total > limit:
        triggered["bulk_operations"] = (
            f"with the {facts.run_records_touched} records this run already wrote directly it makes "
            f"{run_total}, more than the per-run budget bulk_operations.max_records={limit}"
        )
    rule = policy.high_value_changes
    if rule is not None and facts.max_value is not None and facts.max_value >= rule.min:
        triggered["high_value_changes"] = (
            f"it touches a record with {rule.field} {_number(facts.max_value)}, "
            f"at or above high_value_changes.min={_number(rule.min)}"
        )
    if facts.outside_working_hours is not None:
        triggered["outside_working_hours"] = facts.outside_working_hours
    if facts.other_rep is not None:
        triggered["other_rep"] = facts.other_rep
    return triggered


def _reclassification(claimed: str, effective: str) -> str:
    if claimed == effective:
        return ""
    if (claimed, effective) == ("assign_owner", "change_owner"):
        return "assign_owner on a record that already has an owner is change_owner"
    return f"The data reclassified this {claimed} as {effective}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def expiry_for(policy: Policy, kind: str) -> ExpiryRule:
    """The expiry rule for an action kind: its own, else the policy's default, else 24h then drop."""
    return policy.expiry.get(kind) or policy.expiry.get("default") or ExpiryRule(after=timedelta(hours=24))
