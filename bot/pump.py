"""Drains the outbox in the background: woken after an approval, and every few seconds anyway."""

from __future__ import annotations

import threading

from agent.outbox import OutboxWorker
from bot.background import BackgroundLoop


class OutboxPump(BackgroundLoop):
    def __init__(self, worker: OutboxWorker, *, poll_interval: float = 5.0) -> None:
        super().__init__("revgate-outbox", self._drain, wake=threading.Event(), poll_interval=poll_interval)
        self._worker = worker

    def _drain(self) -> None:
        # Rows claimed by a pass that died are retaken after the worker's lease.
        while not self.stopping and self._worker.run_one() is not None:
            pass
