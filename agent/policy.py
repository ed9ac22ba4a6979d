"""The policy: what the agent may do alone, what needs a person, and what never happens.

A policy is data (see ``policies/*.yaml`` and :mod:`agent.policy_file`), validated
into the frozen models below and decided by plain functions. Nothing here does
I/O, reads a clock or trusts a planner: :func:`evaluate` decides on the
:class:`~agent.models.ActionFacts` the agent measured on the data.

Precedence: ``forbidden_actions`` > ``requires_approval`` > ``allowed_actions`` >
anything unlisted is denied. ``bulk_operations`` and ``high_value_changes`` are
*conditions*: they apply when the data triggers them and only tighten a verdict.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agent.models import ACTION_KINDS, CONDITIONS, ActionFacts, Outcome, ProposedAction, Verdict
from agent.ports import ApproverDirectory

POLICY_NAMES: tuple[str, ...] = (*ACTION_KINDS, *CONDITIONS)
"""What the three lists (and ``approvers`` keys, besides ``default``) may name."""

DEFER_CONSISTENCY = "defer_consistency"
"""Validation-context flag: skip the cross-field check so a caller can report it with line numbers."""

_APPROVER_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_DURATION = re.compile(r"^(\d+)([smhd])$")


# --- reusable field types -------------------------------------------------


def did_you_mean(value: str, known: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or an empty string."""
    close = difflib.get_close_matches(value, known, n=1) or [
        k for k in known if value and k.startswith(value)
    ]
    return f" (did you mean '{close[0]}'?)" if close else ""


def _known_name(known: tuple[str, ...], *, kinds_only: bool = False) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value in known:
            return value
        if kinds_only and value in CONDITIONS:
            hint = f" ('{value}' is a condition; expiry is set per action kind)"
        else:
            hint = did_you_mean(value, known)
        raise PydanticCustomError(
            "unknown_name", "unknown action '{name}'{hint}", {"name": value, "hint": hint}
        )

    return check


def _approver_id(value: str) -> str:
    if _APPROVER_ID.match(value):
        return value
    raise PydanticCustomError(
        "approver_id",
        "'{value}' is not a Slack user id (U... or W...) or user-group id (S...); "
        "use the member id from the Slack profile, not the @name",
        {"value": value},
    )


def parse_duration(value: object) -> timedelta:
    """A duration from ``90s``, ``15m``, ``24h``, ``7d`` (or a ``timedelta``).

    Raises:
        PydanticCustomError: anything else, and durations that are not a positive
            whole number of seconds.
    """
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds_per_unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}
        try:
            duration = timedelta(seconds=int(match[1]) * seconds_per_unit[match[2]])
        except OverflowError:
            raise PydanticCustomError(
                "duration", "'{value}' is too long a duration", {"value": value}
            ) from None
    else:
        raise PydanticCustomError(
            "duration",
            "{shown} is not a duration; write a whole number and a unit, like 90s, 15m, 24h or 7d",
            {"shown": repr(value)},
        )
    if duration <= timedelta(0) or duration.microseconds:
        raise PydanticCustomError(
            "duration", "a duration must be a positive whole number of seconds, not {value}", {"value": value}
        )
    return duration


def format_duration(duration: timedelta) -> str:
    """The shortest ``<n><unit>`` spelling of a duration (``timedelta(hours=24)`` -> ``24h``)."""
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, when_used="json")
]
PolicyName = Annotated[str, AfterValidator(_known_name(POLICY_NAMES))]
ApproverKey = Annotated[str, AfterValidator(_known_name(("default", *POLICY_NAMES)))]
ExpiryKey = Annotated[str, AfterValidator(_known_name(("default", *ACTION_KINDS), kinds_only=True))]
ApproverId = Annotated[str, AfterValidator(_approver_id)]


# --- models ---------------------------------------------------------------


class _Rule(BaseModel):
    # strict: a policy file saying max_records: "25" or min_approvals: 1.5 is a mistake, not a hint
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class BulkRule(_Rule):
    """``bulk_operations``: one action, or one run's direct writes, touching more records than this."""

    max_records: int = Field(default=25, gt=0)


class HighValueRule(_Rule):
    """``high_value_changes``: a change to a record whose ``field`` is at or above ``min``."""

    field: str = Field(default="annual_revenue", min_length=1)
    min: float = 1_000_000


class ApproverRule(_Rule):
    """Who may approve a gate. A bare list in the file is shorthand for ``{users: [...]}``."""

    users: list[ApproverId] | None = None
    """Slack user ids (U.../W...) or user-group ids (S...); ``None`` inherits the default rule's list."""
    min_approvals: int = Field(default=1, gt=0)
    requester_may_approve: bool = True

    @model_validator(mode="before")
    @classmethod
    def _list_shorthand(cls, data: Any) -> Any:
        return {"users": data} if isinstance(data, list) else data


ExpiryFallback = Literal["drop", "routing_pool", "escalate"]


class ExpiryRule(_Rule):
    """How long a request waits for a decision, and what happens after. A bare duration is shorthand."""

    after: Duration
    fallback: ExpiryFallback = "drop"

    @model_validator(mode="before")
    @classmethod
    def _duration_shorthand(cls, data: Any) -> Any:
        return data if isinstance(data, dict | ExpiryRule) else {"after": data}


def _no_approvers() -> dict[str, ApproverRule]:
    return {"default": ApproverRule(users=[])}


def _one_day_expiry() -> dict[str, ExpiryRule]:
    return {"default": ExpiryRule(after=timedelta(hours=24))}


class Policy(_Rule):
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


# --- consistency ----------------------------------------------------------


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
    default_users = _default_rule(policy).users or []
    for key, rule in policy.approvers.items():
        users = default_users if rule.users is None else rule.users
        people = [u for u in users if not _is_group(u)]
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


# --- approvers ------------------------------------------------------------


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


def _default_rule(policy: Policy) -> ApproverRule:
    return policy.approvers.get("default") or ApproverRule(users=[])


def _is_group(approver_id: str) -> bool:
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
    default = _default_rule(policy)
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
            user_id == entry or (_is_group(entry) and directory.is_member(user_id, entry))
            for entry in approvers
        )

    # a requirement without lists is malformed; it must not let everyone approve
    return bool(requirement.lists) and all(on(approvers) for approvers in requirement.lists)
