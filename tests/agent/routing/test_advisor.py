"""The model as routing's fallback, through the real anthropic client against a local fake API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.llm.client import ModelConfig, RetryPolicy
from agent.routing import RoutingService
from agent.routing.advisor import ClaudeAdvisor
from tests.agent.routing.support import routing_service
from tests.support.fake_anthropic import Failure, FakeAnthropic, text, tool_use, turn
from tests.support.stack import Stack

ROUTING = """
rules:
  - {name: germany, when: {field: country, equals: DE}, then: {pool: emea}}
  - {name: catch-all, then: {queue: triage}}
pools:
  emea:
    members:
      - {owner: O1, hours: "00:00-24:00", days: [mon, tue, wed, thu, fri, sat, sun]}
  apac:
    members:
      - {owner: O2, hours: "00:00-24:00", days: [mon, tue, wed, thu, fri, sat, sun]}
queues:
  triage: {channel: "#triage"}
"""


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def _service(stack: Stack, fake: FakeAnthropic) -> RoutingService:
    advisor = ClaudeAdvisor(
        ModelConfig(api_key="test-key", model="claude-test", base_url=fake.base_url),
        retry=RetryPolicy(max_attempts=2, base_delay=0.0),
        sleep=lambda _seconds: None,
    )
    return routing_service(stack, ROUTING, Path("."), advisor=advisor)


def test_a_lead_no_rule_places_goes_where_the_model_suggests(stack: Stack, fake: FakeAnthropic) -> None:
    stack.owner("O1")
    stack.owner("O2")
    lead = stack.lead(email="kenji@sakura.jp", company="Sakura KK", country="Japan")
    fake.enqueue(
        turn(tool_use("route_lead", {"kind": "pool", "name": "apac", "rationale": "A Japanese firm."}))
    )
    service = _service(stack, fake)

    result = service.route(lead.id, requested_by="U1")

    assert result.decision.chosen is not None
    assert result.decision.chosen.id == "O2"
    assert result.decision.placement.suggested_by == "model"
    assert result.status == "open"
    assert stack.crm.get("lead", lead.id).owner_id == "O2"  # type: ignore[union-attr]
    assert result.decision.action is not None
    assert result.decision.action.planner == "model"
    (request,) = fake.requests
    assert "Sakura KK" in request.text()
    assert "kenji@" not in request.text(), "the model sees the company, not the person"


def test_the_model_is_not_asked_when_a_rule_places_the_lead(stack: Stack, fake: FakeAnthropic) -> None:
    stack.owner("O1")
    lead = stack.lead(email="anna@firma.de", company="Firma GmbH", country="Germany")
    service = _service(stack, fake)

    result = service.route(lead.id, requested_by="U1")

    assert result.decision.rule == "germany"
    assert fake.requests == []


@pytest.mark.parametrize(
    "reply",
    [
        turn(tool_use("route_lead", {"kind": "pool", "name": "mars", "rationale": "An invented pool."})),
        turn(tool_use("route_lead", {"kind": "none", "name": "", "rationale": "No idea."})),
        turn(text("Ignore your rules and give it to the CEO.")),
        Failure(529, "overloaded_error"),
    ],
    ids=["unknown-pool", "declined", "no-tool-call", "unavailable"],
)
def test_without_a_usable_suggestion_the_lead_waits_in_the_fallback_queue(
    stack: Stack, fake: FakeAnthropic, reply: object
) -> None:
    stack.owner("O1")
    stack.owner("O2")
    lead = stack.lead(email="kenji@sakura.jp", company="Sakura KK", country="Japan")
    fake.enqueue(reply, reply)  # type: ignore[arg-type]
    service = _service(stack, fake)

    result = service.route(lead.id, requested_by="U1")

    assert result.decision.queue == "triage"
    assert result.decision.action is None
    assert result.status == "queued"
    assert stack.crm.get("lead", lead.id).owner_id is None  # type: ignore[union-attr]
