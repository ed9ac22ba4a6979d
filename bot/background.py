"""A daemon thread that runs a pass when woken, and every ``poll_interval`` seconds anyway."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundLoop:
    def __init__(
        self, name: str, run_pass: Callable[[], object], *, wake: threading.Event, poll_interval: float
    ) -> None:
        self._name = name
        self._run_pass = run_pass
        self._wake = wake
        self._poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        """True once ``stop`` was called: a pass in flight should wind down."""
        return self._stop.is_set()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Let the pass in flight finish; whatever is left stays in the database.

        True when the thread ended within ``timeout``. When it did not (a call
        that hangs), the process may exit under it: the database still says
        what was left half-done, and the next start picks it up.
        """
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("%s: still busy after %.0f s; leaving it to the next start", self._name, timeout)
            return False
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._poll_interval)
            self._wake.clear()
            if self._stop.is_set():  # woken by stop(): no new pass
                break
            try:
                self._run_pass()
            except Exception:  # the loop must survive anything; the next pass retries
                log.exception("%s: pass failed", self._name)
