"""The Slack Web API client revgate uses: retries 429 (honouring Retry-After) and 5xx."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

from agent.errors import SettingsError
from bot.settings import Settings


def make_web_client(settings: Settings, *, max_retries: int = 4) -> WebClient:
    """A WebClient for the bot token, pointed at ``REVGATE_SLACK_API_URL`` when set.

    Raises:
        SettingsError: ``SLACK_BOT_TOKEN`` is not set.
    """
    if settings.slack_bot_token is None:
        raise SettingsError("SLACK_BOT_TOKEN: required to talk to Slack")
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(
                max_retry_count=max_retries,
                interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.5),
            ),
        ],
    )
