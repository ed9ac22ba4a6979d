"""The policy decides on the data: precedence, conditions, reasons, approvers, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from agent.models import ActionFacts, FieldChange, MergePlan, ProposedAction, Target, Verdict
from agent.policy import (
    ApprovalRequirement,
    ApproverRule,
    BulkRule,
    ExpiryRule,
    HighValueRule,
    Policy,
    approval_requirement,
    evaluate,
    expiry_for,
    may_approve,
    parse_duration,
)


def _targets(n: int, changes: dict[str, FieldChange] | None = None, note: str | None = None) -> list[Target]:
    return [Target(record_id=f"r{i}", version="1", changes=changes or {}, note=note) for i in range(1, n + 1)]


def make_action(kind: str, records: int = 1) -> ProposedAction:
    """A well-shaped action of any kind, touching ``records`` records."""
    owner = {"owner_id": FieldChange(before=None, after="O1")}
    shapes: dict[str, dict[str, object]] = {
        "update_lead_status": {
            "targets": _targets(records, {"status": FieldChange(before="new", after="working")})
        },
        "add_note": {"targets": _targets(records, note="called, no answer")},
        "enrich_data": {"targets": _targets(records, {"industry": FieldChange(before=None, after="Retail")})},
        "normalize_field": {"targets": _targets(records, {"country": FieldChange(before="usa", after="US")})},
        "assign_owner": {"targets": _targets(records, owner)},
        "change_owner": {"targets": _targets(records, owner)},
        "merge": {"targets": _targets(max(records, 2)), "merge": MergePlan(survivor_id="r1")},
        "delete": {"targets": _targets(records)},
    }
    return ProposedAction.model_validate(
        {"id": "a1", "kind": kind, "object_type": "lead", "rationale": "test", **shapes[kind]}
    )


def facts(kind: str, records: int = 1, *, run: int = 0, value: float | None = None) -> ActionFacts:
    return ActionFacts.model_validate(
        {"effective_kind": kind, "records_touched": records, "run_records_touched": run, "max_value": value}
    )


def decide(
    policy: Policy, kind: str, records: int = 1, *, run: int = 0, value: float | None = None
) -> Verdict:
    return evaluate(policy, make_action(kind, records), facts(kind, records, run=run, value=value))


GATED = Policy(
    allowed_actions=["update_lead_status", "add_note", "enrich_data", "normalize_field", "assign_owner"],
    forbidden_actions=["delete"],
    requires_approval=["merge", "change_owner", "bulk_operations", "high_value_changes"],
    bulk_operations=BulkRule(max_records=25),
    high_value_changes=HighValueRule(field="annual_revenue", min=1_000_000),
)


# --- precedence -------------------------------------------------------------

# Every combination of membership of one kind in (allowed, forbidden, requires_approval),
# with the outcome and deciding rule written out by hand.
PRECEDENCE_TABLE = [
    (False, False, False, "deny", "unlisted: merge"),
    (True, False, False, "allow", "allowed_actions: merge"),
    (False, True, False, "deny", "forbidden_actions: merge"),
    (False, False, True, "require_approval", "requires_approval: merge"),
    (True, True, False, "deny", "forbidden_actions: merge"),
    (True, False, True, "require_approval", "requires_approval: merge"),
    (False, True, True, "deny", "forbidden_actions: merge"),
    (True, True, True, "deny", "forbidden_actions: merge"),
]


@pytest.mark.parametrize(("allowed", "forbidden", "gated", "outcome", "rule"), PRECEDENCE_TABLE)
def test_precedence_for_every_list_membership(
    allowed: bool, forbidden: bool, gated: bool, outcome: str, rule: str
) -> None:
    policy = Policy(
        allowed_actions=["merge"] if allowed else [],
        forbidden_actions=["merge"] if forbidden else [],
        requires_approval=["merge"] if gated else [],
    )
    verdict = decide(policy, "merge", 2)
    assert (verdict.outcome, verdict.rule) == (outcome, rule)


def test_forbidden_beats_requires_approval() -> None:
    policy = Policy(forbidden_actions=["change_owner"], requires_approval=["change_owner", "bulk_operations"])
    verdict = decide(policy, "change_owner", 30)
    assert verdict.outcome == "deny"
    assert verdict.rule == "forbidden_actions: change_owner"
    assert verdict.gates == ()


def test_unlisted_kind_is_denied_and_says_so() -> None:
    verdict = decide(Policy(allowed_actions=["add_note"]), "enrich_data")
    assert verdict.outcome == "deny"
    assert verdict.rule == "unlisted: enrich_data"
    assert "anything unlisted is denied" in verdict.reason


def test_allowed_kind_is_allowed_with_its_rule() -> None:
    verdict = decide(GATED, "add_note")
    assert (verdict.outcome, verdict.rule, verdict.gates) == ("allow", "allowed_actions: add_note", ())


def test_forbidden_kind_reason_names_the_list() -> None:
    verdict = decide(GATED, "delete")
    assert verdict.rule == "forbidden_actions: delete"
    assert verdict.reason == "This delete is denied: delete is in forbidden_actions."


# --- conditions ---------------------------------------------------------------


@pytest.mark.parametrize(("records", "outcome"), [(24, "allow"), (25, "allow"), (26, "require_approval")])
def test_bulk_operations_triggers_only_above_max_records(records: int, outcome: str) -> None:
    assert decide(GATED, "add_note", records).outcome == outcome


def test_bulk_reason_names_the_numbers() -> None:
    verdict = decide(GATED, "add_note", 30)
    assert verdict.rule == "requires_approval: bulk_operations"
    assert verdict.gates == ("bulk_operations",)
    assert "touches 30 records, more than bulk_operations.max_records=25" in verdict.reason


@pytest.mark.parametrize(("already", "outcome"), [(20, "allow"), (21, "require_approval")])
def test_run_budget_counts_direct_writes_earlier_in_the_run(already: int, outcome: str) -> None:
    assert decide(GATED, "enrich_data", 5, run=already).outcome == outcome


def test_run_budget_reason_says_it_is_the_run_total() -> None:
    verdict = decide(GATED, "enrich_data", 5, run=21)
    assert verdict.gates == ("bulk_operations",)
    assert "21 records this run already wrote directly" in verdict.reason
    assert "26, more than the per-run budget bulk_operations.max_records=25" in verdict.reason


@pytest.mark.parametrize(
    ("value", "outcome"),
    [(999_999, "allow"), (1_000_000, "require_approval"), (1_000_001, "require_approval"), (None, "allow")],
)
def test_high_value_triggers_at_and_above_min(value: float | None, outcome: str) -> None:
    assert decide(GATED, "enrich_data", value=value).outcome == outcome


def test_high_value_reason_names_field_and_threshold() -> None:
    verdict = decide(GATED, "enrich_data", value=1_500_000)
    assert verdict.rule == "requires_approval: high_value_changes"
    assert "annual_revenue 1,500,000, at or above high_value_changes.min=1,000,000" in verdict.reason


def test_high_value_never_triggers_without_the_rule() -> None:
    policy = GATED.model_copy(update={"high_value_changes": None})
    assert decide(policy, "enrich_data", value=50_000_000).outcome == "allow"


def test_forbidden_condition_beats_an_allowed_kind() -> None:
    policy = Policy(allowed_actions=["add_note"], forbidden_actions=["bulk_operations"])
    verdict = decide(policy, "add_note", 26)
    assert verdict.outcome == "deny"
    assert verdict.rule == "forbidden_actions: bulk_operations"
    assert "touches 26 records" in verdict.reason


def test_triggered_condition_that_is_not_listed_changes_nothing() -> None:
    policy = Policy(allowed_actions=["add_note"])
    assert decide(policy, "add_note", 500, value=9e9).outcome == "allow"


def test_condition_in_allowed_actions_has_no_effect() -> None:
    policy = Policy(allowed_actions=["add_note", "bulk_operations"])
    assert decide(policy, "add_note", 30).outcome == "allow"
    assert decide(policy, "enrich_data", 30).rule == "unlisted: enrich_data"


def test_gated_condition_does_not_open_an_unlisted_kind() -> None:
    # bigger must never be looser: a kind denied for one record stays denied for thirty
    policy = Policy(allowed_actions=["add_note"], requires_approval=["bulk_operations"])
    assert decide(policy, "normalize_field", 1).rule == "unlisted: normalize_field"
    assert decide(policy, "normalize_field", 30).rule == "unlisted: normalize_field"


def test_gates_list_every_matching_name_in_order() -> None:
    verdict = decide(GATED, "change_owner", 30, value=2_000_000)
    assert verdict.outcome == "require_approval"
    assert verdict.rule == "requires_approval: change_owner"
    assert verdict.gates == ("change_owner", "bulk_operations", "high_value_changes")
    assert "change_owner is in requires_approval" in verdict.reason
    assert "touches 30 records" in verdict.reason
    assert "annual_revenue 2,000,000" in verdict.reason


def test_condition_gate_on_an_allowed_kind_names_the_condition_first() -> None:
    verdict = decide(GATED, "assign_owner", 1, value=1_000_000)
    assert (verdict.rule, verdict.gates) == ("requires_approval: high_value_changes", ("high_value_changes",))


# --- reclassification -----------------------------------------------------------


def test_reclassified_kind_is_decided_by_the_data_and_explained() -> None:
    verdict = evaluate(GATED, make_action("assign_owner"), facts("change_owner"))
    assert verdict.outcome == "require_approval"
    assert verdict.rule == "requires_approval: change_owner"
    assert verdict.reason.startswith(
        "assign_owner on a record that already has an owner is change_owner, so "
    )


def test_reclassification_cannot_dodge_a_forbidden_kind() -> None:
    policy = Policy(allowed_actions=["assign_owner"], forbidden_actions=["change_owner"])
    verdict = evaluate(policy, make_action("assign_owner"), facts("change_owner"))
    assert (verdict.outcome, verdict.rule) == ("deny", "forbidden_actions: change_owner")
    assert "already has an owner" in verdict.reason


def test_other_reclassifications_say_the_data_decided() -> None:
    verdict = evaluate(GATED, make_action("normalize_field"), facts("enrich_data"))
    assert verdict.reason.startswith("The data reclassified this normalize_field as enrich_data, so ")


def test_unreclassified_reason_does_not_mention_reclassification() -> None:
    assert "reclassified" not in decide(GATED, "add_note").reason


# --- expiry ------------------------------------------------------------------------


def test_expiry_uses_the_kind_rule_then_the_default() -> None:
    policy = Policy(
        expiry={
            "default": ExpiryRule(after=timedelta(hours=8)),
            "assign_owner": ExpiryRule(after=timedelta(minutes=15), fallback="routing_pool"),
        }
    )
    assert expiry_for(policy, "assign_owner") == ExpiryRule(
        after=timedelta(minutes=15), fallback="routing_pool"
    )
    assert expiry_for(policy, "merge") == ExpiryRule(after=timedelta(hours=8), fallback="drop")


def test_expiry_default_of_defaults_is_a_day_then_drop() -> None:
    assert expiry_for(Policy(expiry={}), "merge") == ExpiryRule(after=timedelta(hours=24), fallback="drop")


# --- approvers ---------------------------------------------------------------------


class Directory:
    """A stub directory: group id -> member ids."""

    def __init__(self, groups: dict[str, set[str]]) -> None:
        self.groups = groups

    def is_member(self, user_id: str, group_id: str) -> bool:
        return user_id in self.groups.get(group_id, set())


APPROVERS = Policy(
    approvers={
        "default": ApproverRule(users=["U0ALICE", "U0BOB", "S0LEADS"]),
        "change_owner": ApproverRule(min_approvals=2, requester_may_approve=False),
        "high_value_changes": ApproverRule(users=["U0CFO", "U0ALICE"]),
    }
)


def test_gate_without_users_inherits_the_default_users() -> None:
    requirement = approval_requirement(APPROVERS, ["change_owner"])
    assert requirement == ApprovalRequirement(
        lists=(("U0ALICE", "U0BOB", "S0LEADS"),), min_approvals=2, requester_may_approve=False
    )


def test_gate_without_a_rule_uses_the_default_rule() -> None:
    requirement = approval_requirement(APPROVERS, ["merge"])
    assert requirement == ApprovalRequirement(
        lists=(("U0ALICE", "U0BOB", "S0LEADS"),), min_approvals=1, requester_may_approve=True
    )


def test_no_gates_means_the_default_rule() -> None:
    assert approval_requirement(APPROVERS, []) == approval_requirement(APPROVERS, ["merge"])


def test_combined_gates_take_the_strictest_settings() -> None:
    requirement = approval_requirement(APPROVERS, ["change_owner", "merge", "high_value_changes"])
    assert requirement.lists == (("U0ALICE", "U0BOB", "S0LEADS"), ("U0CFO", "U0ALICE"))
    assert requirement.min_approvals == 2
    assert requirement.requester_may_approve is False


def test_group_membership_qualifies_through_the_directory() -> None:
    requirement = approval_requirement(APPROVERS, ["merge"])
    directory = Directory({"S0LEADS": {"U0CAROL"}})
    assert may_approve(requirement, "U0CAROL", directory)
    assert may_approve(requirement, "U0BOB", directory)
    assert not may_approve(requirement, "U0MALLORY", directory)


def test_a_user_must_satisfy_every_gate_list() -> None:
    requirement = approval_requirement(APPROVERS, ["merge", "high_value_changes"])
    directory = Directory({"S0LEADS": {"U0CAROL"}})
    assert may_approve(requirement, "U0ALICE", directory)  # on both lists
    assert not may_approve(requirement, "U0BOB", directory)  # default list only
    assert not may_approve(requirement, "U0CAROL", directory)  # a lead, but not on the CFO list
    assert not may_approve(requirement, "U0CFO", directory)  # CFO list only


def test_user_id_is_never_mistaken_for_a_group() -> None:
    class EveryoneEverywhere:
        def is_member(self, user_id: str, group_id: str) -> bool:
            return True

    requirement = approval_requirement(Policy(approvers={"default": ApproverRule(users=["U0ALICE"])}), [])
    assert not may_approve(requirement, "U0BOB", EveryoneEverywhere())


def test_empty_approver_list_lets_nobody_approve() -> None:
    requirement = approval_requirement(Policy(), ["merge"])
    assert requirement.lists == ((),)
    assert not may_approve(requirement, "U0ALICE", Directory({}))


def test_requirement_without_lists_lets_nobody_approve() -> None:
    requirement = ApprovalRequirement(lists=(), min_approvals=1, requester_may_approve=True)
    assert not may_approve(requirement, "U0ALICE", Directory({}))


# --- the models themselves ------------------------------------------------------------


def test_policy_built_in_code_rejects_unsatisfiable_min_approvals() -> None:
    with pytest.raises(ValidationError, match="could never be approved"):
        Policy(approvers={"default": ApproverRule(users=["U0ALICE"], min_approvals=2)})


def test_policy_built_in_code_rejects_unknown_names() -> None:
    with pytest.raises(ValidationError, match="did you mean 'merge'"):
        Policy(requires_approval=["mrege"])


def test_policy_is_immutable() -> None:
    with pytest.raises(ValidationError):
        GATED.name = "other"  # type: ignore[misc]


def test_durations_round_trip_through_json_in_the_file_spelling() -> None:
    policy = Policy(
        expiry={"default": ExpiryRule(after=timedelta(minutes=15))}, undo_window=timedelta(days=7)
    )
    dumped = policy.model_dump(mode="json")
    assert dumped["expiry"]["default"]["after"] == "15m"
    assert dumped["undo_window"] == "7d"
    assert Policy.model_validate_json(policy.model_dump_json()) == policy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
    ],
)
def test_durations_are_a_whole_number_and_a_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["24", "1.5h", "24 h", "24H", "1w", "-1h", "0m", "", "PT24H"])
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
