"""Token accounting and a cost estimate for the model calls of one run.

Prices are an estimate for the run report, never a bill: US dollars per million
tokens, by model family (the model id's prefix). Cache writes cost 1.25x the
input price and cache reads 0.1x, as Anthropic prices 5-minute prompt caching.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "claude-haiku": (1.00, 5.00),
    "claude-sonnet": (3.00, 15.00),
    "claude-opus": (5.00, 25.00),
}
"""Model family -> (input, output) dollars per million tokens."""
DEFAULT_FAMILY = "claude-sonnet"
"""Unknown model ids are priced as this family (and the report says "estimate")."""
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.10


class UsageLike(Protocol):
    """The ``usage`` of a Messages API response (``anthropic.types.Usage``)."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None


@dataclass
class TokenUsage:
    """Running totals for one run."""

    calls: int = 0
    """Messages API requests that got an answer."""
    failed_calls: int = 0
    """Requests that ended in an error (each retry counts)."""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def add(self, usage: UsageLike) -> None:
        self.calls += 1
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cache_creation_input_tokens += usage.cache_creation_input_tokens or 0
        self.cache_read_input_tokens += usage.cache_read_input_tokens or 0

    @property
    def total_input_tokens(self) -> int:
        """Every input token the API processed: uncached, written to and read from the cache."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def price_of(model: str) -> tuple[float, float]:
    """(input, output) dollars per million tokens for ``model`` (by family prefix)."""
    for family, price in PRICES_PER_MTOK.items():
        if model.startswith(family):
            return price
    return PRICES_PER_MTOK[DEFAULT_FAMILY]


def cost_estimate(model: str, usage: TokenUsage) -> float:
    """Dollars, rounded to a hundredth of a cent."""
    price_in, price_out = price_of(model)
    dollars = (
        usage.input_tokens * price_in
        + usage.cache_creation_input_tokens * price_in * CACHE_WRITE_FACTOR
        + usage.cache_read_input_tokens * price_in * CACHE_READ_FACTOR
        + usage.output_tokens * price_out
    ) / 1_000_000
    return round(dollars, 4)
