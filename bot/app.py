"""The bolt App, built from the runtime; one execution model (sync, threads) throughout."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from agent.errors import SettingsError
from bot.listeners.actions import ApprovalActions
from bot.listeners.commands import Commands
from bot.listeners.home import Home
from bot.listeners.meetings import MeetingActions
from bot.listeners.views import ApprovalViews
from bot.runtime import SlackRuntime

log = logging.getLogger(__name__)


def build_app(runtime: SlackRuntime) -> App:
    """A bolt App whose listeners ack and hand their work to the runtime's pools.

    Listeners run inline in the request thread (``process_before_response``):
    each one only acks and submits its work, so the HTTP response leaves at
    once. Bolt's default instead runs listeners on a pool and polls for the ack
    every 10 ms; under load that handoff, not our code, dominated ack latency
    (see bench/ack_latency.py).

    Raises:
        SettingsError: ``SLACK_SIGNING_SECRET`` is not set.
    """
    settings = runtime.settings
    if settings.slack_signing_secret is None:
        raise SettingsError("SLACK_SIGNING_SECRET: required to verify requests from Slack")
    app = App(
        client=runtime.client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=True,
        token_verification_enabled=False,
    )
    ApprovalActions(runtime).register(app)
    ApprovalViews(runtime).register(app)
    Commands(runtime).register(app)
    Home(runtime).register(app)
    MeetingActions(runtime).register(app)

    @app.error
    def _on_error(error: Exception, body: dict[str, Any]) -> None:
        log.exception("listener failed for %s: %s", body.get("type"), error, exc_info=error)

    return app
