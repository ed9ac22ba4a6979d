"""Policy files: every problem is reported, at its line, in words a RevOps admin can act on."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import PolicyFileError
from agent.policy import ApproverRule, ExpiryRule
from agent.policy_file import check_policy_file, load_policy, parse_policy_text

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def problems(text: str) -> list[str]:
    """Every problem in ``text``, as the admin sees it."""
    return [str(problem) for problem in parse_policy_text(text)[1]]


def errors(text: str) -> list[str]:
    return [message for message in problems(text) if ": error: " in message]


# --- shipped policies ------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "strict"])
def test_shipped_policy_has_no_problems(name: str) -> None:
    assert check_policy_file(POLICIES / f"{name}.yaml") == []


def test_default_policy_gates_risky_work_and_forbids_delete() -> None:
    policy = load_policy(POLICIES / "default.yaml")
    assert policy.name == "default"
    assert policy.forbidden_actions == ["delete"]
    assert policy.requires_approval == [
        "merge",
        "change_owner",
        "bulk_operations",
        "high_value_changes",
        "outside_working_hours",
        "other_rep",
    ]
    assert "book_meeting" in policy.allowed_actions
    assert policy.expiry["book_meeting"].after == timedelta(hours=2)
    assert policy.expiry["assign_owner"] == ExpiryRule(
        after=timedelta(minutes=15), remind_after=timedelta(minutes=5), fallback="routing_pool"
    )
    assert policy.expiry["merge"].escalate_after == timedelta(hours=48)
    users = policy.approvers["default"].users or []
    assert "U0APPROVER" in users
    assert len([u for u in users if u.startswith("U")]) >= policy.approvers["change_owner"].min_approvals


def test_strict_policy_has_exactly_the_documented_lists() -> None:
    policy = load_policy(POLICIES / "strict.yaml")
    assert policy.name == "strict"
    assert policy.allowed_actions == ["update_lead_status", "add_note", "enrich_data"]
    assert policy.forbidden_actions == ["delete", "merge", "change_owner"]
    assert policy.requires_approval == ["book_meeting", "bulk_operations", "high_value_changes"]


# --- defaults and shorthands --------------------------------------------------------


def test_empty_file_gets_the_defaults_and_only_an_empty_allowed_warning() -> None:
    policy, found = parse_policy_text("", name="empty")
    assert policy is not None
    assert policy.name == "empty"
    assert (policy.allowed_actions, policy.forbidden_actions, policy.requires_approval) == ([], [], [])
    assert policy.bulk_operations.max_records == 25
    assert policy.high_value_changes is None
    assert policy.approvers == {"default": ApproverRule(users=[])}
    assert policy.expiry == {"default": ExpiryRule(after=timedelta(hours=24))}
    assert [str(p) for p in found] == [
        "line 1: warning: allowed_actions is empty, so nothing runs on its own: "
        "everything not in requires_approval is denied"
    ]


def test_shorthands_for_approver_lists_and_expiry_durations() -> None:
    policy, found = parse_policy_text(
        "allowed_actions: [add_note]\napprovers:\n  default: [U0A, S0LEADS]\nexpiry:\n  default: 90s\n"
    )
    assert found == []
    assert policy is not None
    assert policy.approvers["default"] == ApproverRule(users=["U0A", "S0LEADS"])
    assert policy.expiry["default"] == ExpiryRule(after=timedelta(seconds=90))


def test_policy_is_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "night-shift.yaml"
    path.write_text("allowed_actions: [add_note]\n")
    assert load_policy(path).name == "night-shift"


# --- errors, each at its line ---------------------------------------------------------


def test_yaml_syntax_error_names_its_line() -> None:
    assert problems("allowed_actions: [add_note]\nforbidden_actions: [delete\nrequires_approval: []\n") == [
        "line 3: error: not valid YAML: while parsing a flow sequence expected ',' or ']', but got ':'"
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert errors("\n- add_note\n- merge\n") == [
        "line 2: error: the policy must be a mapping of settings "
        "(allowed_actions: [...], forbidden_actions: [...], ...)"
    ]


def test_unknown_top_level_key_suggests_the_closest() -> None:
    assert errors("allowed_actions: [add_note]\nforbiden_actions: [delete]\n") == [
        "line 2: error: unknown top-level key 'forbiden_actions' (did you mean 'forbidden_actions'?)"
    ]


def test_a_policy_file_cannot_set_its_own_name() -> None:
    assert errors("allowed_actions: [add_note]\nname: sneaky\n") == [
        "line 2: error: unknown top-level key 'name' (a policy is named after its file)"
    ]


def test_duplicate_keys_are_errors_at_every_level() -> None:
    text = (
        "allowed_actions: [add_note]\n"
        "approvers:\n"
        "  default: [U0A]\n"
        "  default: [U0B]\n"
        "allowed_actions: [merge]\n"
    )
    assert errors(text) == [
        "line 4: error: 'default' is set twice (first on line 3); remove one",
        "line 5: error: 'allowed_actions' is set twice (first on line 1); remove one",
    ]


@pytest.mark.parametrize("section", ["allowed_actions", "forbidden_actions", "requires_approval"])
def test_unknown_action_in_a_list_suggests_the_closest(section: str) -> None:
    text = f"allowed_actions: [add_note]\n{section}:\n  - delete\n  - mrege\n"
    assert f"line 4: error: unknown action 'mrege' in {section} (did you mean 'merge'?)" in errors(text)


def test_unknown_action_example_from_the_docs() -> None:
    text = (
        "allowed_actions: [add_note]\nforbidden_actions: [delete]\nrequires_approval: [mrege, change_owner]\n"
    )
    assert errors(text) == [
        "line 3: error: unknown action 'mrege' in requires_approval (did you mean 'merge'?)"
    ]


def test_unknown_names_as_approvers_and_expiry_keys() -> None:
    text = (
        "allowed_actions: [add_note]\n"
        "approvers:\n"
        "  default: [U0A]\n"
        "  chnage_owner: {min_approvals: 1}\n"
        "expiry:\n"
        "  default: 24h\n"
        "  asign_owner: 15m\n"
        "  bulk_operations: 1h\n"
    )
    assert errors(text) == [
        "line 4: error: unknown action 'chnage_owner' in approvers (did you mean 'change_owner'?)",
        "line 7: error: unknown action 'asign_owner' in expiry (did you mean 'assign_owner'?)",
        "line 8: error: unknown action 'bulk_operations' in expiry "
        "('bulk_operations' is a condition; expiry is set per action kind)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "allowed_actions: add_note\n",
            "allowed_actions should be a list, like [add_note, merge] ([] for none)",
        ),
        ("allowed_actions: [add_note, 3]\n", "allowed_actions should be text, not 3"),
        ("bulk_operations: 25\n", "bulk_operations should be a mapping of settings, not 25"),
        (
            "bulk_operations: {max_records: '25'}\n",
            "bulk_operations.max_records should be a whole number, not '25'",
        ),
        (
            "bulk_operations: {max_records: 2.5}\n",
            "bulk_operations.max_records should be a whole number, not 2.5",
        ),
        ("high_value_changes: {min: lots}\n", "high_value_changes.min should be a number, not 'lots'"),
        ("high_value_changes: {field: ''}\n", "high_value_changes.field must not be empty"),
        (
            "approvers: {default: {users: [U0A], requester_may_approve: maybe}}\n",
            "approvers.default.requester_may_approve should be true or false, not 'maybe'",
        ),
        ("approvers: [U0A]\n", "approvers should be a mapping of names to settings, not ['U0A']"),
        ("bulk_operations: {max: 3}\n", "unknown key 'max' in bulk_operations (did you mean 'max_records'?)"),
        ("expiry: {merge: {fallback: drop}}\n", "expiry.merge is missing 'after'"),
    ],
)
def test_wrong_types_and_shapes(text: str, expected: str) -> None:
    if not text.startswith("allowed_actions"):
        text = "allowed_actions: [add_note]\n" + text
    last_line = text.count("\n")
    found = errors(text)
    assert len(found) == 1
    assert found[0].startswith(f"line {last_line}: error: {expected}")


def test_non_positive_max_records_and_min_approvals() -> None:
    text = (
        "allowed_actions: [add_note]\n"
        "bulk_operations:\n"
        "  max_records: 0\n"
        "approvers:\n"
        "  default: [U0A]\n"
        "  merge: {min_approvals: -1}\n"
    )
    assert errors(text) == [
        "line 3: error: bulk_operations.max_records must be more than 0, not 0",
        "line 6: error: approvers.merge.min_approvals must be more than 0, not -1",
    ]


@pytest.mark.parametrize("duration", ["3 days", "90", "1.5h", "24H", "1w", "0m", "PT24H"])
def test_bad_durations_are_errors(duration: str) -> None:
    found = errors(f"allowed_actions: [add_note]\nexpiry:\n  merge: {{after: '{duration}'}}\n")
    assert len(found) == 1
    assert found[0].startswith("line 3: error: expiry.merge.after: ")
    assert "duration" in found[0]


def test_bare_number_is_not_a_duration() -> None:
    assert errors("allowed_actions: [add_note]\nundo_window: 90\n") == [
        "line 2: error: undo_window: 90 is not a duration; "
        "write a whole number and a unit, like 90s, 15m, 24h or 7d"
    ]


def test_unknown_fallback_lists_the_choices() -> None:
    assert errors("allowed_actions: [add_note]\nexpiry:\n  merge: {after: 72h, fallback: retry}\n") == [
        "line 3: error: unknown fallback 'retry' in expiry.merge (use 'drop', 'routing_pool' or 'escalate')"
    ]


@pytest.mark.parametrize("bad_id", ["alice", "@alice", "u0alice", "C0CHANNEL", "U0", "U0-ALICE"])
def test_approver_ids_must_be_slack_user_or_group_ids(bad_id: str) -> None:
    text = f"allowed_actions: [add_note]\napprovers:\n  default:\n    - U0GOOD\n    - '{bad_id}'\n"
    found = errors(text)
    assert len(found) == 1
    assert found[0].startswith(f"line 5: error: approvers.default.users: '{bad_id}' is not a Slack user id")


@pytest.mark.parametrize("good_id", ["U0ALICE", "W012ABC", "S0LEADS"])
def test_slack_user_enterprise_and_group_ids_are_accepted(good_id: str) -> None:
    assert errors(f"allowed_actions: [add_note]\napprovers: {{default: [{good_id}]}}\n") == []


def test_min_approvals_above_the_listed_users_is_an_error() -> None:
    text = "allowed_actions: [add_note]\napprovers:\n  merge:\n    users: [U0A, U0B]\n    min_approvals: 3\n"
    assert errors(text) == [
        "line 5: error: approvers.merge needs min_approvals=3, but approvers.merge names only 2 user(s) "
        "and no group, so it could never be approved"
    ]


def test_min_approvals_is_checked_against_inherited_users() -> None:
    text = "allowed_actions: [add_note]\napprovers:\n  default: [U0A]\n  change_owner: {min_approvals: 2}\n"
    assert errors(text) == [
        "line 4: error: approvers.change_owner needs min_approvals=2, but the default list "
        "(inherited by change_owner) names only 1 user(s) and no group, so it could never be approved"
    ]


def test_a_group_may_supply_any_number_of_approvers() -> None:
    text = "allowed_actions: [add_note]\napprovers:\n  default: [U0A, S0LEADS]\n  merge: {min_approvals: 5}\n"
    assert errors(text) == []


def test_every_error_is_reported_in_one_pass() -> None:
    text = (
        "allowed_actions: [add_note, enrich_data]\n"  # 1
        "forbidden_actions: [delte]\n"  # 2
        "requires_approval: [merge]\n"  # 3
        "bulk_operations: {max_records: 0}\n"  # 4
        "approvers:\n"  # 5
        "  default: [alice]\n"  # 6
        "  merge: {users: [U0A], min_approvals: 2}\n"  # 7
        "expiry:\n"  # 8
        "  merge: {after: soon, fallback: retry}\n"  # 9
        "colour: blue\n"  # 10
    )
    assert [message.split(":")[0] for message in errors(text)] == [
        "line 2",
        "line 4",
        "line 6",
        "line 7",
        "line 9",
        "line 9",
        "line 10",
    ]


# --- warnings ------------------------------------------------------------------------


def test_warnings_for_contradictory_or_ineffective_lists() -> None:
    text = (
        "allowed_actions:\n"
        "  - add_note\n"
        "  - delete\n"
        "  - merge\n"
        "  - bulk_operations\n"
        "forbidden_actions: [delete]\n"
        "requires_approval: [merge]\n"
        "approvers: {default: [U0A]}\n"
    )
    assert problems(text) == [
        "line 3: warning: 'delete' is in both allowed_actions and forbidden_actions; forbidden wins",
        "line 4: warning: 'merge' is in both allowed_actions and requires_approval; approval wins",
        "line 5: warning: 'bulk_operations' is a condition and has no effect in allowed_actions "
        "(list it under requires_approval or forbidden_actions)",
    ]


def test_empty_allowed_actions_is_a_warning() -> None:
    assert problems("allowed_actions: []\nforbidden_actions: [delete]\n") == [
        "line 1: warning: allowed_actions is empty, so nothing runs on its own: "
        "everything not in requires_approval is denied"
    ]


def test_gate_nobody_may_approve_is_a_warning() -> None:
    assert problems("allowed_actions: [add_note]\nrequires_approval: [merge]\n") == [
        "line 1: warning: nobody may approve 'merge' (approvers lists no one for it or as default), "
        "so its requests can only expire"
    ]


def test_warnings_do_not_stop_loading(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "loose.yaml"
    path.write_text("allowed_actions: [add_note, delete]\nforbidden_actions: [delete]\n")
    with caplog.at_level(logging.WARNING, logger="agent.policy_file"):
        policy = load_policy(path)
    assert policy.forbidden_actions == ["delete"]
    assert "forbidden wins" in caplog.text


def test_problems_in_broken_sections_are_not_repeated_as_warnings() -> None:
    # allowed_actions is broken, so "allowed_actions is empty" would be noise
    assert problems("allowed_actions: [add_noot]\n") == [
        "line 1: error: unknown action 'add_noot' in allowed_actions (did you mean 'add_note'?)"
    ]


# --- loading ---------------------------------------------------------------------------


def test_parse_returns_no_policy_when_there_is_an_error() -> None:
    policy, found = parse_policy_text("allowed_actions: [mrege]\n")
    assert policy is None
    assert [p.severity for p in found] == ["error"]


def test_load_policy_raises_with_the_path_and_every_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("allowed_actions: [add_note]\nforbidden_actions: [delte]\nundo_window: forever\n")
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path)
    assert [p.line for p in caught.value.problems] == [2, 3]
    message = str(caught.value)
    assert f"policy file {path} has 2 problem(s)" in message
    assert (
        f"{path}: line 2: error: unknown action 'delte' in forbidden_actions (did you mean 'delete'?)"
        in message
    )
    assert f"{path}: line 3: error: undo_window: 'forever' is not a duration" in message


def test_missing_file_is_a_policy_file_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="cannot read the policy file"):
        load_policy(tmp_path / "nope.yaml")


def test_nudges_out_of_order_are_reported_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "allowed_actions: [add_note]\nexpiry:\n  default: 24h\n  merge: {after: 4h, remind_after: 5h}\n"
    )
    with pytest.raises(PolicyFileError) as error:
        load_policy(path)
    assert "line 4" in str(error.value)
    assert "remind_after must be shorter than after (4h)" in str(error.value)


def test_an_escalation_target_must_be_a_channel_or_a_user_group(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "allowed_actions: [add_note]\n"
        "expiry:\n"
        "  merge: {after: 4h, escalate_after: 2h, escalate_to: '@bob'}\n"
    )
    with pytest.raises(PolicyFileError) as error:
        load_policy(path)
    assert "line 3" in str(error.value)
    assert "'@bob' is not a channel" in str(error.value)
