"""Token totals, the cost estimate, and the budget meter."""

from __future__ import annotations

from types import SimpleNamespace

from agent.llm.accounting import TokenUsage, cost_estimate, price_of
from agent.llm.budget import BudgetMeter, LLMBudget


def _usage(**counts: int) -> SimpleNamespace:
    base = {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": None,
        "cache_read_input_tokens": None,
    }
    return SimpleNamespace(**(base | counts))


def test_cache_writes_cost_more_and_cache_reads_less_than_plain_input() -> None:
    usage = TokenUsage()
    usage.add(_usage(input_tokens=1_000_000))
    plain = cost_estimate("claude-sonnet-5-5", usage)
    written, read = TokenUsage(), TokenUsage()
    written.add(_usage(cache_creation_input_tokens=1_000_000))
    read.add(_usage(cache_read_input_tokens=1_000_000))

    assert plain == 3.0
    assert cost_estimate("claude-sonnet-5-5", written) == 3.75
    assert cost_estimate("claude-sonnet-5-5", read) == 0.3


def test_prices_go_by_model_family_and_unknown_models_are_priced_as_sonnet() -> None:
    assert price_of("claude-haiku-4-5") == (1.0, 5.0)
    assert price_of("claude-opus-5") == (5.0, 25.0)
    assert price_of("some-future-model") == price_of("claude-sonnet-4-6")


def test_the_meter_names_the_limit_that_is_reached() -> None:
    now = [0.0]
    usage = TokenUsage()
    meter = BudgetMeter(LLMBudget(max_calls=2, max_output_tokens=100, max_seconds=60), usage, lambda: now[0])

    assert meter.exhausted() is None
    usage.add(_usage(input_tokens=10, output_tokens=150))
    assert meter.exhausted() == "output_tokens: 150 of 100"
    usage.add(_usage())
    assert meter.exhausted() == "calls: 2 of 2"
    meter = BudgetMeter(LLMBudget(max_seconds=60), TokenUsage(), lambda: now[0])
    now[0] = 61.0
    assert meter.exhausted() == "wall time: 61.0s of 60s"
    assert meter.remaining_seconds() == 0.0
