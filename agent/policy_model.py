"""The whole-policy model, :class:`Policy`, which checks its own consistency when it is built."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, ValidationInfo, model_validator

from agent.policy_checks import check_consistency
from agent.policy_rules import (
    ApproverKey,
    ApproverRule,
    BulkRule,
    Duration,
    ExpiryKey,
    ExpiryRule,
    HighValueRule,
    PolicyName,
    Rule,
)

DEFER_CONSISTENCY = "defer_consistency"
"""Validation-context flag: skip the cross-field check so a caller can report it with line numbers."""


def _no_approvers() -> dict[str, ApproverRule]:
    return {"default": ApproverRule(users=[])}


def _one_day_expiry() -> dict[str, ExpiryRule]:
    return {"default": ExpiryRule(after=timedelta(hours=24))}


class Policy(Rule):
    """A whole policy. Every entry of the three lists is an action kind or a condition name."""

    name: str = "policy"
    allowed_actions: list[PolicyName] = Field(default_factory=list)
    forbidden_actions: list[PolicyName] = Field(default_factory=list)
    requires_approval: list[PolicyName] = Field(default_factory=list)
    bulk_operations: BulkRule = Field(default_factory=BulkRule)
    high_value_changes: HighValueRule | None = None
    approvers: dict[ApproverKey, ApproverRule] = Field(default_factory=_no_approvers)
    """Key ``default`` plus action kinds and condition names."""
    expiry: dict[ExpiryKey, ExpiryRule] = Field(default_factory=_one_day_expiry)
    """Key ``default`` plus action kinds."""
    undo_window: Duration = timedelta(hours=24)
    approvals_channel: str | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Policy:
        if info.context and info.context.get(DEFER_CONSISTENCY):
            return self
        errors = [f.message for f in check_consistency(self) if f.severity == "error"]
        if errors:
            raise ValueError("; ".join(errors))
        return self
