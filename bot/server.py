"""Serving Slack: HTTP mode under waitress (``/slack/events``, ``/healthz``) or Socket Mode."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from agent.errors import SettingsError
from bot.runtime import SlackRuntime

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def make_wsgi(app: App, runtime: SlackRuntime) -> WSGIApp:
    """``/slack/events`` for Slack, ``/healthz`` for the load balancer; 404 otherwise."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def health() -> tuple[str, dict[str, Any]]:
        try:
            with runtime.services.database.transaction() as session:
                session.execute(text("select 1"))
        except Exception as error:  # any database failure makes the replica unhealthy
            return "503 Service Unavailable", {"ok": False, "database": type(error).__name__}
        return "200 OK", {"ok": True, "database": "ok"}

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/slack/events":
            return slack(environ, start_response)
        if path == "/healthz":
            status, body = health()
            payload = json.dumps(body).encode()
            start_response(
                status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
            )
            return [payload]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return wsgi


WORKER_NICENESS = 19
"""How much lower ``revgate worker`` runs than the web processes (``os.nice``)."""


def make_http_server(
    wsgi: WSGIApp, *, host: str, port: int, threads: int = 32
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server; ``port=0`` picks a free port (see ``.effective_port``)."""
    return create_server(
        wsgi, host=host, port=port, threads=threads, ident="revgate", asyncore_loop_timeout=0.2
    )


def stop_http_server(server: BaseWSGIServer | MultiSocketServer, timeout: int = 10) -> None:
    """Stop accepting, let the requests in flight finish, stop the worker threads.

    The sockets are closed by the server's own loop (through its trigger): closing
    them from another thread while it sits in ``select`` would pull the file
    descriptors from under it.
    """
    closed = threading.Event()
    socket_map = getattr(server, "_map", {})

    def close_everything() -> None:
        for dispatcher in list(socket_map.values()):
            dispatcher.close()
        closed.set()

    server.task_dispatcher.shutdown(timeout=timeout)
    server.trigger.pull_trigger(close_everything)  # type: ignore[union-attr]
    closed.wait(timeout)


def on_stop_signals(stop: Callable[[], None]) -> None:
    """Call ``stop`` once, on the first SIGTERM or SIGINT."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            log.info("signal %d: stopping", signum)
            stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def serve_http(
    runtime: SlackRuntime,
    app: App,
    *,
    host: str,
    port: int,
    threads: int = 32,
    background: bool = True,
    scheduler: bool = True,
) -> None:
    """Run until SIGTERM or SIGINT; then stop the server, finish in-flight work (scheduled runs too), stop."""
    server = make_http_server(make_wsgi(app, runtime), host=host, port=port, threads=threads)
    # Signals first: a SIGTERM while starting must still stop cleanly.
    on_stop_signals(lambda: stop_http_server(server))
    runtime.start(background=background, scheduler=scheduler)
    log.info("serving Slack on http://%s:%s/slack/events", host, getattr(server, "effective_port", port))
    try:
        server.run()
    finally:
        runtime.stop()


def lower_priority(niceness: int = WORKER_NICENESS) -> None:
    """Give this process less CPU than the web processes on the same machine.

    A worker's work can wait a few milliseconds; Slack's acks cannot. Raising
    one's own niceness needs no privileges.
    """
    if niceness > 0:
        os.nice(niceness)


def run_worker(runtime: SlackRuntime, *, scheduler: bool = True, niceness: int = WORKER_NICENESS) -> None:
    """The inbox, the card sync, the outbox and the scheduled jobs, without an HTTP server."""
    done = threading.Event()
    lower_priority(niceness)
    on_stop_signals(done.set)
    runtime.start(background=True, scheduler=scheduler)
    log.info("worker running: outbox, approval cards%s", ", scheduled jobs" if runtime.scheduler else "")
    try:
        done.wait()
    finally:
        runtime.stop()


def serve_socket(runtime: SlackRuntime, app: App, *, scheduler: bool = True) -> None:
    """Socket Mode: no public URL needed; Slack connects out over a websocket."""
    token = runtime.settings.slack_app_token
    if token is None:
        raise SettingsError("SLACK_APP_TOKEN: required for Socket Mode")
    runtime.start(scheduler=scheduler)
    try:
        SocketModeHandler(app, token.get_secret_value()).start()  # type: ignore[no-untyped-call]
    finally:
        runtime.stop()
