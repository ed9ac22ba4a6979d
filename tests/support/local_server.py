"""The lifecycle the local fake APIs share: serve on a free 127.0.0.1 port in a background thread."""

from __future__ import annotations

import socketserver
import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Generic, Self, TypeVar

Fake = TypeVar("Fake")


class LoopbackServer(ThreadingHTTPServer, Generic[Fake]):
    """An HTTP server on a free 127.0.0.1 port whose handler reaches its fake as ``self.server.fake``.

    Handler threads are joined on close, so ``stop()`` returns after the last reply.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: Fake, handler: type[BaseHTTPRequestHandler]) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name; nothing here needs DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]


class LocalServer(ABC):
    """Subclasses build their server in ``_make_server``; this starts, stops and reports its port."""

    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @abstractmethod
    def _make_server(self) -> ThreadingHTTPServer:
        """A server bound to a free port of 127.0.0.1, not yet serving."""

    def start(self) -> None:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        server = self._make_server()
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread

    def stop(self) -> None:
        """Stop serving, wait for in-flight requests and close the socket (idempotent)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        thread.join()
        server.server_close()
        self._server = self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return int(self._server.server_address[1])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
