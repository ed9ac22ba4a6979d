"""How remote adapters wait out 429s and brief outages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agent.crm.retry import Retrying
from agent.errors import CRMAuthError, CRMRateLimitedError, CRMUnavailableError


def _failing(*errors: Exception) -> tuple[Callable[[], str], list[int]]:
    """A request that raises ``errors`` in turn, then answers "ok"; and its call count."""
    calls = [0]

    def request() -> str:
        calls[0] += 1
        if calls[0] <= len(errors):
            raise errors[calls[0] - 1]
        return "ok"

    return request, calls


def test_a_429_is_retried_after_the_wait_it_asked_for() -> None:
    waits: list[float] = []
    request, calls = _failing(CRMRateLimitedError("slow down", retry_after=7))

    assert Retrying(sleep=waits.append).call(request) == "ok"

    assert waits == [7]
    assert calls[0] == 2


def test_a_retry_after_longer_than_the_longest_wait_is_raised_not_slept() -> None:
    waits: list[float] = []
    request, calls = _failing(CRMRateLimitedError("daily limit", retry_after=3600))

    with pytest.raises(CRMRateLimitedError) as raised:
        Retrying(max_wait=30, sleep=waits.append).call(request)

    assert raised.value.retry_after == 3600
    assert waits == []
    assert calls[0] == 1


def test_without_retry_after_the_waits_double() -> None:
    waits: list[float] = []
    request, _ = _failing(
        CRMRateLimitedError("limited"), CRMUnavailableError("503"), CRMRateLimitedError("limited")
    )

    assert Retrying(attempts=4, first_wait=0.5, sleep=waits.append).call(request) == "ok"

    assert waits == [0.5, 1.0, 2.0]


def test_the_last_failure_is_raised_after_every_attempt() -> None:
    waits: list[float] = []
    request, calls = _failing(*[CRMUnavailableError("502")] * 5)

    with pytest.raises(CRMUnavailableError):
        Retrying(attempts=3, sleep=waits.append).call(request)

    assert calls[0] == 3
    assert len(waits) == 2


def test_an_unavailable_crm_is_not_retried_when_the_request_may_have_been_applied() -> None:
    request, calls = _failing(CRMUnavailableError("500"))

    with pytest.raises(CRMUnavailableError):
        Retrying(sleep=lambda _: None).call(request, retry_unavailable=False)

    assert calls[0] == 1


def test_an_auth_error_is_never_retried() -> None:
    request, calls = _failing(CRMAuthError("token expired"))

    with pytest.raises(CRMAuthError):
        Retrying(sleep=lambda _: None).call(request)

    assert calls[0] == 1
