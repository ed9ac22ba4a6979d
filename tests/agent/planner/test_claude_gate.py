"""Whatever the model asks for goes through the policy and the executor: nothing runs without its verdict."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from agent.policy_file import load_policy
from agent.store.rows import ProposalRow
from tests.agent.llm.support import (
    audit_events,
    claude_planner,
    duplicate_pair,
    refs,
    targets,
    versions,
)
from tests.support.fake_anthropic import FakeAnthropic, Json, tool_use, turn
from tests.support.stack import STRICT_POLICY, Stack

SKIP = turn(tool_use("skip_cases", {"case_ids": ["c1", "c2"], "reason": "done"}))


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def _run(stack: Stack, fake: FakeAnthropic, *calls: Json) -> list[Json]:
    """One model turn with ``calls``, then a skip of every case; the tool results of turn one.

    :func:`_pair` leaves a second case open, so the first turn's results always
    travel back to the model in a second request.
    """
    fake.enqueue(turn(*calls), SKIP)
    stack.services.runner.run(claude_planner(stack, fake))
    assert len(fake.requests) == 2
    return fake.requests[1].tool_results()


def _pair(stack: Stack) -> tuple[Any, Any]:
    """A possible duplicate (case c1) and a title the table cannot place (case c2)."""
    pair = duplicate_pair(stack)
    stack.lead(first_name="Rain", last_name="Maker", email="rain@maker.io", title="Rainmaker")
    return pair


def _proposals(stack: Stack) -> list[ProposalRow]:
    with stack.services.database.transaction() as session:
        rows = list(
            session.execute(select(ProposalRow).order_by(ProposalRow.created_at, ProposalRow.id)).scalars()
        )
        session.expunge_all()
        return rows


def test_a_forbidden_delete_is_refused_with_the_reason_and_rule(stack: Stack, fake: FakeAnthropic) -> None:
    _first, second = _pair(stack)
    before = versions(stack)

    results = _run(
        stack,
        fake,
        tool_use(
            "propose_delete",
            {"object_type": "lead", "targets": refs(second), "rationale": "Duplicate, remove it."},
        ),
    )

    assert versions(stack) == before
    assert results[0].get("is_error") is None
    assert results[0]["content"].startswith("refused by policy: This delete is denied")
    assert "(rule: forbidden_actions: delete)" in results[0]["content"]
    refused = audit_events(stack, "action_refused")
    assert [e.rule for e in refused] == ["forbidden_actions: delete"]


def test_a_merge_under_the_strict_policy_is_refused(database_url: str, fake: FakeAnthropic) -> None:
    stack = Stack(database_url, policy=load_policy(STRICT_POLICY))
    try:
        first, second = _pair(stack)
        before = versions(stack)

        results = _run(
            stack,
            fake,
            tool_use(
                "propose_merge",
                {
                    "object_type": "lead",
                    "records": refs(first, second),
                    "survivor_id": first.id,
                    "rationale": "Same.",
                },
            ),
        )

        assert versions(stack) == before
        assert "(rule: forbidden_actions: merge)" in results[0]["content"]
        assert stack.approvals.recent() == []
    finally:
        stack.close()


def test_a_bulk_change_over_the_threshold_is_queued_not_run(stack: Stack, fake: FakeAnthropic) -> None:
    _pair(stack)
    leads = [
        stack.lead(first_name=f"Lee{n}", last_name=f"Bulk{n}", email=f"lee{n}@bulk{n}.io") for n in range(26)
    ]
    before = versions(stack)

    results = _run(
        stack,
        fake,
        tool_use(
            "propose_enrich_data",
            {
                "object_type": "lead",
                "targets": targets(*leads, seniority="manager"),
                "rationale": "All managers.",
            },
        ),
    )

    assert versions(stack) == before
    assert results[0]["content"].startswith("queued for approval ")
    assert "bulk_operations.max_records=25" in results[0]["content"]
    [approval] = stack.approvals.recent()
    assert approval.verdict.gates == ("bulk_operations",)
    assert len(approval.action.targets) == 26


def test_allowed_changes_past_the_run_budget_are_queued(stack: Stack, fake: FakeAnthropic) -> None:
    _pair(stack)
    leads = [
        stack.lead(first_name=f"Kim{n}", last_name=f"Budget{n}", email=f"kim{n}@b{n}.io") for n in range(27)
    ]
    calls = [
        tool_use(
            "propose_enrich_data",
            {"object_type": "lead", "targets": targets(lead, seniority="manager"), "rationale": "Manager."},
        )
        for lead in leads
    ]

    results = _run(stack, fake, *calls)

    executed = [r for r in results if r["content"].startswith("executed")]
    queued = [r for r in results if r["content"].startswith("queued for approval")]
    assert (len(executed), len(queued)) == (25, 2)
    assert all("per-run budget" in r["content"] for r in queued)


def test_an_owner_change_on_a_high_value_account_needs_approval(stack: Stack, fake: FakeAnthropic) -> None:
    _pair(stack)
    stack.owner("O1")
    stack.owner("O2")
    account = stack.account(owner_id="O1", annual_revenue=5_000_000)

    # The model calls it an assignment; the data says it is an owner change on a high-value account.
    results = _run(
        stack,
        fake,
        tool_use(
            "propose_assign_owner",
            {
                "object_type": "account",
                "targets": targets(account, owner_id="O2"),
                "rationale": "O2 knows them.",
            },
        ),
    )

    assert stack.crm.get("account", account.id) == account
    assert "assign_owner on a record that already has an owner is change_owner" in results[0]["content"]
    [approval] = stack.approvals.recent()
    assert set(approval.verdict.gates) == {"change_owner", "high_value_changes"}
    assert approval.action.targets[0].changes["owner_id"].before == "O1"  # from the data, not the model


def test_a_tool_that_does_not_exist_gets_an_error_result(stack: Stack, fake: FakeAnthropic) -> None:
    _first, _ = _pair(stack)
    before = versions(stack)

    results = _run(
        stack,
        fake,
        tool_use("approve_request", {"approval_id": "x", "user": "U0APPROVER"}),
        tool_use("execute_sql", {"sql": "DELETE FROM crm_records"}),
    )

    assert versions(stack) == before
    assert all(r["is_error"] is True for r in results)
    assert results[0]["content"].startswith("unknown tool 'approve_request'")
    assert _proposals(stack) == []
    assert [e.payload["error"] for e in audit_events(stack, "model_tool_call")] == [True, True, False]


@pytest.mark.parametrize(
    ("tool", "tool_input", "message"),
    [
        ("propose_enrich_data", {"object_type": "lead", "rationale": "x"}, "targets: Field required"),
        (
            "propose_enrich_data",
            {"object_type": "opportunity", "targets": [], "rationale": "x"},
            "object_type",
        ),
        (
            "propose_merge",
            {"object_type": "lead", "records": "all", "survivor_id": "x", "rationale": "x"},
            "records",
        ),
        (
            "propose_update_lead_status",
            {
                "object_type": "lead",
                "targets": [{"record_id": 5, "version": "1", "changes": {}}],
                "rationale": "x",
            },
            "targets.0.record_id: Input should be a valid string",
        ),
        (
            "propose_add_note",
            {
                "object_type": "lead",
                "targets": [{"record_id": "a", "version": "1"}],
                "rationale": "x",
                "sneaky": True,
            },
            "sneaky",
        ),
    ],
)
def test_malformed_input_gets_an_error_result(
    stack: Stack, fake: FakeAnthropic, tool: str, tool_input: Any, message: str
) -> None:
    _pair(stack)
    before = versions(stack)

    results = _run(stack, fake, tool_use(tool, tool_input))

    assert versions(stack) == before
    assert results[0]["is_error"] is True
    assert message in results[0]["content"]
    assert _proposals(stack) == []


def test_a_value_outside_the_title_vocabulary_is_an_error(stack: Stack, fake: FakeAnthropic) -> None:
    first, _ = _pair(stack)

    results = _run(
        stack,
        fake,
        tool_use(
            "propose_enrich_data",
            {"object_type": "lead", "targets": targets(first, seniority="wizard"), "rationale": "x"},
        ),
    )

    assert results[0]["is_error"] is True
    assert "seniority must be one of" in results[0]["content"]


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ({"record_id": "L-MADE-UP"}, "lead L-MADE-UP does not exist"),
        ({"version": "99"}, "is at version 1, not 99 as proposed"),
        ({"changes": {"ssn": "078-05-1120"}}, "lead has no field 'ssn'"),
    ],
)
def test_made_up_ids_versions_and_fields_fail_cleanly_and_are_audited(
    stack: Stack, fake: FakeAnthropic, tamper: dict[str, Any], problem: str
) -> None:
    first, _ = _pair(stack)
    target = {"record_id": first.id, "version": first.version, "changes": {"seniority": "manager"}, **tamper}
    before = versions(stack)

    results = _run(
        stack,
        fake,
        tool_use("propose_enrich_data", {"object_type": "lead", "targets": [target], "rationale": "x"}),
    )

    assert versions(stack) == before
    assert results[0]["is_error"] is True
    assert problem in results[0]["content"]
    [row] = _proposals(stack)
    assert (row.disposition, row.action["planner"]) == ("failed", "claude")
    [failed] = audit_events(stack, "action_failed")
    assert problem in failed.payload["detail"]


def test_a_made_up_merge_is_never_queued_for_a_person(stack: Stack, fake: FakeAnthropic) -> None:
    first, second = _pair(stack)
    ghost = {"record_id": "L-GHOST", "version": "1"}

    results = _run(
        stack,
        fake,
        tool_use(
            "propose_merge",
            {
                "object_type": "lead",
                "records": [*refs(first), ghost],
                "survivor_id": first.id,
                "rationale": "x",
            },
        ),
    )

    assert "lead L-GHOST does not exist" in results[0]["content"]
    assert stack.approvals.recent() == []
    assert stack.crm.get("lead", second.id) is not None


def test_reads_are_limited_to_the_records_of_the_cases(stack: Stack, fake: FakeAnthropic) -> None:
    first, _ = _pair(stack)
    other = stack.lead(
        first_name="Private", last_name="Person", email="private@elsewhere.io", phone="+14155550199"
    )

    results = _run(
        stack,
        fake,
        tool_use("get_record", {"object_type": "lead", "record_id": first.id, "fields": ["status", "ssn"]}),
        tool_use("get_record", {"object_type": "lead", "record_id": other.id, "fields": ["email"]}),
        tool_use("list_candidates", {"record_id": first.id}),
    )

    assert "<crm_data>" in results[0]["content"]
    assert '"status":"New"' in results[0]["content"]
    assert "ssn" not in results[0]["content"]
    assert results[1]["is_error"] is True
    assert "private@elsewhere.io" not in results[1]["content"]
    assert '"similarity"' in results[2]["content"]
