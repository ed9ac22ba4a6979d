"""``revgate serve`` and ``revgate worker``: the Slack bot, over HTTP or Socket Mode."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from bot.app import build_app
from bot.cli.common import reported_errors, settings
from bot.runtime import build_runtime
from bot.server import WORKER_NICENESS, run_worker, serve_http, serve_socket


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 3000,
    socket: Annotated[
        bool, typer.Option("--socket", help="Socket Mode (default when SLACK_APP_TOKEN is set).")
    ] = False,
    threads: Annotated[int, typer.Option(min=1, help="HTTP worker threads.")] = 32,
    worker: Annotated[
        bool, typer.Option(help="Also run the outbox and card sync here (--no-worker: run `revgate worker`).")
    ] = True,
    scheduler: Annotated[
        bool, typer.Option(help="Run scheduled jobs here (REVGATE_SCHEDULER=off too).")
    ] = True,
) -> None:
    """Run the Slack bot: HTTP mode on /slack/events (and /healthz), or Socket Mode."""
    _logging()
    config = settings()
    with reported_errors():
        runtime = build_runtime(config)
        app = build_app(runtime)
        if socket or config.slack_app_token is not None:
            serve_socket(runtime, app, scheduler=scheduler)
        else:
            serve_http(
                runtime,
                app,
                host=host,
                port=port,
                threads=threads,
                background=worker,
                scheduler=scheduler,
            )


def worker(
    scheduler: Annotated[
        bool, typer.Option(help="Run scheduled jobs here (REVGATE_SCHEDULER=off too).")
    ] = True,
    nice: Annotated[
        int,
        typer.Option(min=0, max=19, help="Run at this much lower CPU priority than `serve` (0: the same)."),
    ] = WORKER_NICENESS,
) -> None:
    """Execute approved changes, keep cards up to date, run scheduled jobs (beside `serve --no-worker`)."""
    _logging()
    config = settings()
    with reported_errors():
        run_worker(build_runtime(config, poll_interval=0.25), scheduler=scheduler, niceness=nice)
