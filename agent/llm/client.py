"""The anthropic client, opened per run, with bounded retries we control.

The SDK's own retries are switched off (``max_retries=0``) and this module
retries instead: 429 (honouring ``retry-after``), 500-class answers, 529
overloaded and connection failures, at most ``RetryPolicy.max_attempts`` times,
with exponential back-off that never sleeps past the run's wall-time budget.
Owning the loop lets the sleep be injected (tests never wait) and lets the
budget, not the SDK, decide when to give up. Anything else (a bad key, a
malformed request) is not worth a retry. Either way the caller gets
:class:`ModelUnavailableError` and the run finishes on its rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anthropic
from anthropic.types import Message

from agent.errors import AgentError
from agent.llm.budget import BudgetMeter

log = logging.getLogger(__name__)


class ModelUnavailableError(AgentError):
    """The model could not be reached (after retries) or refused the request."""

    def __init__(self, reason: str, *, status: int | None = None, attempts: int = 1) -> None:
        self.reason = reason
        self.status = status
        self.attempts = attempts
        super().__init__(reason)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    """Tries per request, the first included (the SDK's default is also 1 + 2 retries)."""
    base_delay: float = 0.5
    max_delay: float = 8.0
    """Back-off cap; a longer ``retry-after`` is honoured up to ``max_retry_after``."""
    max_retry_after: float = 60.0


@dataclass(frozen=True)
class ModelConfig:
    """How to reach the model; built from settings by the composition root."""

    api_key: str = field(repr=False)
    model: str
    base_url: str | None = None
    """``None`` is the SDK's default (api.anthropic.com); tests point it at 127.0.0.1."""
    request_timeout: float = 120.0


class ModelClient:
    """Sends Messages API requests for one run; see :func:`open_client`."""

    def __init__(
        self,
        sdk: anthropic.Anthropic,
        config: ModelConfig,
        *,
        meter: BudgetMeter,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
    ) -> None:
        self._sdk = sdk
        self.model = config.model
        self._timeout = config.request_timeout
        self._meter = meter
        self._retry = retry
        self._sleep = sleep
        self.retries = 0

    def create(
        self,
        *,
        system: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]],
        messages: list[dict[str, Any]],
    ) -> Message:
        """One Messages API call, retried within bounds; its usage is added to the meter.

        Raises:
            ModelUnavailableError: retries exhausted, no time left, or a non-retryable answer.
        """
        attempt = 0
        while True:
            attempt += 1
            timeout = max(1.0, min(self._timeout, self._meter.remaining_seconds()))
            try:
                message = self._sdk.messages.create(
                    model=self.model,
                    max_tokens=self._meter.budget.max_tokens_per_call,
                    system=system,  # type: ignore[arg-type]
                    tools=tools,  # type: ignore[arg-type]
                    messages=messages,  # type: ignore[arg-type]
                    timeout=timeout,
                )
            except (
                anthropic.RateLimitError,
                anthropic.InternalServerError,
                anthropic.APIConnectionError,
            ) as error:
                self._meter.usage.failed_calls += 1
                delay = self._delay(error, attempt)
                status = getattr(error, "status_code", None)
                if attempt >= self._retry.max_attempts or delay >= self._meter.remaining_seconds():
                    raise ModelUnavailableError(
                        f"{_describe(error)} after {attempt} attempt(s)", status=status, attempts=attempt
                    ) from error
                log.warning(
                    "model call failed (%s), attempt %d; retrying in %.2fs", _describe(error), attempt, delay
                )
                self.retries += 1
                self._sleep(delay)
                continue
            except anthropic.APIStatusError as error:
                self._meter.usage.failed_calls += 1
                raise ModelUnavailableError(
                    f"{_describe(error)} (not retried)", status=error.status_code, attempts=attempt
                ) from error
            self._meter.usage.add(message.usage)
            return message

    def _delay(self, error: Exception, attempt: int) -> float:
        """``retry-after`` when the API sends one, else exponential back-off."""
        response = getattr(error, "response", None)
        header = response.headers.get("retry-after") if response is not None else None
        if header is not None:
            try:
                return min(max(float(header), 0.0), self._retry.max_retry_after)
            except ValueError:
                pass
        return float(min(self._retry.base_delay * 2 ** (attempt - 1), self._retry.max_delay))


@contextmanager
def open_client(
    config: ModelConfig, *, meter: BudgetMeter, retry: RetryPolicy, sleep: Callable[[float], None]
) -> Iterator[ModelClient]:
    """A client for one run, closed (with its connection pool) when the run is done."""
    sdk = anthropic.Anthropic(
        api_key=config.api_key, base_url=config.base_url, max_retries=0, timeout=config.request_timeout
    )
    try:
        yield ModelClient(sdk, config, meter=meter, retry=retry, sleep=sleep)
    finally:
        sdk.close()


def _describe(error: Exception) -> str:
    """``"429 rate_limit_error"``, ``"529 overloaded_error"``, ``"connection error"``."""
    if isinstance(error, anthropic.APIStatusError):
        body = error.body if isinstance(error.body, dict) else {}
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        kind = inner.get("type", "") if isinstance(inner, dict) else ""
        return f"{error.status_code} {kind}".strip()
    if isinstance(error, anthropic.APITimeoutError):
        return "timeout"
    return "connection error"
