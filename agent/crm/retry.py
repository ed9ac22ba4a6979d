"""How a remote CRM adapter waits out rate limits and brief outages.

Only requests that are safe to send twice go through :meth:`Retrying.call`: every
read, and any request the CRM refused with 429 (a 429 means it was not processed).
A write that met a 5xx may have been applied, so the adapter does not re-send it:
it raises :class:`~agent.errors.CRMUnavailableError` and leaves its ledger entry
``started`` for the next attempt to resolve (see :mod:`agent.crm.ledger`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from agent.errors import CRMRateLimitedError, CRMUnavailableError

_T = TypeVar("_T")


@dataclass(frozen=True)
class Retrying:
    """Try a request up to ``attempts`` times, sleeping between tries.

    A 429's ``Retry-After`` is honoured as given; one longer than ``max_wait`` is not
    waited out here but raised, so the outbox retries the write later instead of a
    worker thread sleeping for minutes. Without a ``Retry-After`` (and after a 5xx)
    the waits double from ``first_wait``.
    """

    attempts: int = 4
    first_wait: float = 0.5
    max_wait: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def call(self, request: Callable[[], _T], *, retry_unavailable: bool = True) -> _T:
        """``request()``, retried on ``CRMRateLimitedError`` (and ``CRMUnavailableError`` if asked)."""
        wait = self.first_wait
        for attempt in range(1, self.attempts + 1):
            try:
                return request()
            except CRMRateLimitedError as limited:
                pause = limited.retry_after if limited.retry_after is not None else wait
                if attempt == self.attempts or pause > self.max_wait:
                    raise
            except CRMUnavailableError:
                if not retry_unavailable or attempt == self.attempts:
                    raise
                pause = wait
            self.sleep(pause)
            wait = min(wait * 2, self.max_wait)
        raise AssertionError("unreachable: the last attempt returns or raises")
