"""The bolt App, built from the runtime; one execution model (sync, threads) throughout."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App

from agent.errors import SettingsError
from bot.listeners.actions import ApprovalActions
from bot.listeners.commands import Commands
from bot.listeners.home import Home
from bot.listeners.views import ApprovalViews
from bot.runtime import SlackRuntime

log = logging.getLogger(__name__)


def build_app(runtime: SlackRuntime, *, listener_threads: int = 64) -> App:
    """A bolt App whose listeners ack first and do their work after the ack.

    Raises:
        SettingsError: ``SLACK_SIGNING_SECRET`` is not set.
    """
    settings = runtime.settings
    if settings.slack_signing_secret is None:
        raise SettingsError("SLACK_SIGNING_SECRET: required to verify requests from Slack")
    app = App(
        client=runtime.client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # The work after ack() runs on this pool; it must be large enough that a
        # burst of clicks never waits for a thread before it can be acked.
        listener_executor=ThreadPoolExecutor(
            max_workers=listener_threads, thread_name_prefix="revgate-listener"
        ),
        process_before_response=False,
        token_verification_enabled=False,
    )
    ApprovalActions(runtime).register(app)
    ApprovalViews(runtime).register(app)
    Commands(runtime).register(app)
    Home(runtime).register(app)

    @app.error
    def _on_error(error: Exception, body: dict[str, Any]) -> None:
        log.exception("listener failed for %s: %s", body.get("type"), error, exc_info=error)

    return app
