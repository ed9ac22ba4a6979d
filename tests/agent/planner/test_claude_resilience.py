"""429, 500 and 529 are retried within bounds; then (or with no key, or past a budget) the rules finish."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.llm.budget import LLMBudget
from tests.agent.llm.support import Ticks, audit_events, claude_planner, duplicate_pair, run_stats
from tests.support.fake_anthropic import (
    Failure,
    FakeAnthropic,
    overloaded,
    rate_limited,
    server_error,
    tool_use,
    turn,
)
from tests.support.stack import Stack

SKIP_ALL = turn(tool_use("skip_cases", {"case_ids": ["c1", "c2"]}))


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def _scene(stack: Stack) -> None:
    """Open cases for the model, and one change the rules make on their own."""
    duplicate_pair(stack)
    stack.lead(first_name="Rain", last_name="Maker", email="rain@maker.io", title="Rainmaker")
    stack.lead(first_name="Sam", last_name="Seller", email="sam@seller.io", title="Sales Manager")


@pytest.mark.parametrize(
    ("failure", "described", "sleeps"),
    [
        (rate_limited(retry_after=2), "429 rate_limit_error", [2.0, 2.0]),
        (server_error(), "500 api_error", [0.5, 1.0]),
        (overloaded(), "529 overloaded_error", [0.5, 1.0]),
    ],
)
def test_failures_are_retried_then_the_run_finishes_on_the_rules(
    stack: Stack, fake: FakeAnthropic, failure: Failure, described: str, sleeps: list[float]
) -> None:
    _scene(stack)
    fake.enqueue(failure, failure, failure)
    ticks = Ticks()

    report = stack.services.runner.run(claude_planner(stack, fake, ticks=ticks))

    assert len(fake.requests) == 3  # one try and two retries, then no more
    assert ticks.sleeps == sleeps  # retry-after when given, else exponential back-off
    stats = run_stats(stack, report)
    assert stats["planner"]["fallback"] == f"model unavailable: {described} after 3 attempt(s)"
    assert (stats["planner"]["calls"], stats["planner"]["failed_calls"]) == (0, 3)
    assert [o.action.check for o in report.with_disposition("executed")] == ["job_title"]  # the rules' part
    [fallback] = audit_events(stack, "planner_fallback")
    assert fallback.payload["undecided_cases"] == 2
    assert fallback.payload["finished_on"] == "offline rules"
    assert audit_events(stack, "run_finished")[-1].payload["status"] == "completed"


def test_a_failure_then_an_answer_carries_on(stack: Stack, fake: FakeAnthropic) -> None:
    _scene(stack)
    fake.enqueue(overloaded(), rate_limited(retry_after=0), SKIP_ALL)

    report = stack.services.runner.run(claude_planner(stack, fake))

    planner = run_stats(stack, report)["planner"]
    assert (planner["calls"], planner["failed_calls"], planner["retries"]) == (1, 2, 2)
    assert planner["fallback"] is None
    assert planner["decided"] == 2


def test_a_rejected_key_is_not_retried(stack: Stack, fake: FakeAnthropic) -> None:
    _scene(stack)
    fake.enqueue(Failure(401, "authentication_error", "invalid x-api-key"))

    report = stack.services.runner.run(claude_planner(stack, fake))

    assert len(fake.requests) == 1
    assert run_stats(stack, report)["planner"]["fallback"] == (
        "model unavailable: 401 authentication_error (not retried)"
    )


def test_retries_never_sleep_past_the_wall_time_budget(stack: Stack, fake: FakeAnthropic) -> None:
    _scene(stack)
    fake.enqueue(rate_limited(retry_after=30), SKIP_ALL)
    ticks = Ticks()

    report = stack.services.runner.run(
        claude_planner(stack, fake, ticks=ticks, budget=LLMBudget(max_seconds=10))
    )

    assert ticks.sleeps == []
    assert len(fake.requests) == 1
    assert "429 rate_limit_error after 1 attempt(s)" in run_stats(stack, report)["planner"]["fallback"]


def test_without_a_key_the_run_finishes_on_the_rules_and_says_so(stack: Stack, fake: FakeAnthropic) -> None:
    _scene(stack)

    report = stack.services.runner.run(claude_planner(stack, None))

    assert fake.requests == []
    planner = run_stats(stack, report)["planner"]
    assert planner["fallback"] == "no ANTHROPIC_API_KEY is set"
    assert (planner["cases"], planner["undecided"], planner["calls"]) == (2, 2, 0)
    assert report.count("executed") == 1
    assert audit_events(stack, "planner_fallback")[0].payload["reason"] == "no ANTHROPIC_API_KEY is set"


def test_the_call_budget_ends_the_consultation_cleanly(stack: Stack, fake: FakeAnthropic) -> None:
    _scene(stack)
    fake.enqueue(SKIP_ALL, SKIP_ALL)

    report = stack.services.runner.run(
        claude_planner(stack, fake, budget=LLMBudget(max_calls=1, batch_records=2))
    )

    planner = run_stats(stack, report)["planner"]
    assert len(fake.requests) == 1
    assert planner["fallback"] == "budget exhausted: calls: 1 of 1"
    assert (planner["batches"], planner["decided"], planner["undecided"]) == (1, 1, 1)
    assert audit_events(stack, "run_finished")[-1].payload["status"] == "completed"


def test_the_token_budget_ends_the_consultation_cleanly(stack: Stack, fake: FakeAnthropic) -> None:
    _scene(stack)
    heavy = {"input_tokens": 9_000, "output_tokens": 50}
    fake.enqueue(turn(tool_use("skip_cases", {"case_ids": ["c1"]}), usage=heavy), SKIP_ALL)

    report = stack.services.runner.run(
        claude_planner(stack, fake, budget=LLMBudget(max_input_tokens=5_000, batch_records=2))
    )

    planner = run_stats(stack, report)["planner"]
    assert len(fake.requests) == 1
    assert planner["fallback"] == "budget exhausted: input_tokens: 9,000 of 5,000"
    assert planner["input_tokens"] == 9_000


def test_a_model_that_never_settles_its_batch_stops_at_the_step_limit(
    stack: Stack, fake: FakeAnthropic
) -> None:
    _scene(stack)
    first = stack.crm.search("lead", "first_name", "Jonathan")[0]
    looking = turn(tool_use("get_record", {"object_type": "lead", "record_id": first.id, "fields": ["city"]}))
    fake.enqueue(looking, looking, looking)

    report = stack.services.runner.run(claude_planner(stack, fake, budget=LLMBudget(max_steps_per_batch=3)))

    planner = run_stats(stack, report)["planner"]
    assert len(fake.requests) == 3
    assert planner["undecided"] == 2
    assert planner["fallback"] is None  # a stubborn batch is not an outage; the rest of the run goes on
    assert fake.requests[2].messages[-1]["content"][0]["type"] == "tool_result"
