"""What one run may spend on the model: calls, tokens and wall time.

The budget is checked before every call; a run that reaches any limit stops
asking the model and finishes on its rules (the report says which limit). Time
comes from an injected monotonic clock so tests never sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.llm.accounting import TokenUsage


@dataclass(frozen=True)
class LLMBudget:
    """Limits per run (and per batch for the tool loop)."""

    max_calls: int = 40
    """Messages API requests per run (retries not counted; they have their own bound)."""
    max_input_tokens: int = 600_000
    """Uncached + cache-write + cache-read input tokens per run."""
    max_output_tokens: int = 60_000
    max_seconds: float = 300.0
    """Wall time for the whole consultation, retries and back-off included."""
    max_tokens_per_call: int = 4096
    """The ``max_tokens`` of each request."""
    max_steps_per_batch: int = 4
    """Model turns for one batch of cases (one is enough when the model answers every case)."""
    batch_records: int = 60
    """Records per batch: the model sees this many at most in one conversation."""


class BudgetMeter:
    """Tracks one run's spending against an :class:`LLMBudget`."""

    def __init__(self, budget: LLMBudget, usage: TokenUsage, monotonic: Callable[[], float]) -> None:
        self.budget = budget
        self.usage = usage
        self._monotonic = monotonic
        self._started = monotonic()

    def elapsed(self) -> float:
        return self._monotonic() - self._started

    def remaining_seconds(self) -> float:
        return max(0.0, self.budget.max_seconds - self.elapsed())

    def exhausted(self) -> str | None:
        """Which limit is reached (``"calls"``, ``"input_tokens"``, ...), or ``None``."""
        budget, usage = self.budget, self.usage
        if usage.calls >= budget.max_calls:
            return f"calls: {usage.calls} of {budget.max_calls}"
        if usage.total_input_tokens >= budget.max_input_tokens:
            return f"input_tokens: {usage.total_input_tokens:,} of {budget.max_input_tokens:,}"
        if usage.output_tokens >= budget.max_output_tokens:
            return f"output_tokens: {usage.output_tokens:,} of {budget.max_output_tokens:,}"
        if self.elapsed() >= budget.max_seconds:
            return f"wall time: {self.elapsed():.1f}s of {budget.max_seconds:.0f}s"
        return None
