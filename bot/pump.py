"""Drains the outbox in the background: woken after an approval, and every few seconds anyway.

On start (its first pass) the pump returns to the outbox whatever a previous
run of the same worker id left claimed (a killed process); on stop it lets the
row in flight finish and hands back a row it claimed but had not started.
See :mod:`agent.outbox` for the whole contract.
"""

from __future__ import annotations

import threading

from agent.outbox import OutboxWorker
from bot.background import BackgroundLoop


class OutboxPump(BackgroundLoop):
    def __init__(self, worker: OutboxWorker, *, poll_interval: float = 5.0) -> None:
        super().__init__("revgate-outbox", self._drain, wake=threading.Event(), poll_interval=poll_interval)
        self._worker = worker
        self._recovered = False

    def _drain(self) -> None:
        if not self._recovered:  # in the pass, not in start(): a database that is down gets retried
            self._worker.recover_own_claims()
            self._recovered = True
        # Between rows, and before starting one, the drain looks at whether we are stopping.
        self._worker.drain(stopping=lambda: self.stopping)
