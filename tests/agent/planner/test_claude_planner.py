"""The Claude planner's happy path, through the real anthropic client and a local fake API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.models import Record
from tests.agent.llm.support import (
    MODEL,
    audit_events,
    claude_planner,
    duplicate_pair,
    refs,
    run_stats,
    targets,
)
from tests.support.fake_anthropic import FakeAnthropic, FakeRequest, Turn, tool_use, turn
from tests.support.stack import Stack


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def _judge(request: FakeRequest) -> Turn:
    """A model that merges every possible duplicate and places every title in HR."""
    calls = []
    for case in request.data_blocks()[0]["cases"]:
        if case["task"] == "possible_duplicate":
            records = case["records"]
            calls.append(
                tool_use(
                    "propose_merge",
                    {
                        "object_type": "lead",
                        "records": [{"record_id": r["id"], "version": r["version"]} for r in records],
                        "survivor_id": records[0]["id"],
                        "rationale": "Same phone and company; the first name differs by one letter.",
                        "confidence": 0.92,
                    },
                )
            )
        else:
            record = case["record"]
            calls.append(
                tool_use(
                    "propose_enrich_data",
                    {
                        "object_type": case["object_type"],
                        "targets": [
                            {
                                "record_id": record["id"],
                                "version": record["version"],
                                "changes": {"job_function": "human_resources", "seniority": "c_level"},
                            }
                        ],
                        "rationale": "A chief officer for employee happiness leads HR.",
                    },
                )
            )
    return turn(*calls)


def _scene(stack: Stack) -> tuple[Record, Record, Record]:
    first, second = duplicate_pair(stack, title="Sales Manager")
    stack.crm.update(
        "lead", first.id, {"title": "Sales Manager"}, expected_version=first.version, idempotency_key="k"
    )
    first = stack.crm.get("lead", first.id)  # type: ignore[assignment]
    odd = stack.lead(
        first_name="Ada",
        last_name="Lovelace",
        company="Initech",
        email="ada@initech.com",
        title="Chief Happiness Officer",
    )
    return first, second, odd


def test_rules_first_then_one_call_for_what_rules_leave_open(stack: Stack, fake: FakeAnthropic) -> None:
    first, second, odd = _scene(stack)
    fake.enqueue(_judge)

    report = stack.services.runner.run(claude_planner(stack, fake))

    assert len(fake.requests) == 1
    by_check = {(o.action.check, o.action.planner, o.disposition) for o in report.outcomes}
    assert by_check == {
        ("job_title", "offline", "executed"),  # "Sales Manager": the keyword table knows it
        ("fuzzy_duplicate", "claude", "queued"),
        ("job_title", "claude", "executed"),
    }
    enriched = stack.crm.get("lead", odd.id)
    assert enriched is not None
    assert (enriched.get("job_function"), enriched.get("seniority")) == ("human_resources", "c_level")
    merge = next(o for o in report.outcomes if o.action.kind == "merge")
    assert merge.verdict.rule == "requires_approval: merge"
    approval = stack.approvals.get(merge.approval_id)  # type: ignore[arg-type]
    assert approval.action.planner == "claude"
    assert approval.action.rationale.startswith("Same phone and company")
    assert approval.action.evidence["similarity"] >= 0.8
    # The rules enriched the pair before the model saw it; the gate moved the merge onto those versions.
    assert {t.record_id: t.version for t in approval.action.targets} == {
        r.id: stack.crm.get("lead", r.id).version  # type: ignore[union-attr]
        for r in (first, second)
    }


def test_the_request_is_cached_minimal_and_names_the_configured_model(
    stack: Stack, fake: FakeAnthropic
) -> None:
    _scene(stack)
    fake.enqueue(_judge)

    stack.services.runner.run(claude_planner(stack, fake))

    body = fake.requests[0].body
    assert body["model"] == MODEL
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert {t["name"] for t in body["tools"]} >= {"get_record", "propose_merge", "propose_enrich_data"}
    cases = fake.requests[0].data_blocks()[0]["cases"]
    assert [c["task"] for c in cases] == ["possible_duplicate", "job_title"]
    assert set(cases[1]["record"]) == {"id", "version", "title"}  # only what the case needs
    assert "status" not in cases[0]["records"][0]


def test_usage_tokens_and_cost_are_in_the_run_stats_and_its_audit_event(
    stack: Stack, fake: FakeAnthropic
) -> None:
    _scene(stack)
    fake.enqueue(_judge)

    report = stack.services.runner.run(claude_planner(stack, fake))

    planner = run_stats(stack, report)["planner"]
    assert planner["calls"] == 1
    assert planner["model"] == MODEL
    assert planner["cache_creation_input_tokens"] > 0
    assert planner["input_tokens"] > 0
    assert planner["output_tokens"] > 0
    assert planner["cost_usd"] > 0
    assert planner["fallback"] is None
    assert (planner["cases"], planner["decided"], planner["undecided"]) == (2, 2, 0)
    finished = audit_events(stack, "run_finished")[-1]
    assert finished.payload["planner"]["calls"] == 1
    calls = audit_events(stack, "model_tool_call")
    assert [e.payload["tool"] for e in calls] == ["propose_merge", "propose_enrich_data"]
    assert "queued for approval" in calls[0].payload["result"]


def test_a_second_batch_reads_the_cached_prompt(stack: Stack, fake: FakeAnthropic) -> None:
    from agent.llm.budget import LLMBudget

    _scene(stack)
    fake.enqueue(_judge, _judge)

    report = stack.services.runner.run(claude_planner(stack, fake, budget=LLMBudget(batch_records=2)))

    planner = run_stats(stack, report)["planner"]
    assert (planner["batches"], planner["calls"]) == (2, 2)
    assert planner["cache_read_input_tokens"] > 0


def test_rejection_reasons_for_the_records_are_in_the_prompt(stack: Stack, fake: FakeAnthropic) -> None:
    first, second, _ = _scene(stack)
    fake.enqueue(_judge)
    report = stack.services.runner.run(claude_planner(stack, fake))
    merge = next(o for o in report.outcomes if o.action.kind == "merge")
    stack.approvals.reject(merge.approval_id, "U0APPROVER", "father and son, not one person")  # type: ignore[arg-type]
    fake.enqueue(turn(tool_use("skip_cases", {"case_ids": ["c1"]})))

    stack.services.runner.run(claude_planner(stack, fake))

    rejected = fake.requests[1].data_blocks()[0]["rejected_before"]
    assert {r["reason"] for r in rejected} == {"father and son, not one person"}
    assert {r["record"] for r in rejected} == {first.id, second.id}


def test_the_same_merge_proposed_again_on_unchanged_records_is_suppressed(
    stack: Stack, fake: FakeAnthropic
) -> None:
    first, second = duplicate_pair(stack)
    merge_call = tool_use(
        "propose_merge",
        {
            "object_type": "lead",
            "records": refs(first, second),
            "survivor_id": first.id,
            "rationale": "Same.",
        },
    )
    fake.enqueue(turn(merge_call))
    report = stack.services.runner.run(claude_planner(stack, fake))
    approval_id = report.with_disposition("queued")[0].approval_id
    stack.approvals.reject(approval_id, "U0APPROVER", "different people")  # type: ignore[arg-type]
    fake.enqueue(turn(merge_call))

    again = stack.services.runner.run(claude_planner(stack, fake))

    assert [o.disposition for o in again.outcomes] == ["suppressed"]
    assert "different people" in again.outcomes[0].verdict.reason
    assert "not proposed again" in audit_events(stack, "model_tool_call")[-1].payload["result"]


def test_a_dry_run_asks_the_model_but_writes_and_queues_nothing(stack: Stack, fake: FakeAnthropic) -> None:
    _, _, odd = _scene(stack)
    fake.enqueue(_judge)

    report = stack.services.runner.run(claude_planner(stack, fake), dry_run=True)

    assert {o.disposition for o in report.outcomes} == {"planned"}
    assert stack.crm.get("lead", odd.id).get("job_function") is None  # type: ignore[union-attr]
    assert stack.approvals.recent() == []


def test_no_cases_no_call(stack: Stack, fake: FakeAnthropic) -> None:
    lead = stack.lead(title="Sales Manager")

    report = stack.services.runner.run(claude_planner(stack, fake))

    assert fake.requests == []
    assert [o.disposition for o in report.outcomes] == ["executed"]
    assert stack.crm.get("lead", lead.id).get("seniority") == "manager"  # type: ignore[union-attr]
    assert run_stats(stack, report)["planner"]["calls"] == 0


def test_targets_helper_matches_the_tool_schema() -> None:
    from agent.llm.tools import tool_definitions

    schema = next(t for t in tool_definitions() if t["name"] == "propose_enrich_data")["input_schema"]
    assert set(schema["properties"]["targets"]["items"]["required"]) == {"record_id", "version", "changes"}
    assert targets  # the helper the gate tests build inputs with
