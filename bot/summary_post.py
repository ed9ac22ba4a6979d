"""Posting the daily hygiene summary: the message in the channel, the trend chart in its thread.

The chart goes into the summary's thread, not the channel: the channel gets one
message a day (the one to read in 30 seconds), the chart stays attached to the
day it belongs to, and Slack shows a thread's first file inline when it is
opened. The message is posted first, so the thread exists before the upload.

Once posted, the message stands: a chart that cannot be uploaded is logged and
reported in :class:`SummaryPosted`, never raised, so a scheduler that retries
failed jobs does not post the summary twice. Deciding that a channel gets its
summary once a day is the caller's job (the scheduler claims the run).
"""

from __future__ import annotations

import logging
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from agent.summary import DailySummary, gather_summary
from bot.blocks.summary import build_summary_message
from bot.chart import render_trend_png

if TYPE_CHECKING:  # the runtime schedules this poster
    from bot.runtime import SlackRuntime

log = logging.getLogger(__name__)

UPLOAD_ATTEMPTS = 3
RETRY_AFTER_MAX = 30.0
"""Longest wait honoured from a Retry-After header (seconds)."""


@dataclass(frozen=True)
class SummaryPosted:
    """What was posted where."""

    channel: str
    """The channel id Slack answered with."""
    ts: str
    """The summary message's ts (the chart's thread)."""
    day: date
    score: float | None
    file_id: str | None
    """The chart's file id; ``None`` when it could not be uploaded (see ``chart_error``)."""
    chart_error: str | None = None


def post_summary(
    runtime: SlackRuntime,
    *,
    channel: str,
    day: date,
    tz: ZoneInfo,
    sleep: Callable[[float], None] = time.sleep,
    upload_attempts: int = UPLOAD_ATTEMPTS,
) -> SummaryPosted:
    """Gather the summary of ``day`` in ``tz``, post it to ``channel`` and its chart in the thread.

    Raises:
        SlackApiError: ``chat.postMessage`` failed (after the client's own 429/5xx retries);
            nothing was posted.
    """
    services = runtime.services
    summary = gather_summary(services.database, services.crm, services.policy, services.clock, day=day, tz=tz)
    return post_gathered(
        runtime.client, summary, channel=channel, sleep=sleep, upload_attempts=upload_attempts
    )


def post_gathered(
    client: WebClient,
    summary: DailySummary,
    *,
    channel: str,
    sleep: Callable[[float], None] = time.sleep,
    upload_attempts: int = UPLOAD_ATTEMPTS,
) -> SummaryPosted:
    """Post an already gathered summary (the CLI shows it first, then posts the same one)."""
    message = build_summary_message(summary)
    payload = message.to_dict()
    response = client.chat_postMessage(
        channel=channel, text=payload["text"], blocks=payload["blocks"], unfurl_links=False
    )
    channel_id, ts = str(response["channel"]), str(response["ts"])
    score = summary.quality.score if summary.quality is not None else None
    try:
        file_id = _upload_chart(client, summary, channel_id, ts, sleep=sleep, attempts=upload_attempts)
    except (SlackApiError, SlackRequestError, OSError) as error:
        log.exception("summary %s posted to %s, but its chart could not be uploaded", summary.day, channel_id)
        return SummaryPosted(channel_id, ts, summary.day, score, None, f"{type(error).__name__}: {error}")
    return SummaryPosted(channel_id, ts, summary.day, score, file_id)


def _upload_chart(
    client: WebClient,
    summary: DailySummary,
    channel_id: str,
    ts: str,
    *,
    sleep: Callable[[float], None],
    attempts: int,
) -> str | None:
    """Upload the trend PNG into the thread, retrying what Slack asks to retry.

    The WebClient retries the Web API calls itself (429 honouring Retry-After,
    5xx); the PUT of the bytes to the upload URL is plain ``urllib`` in
    slack_sdk, so a 429 or 5xx there is retried here. Every failure this
    retries happens before ``files.completeUploadExternal``, so nothing is
    shared twice (an upload URL left unused simply lapses).
    """
    png = render_trend_png(summary.trend)
    scores = [p.score for p in summary.trend if p.score is not None]
    alt = (
        f"Data-quality score, last {len(summary.trend)} days: {len(scores)} measured, "
        f"from {scores[0]:.1f} to {scores[-1]:.1f}."
        if scores
        else "Data-quality score: no measurements yet."
    )
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.files_upload_v2(
                file=png,
                filename=f"data-quality-{summary.day.isoformat()}.png",
                title=f"Data quality, 30 days to {summary.day.isoformat()}",
                alt_txt=alt,
                channel=channel_id,
                thread_ts=ts,
                initial_comment="The data-quality score over the last 30 days (gaps: days not measured).",
            )
        except (urllib.error.HTTPError, SlackApiError) as error:
            delay = _retry_delay(error, attempt)
            if attempt >= attempts or delay is None:
                raise
            log.warning("chart upload failed (%s), attempt %d; retrying in %.1fs", error, attempt, delay)
            if isinstance(error, urllib.error.HTTPError):
                error.close()  # its response body is not needed; release the connection now
            sleep(delay)
            continue
        uploaded = response.get("file") or {}
        return str(uploaded.get("id")) if isinstance(uploaded, dict) and uploaded.get("id") else None


def _retry_delay(error: urllib.error.HTTPError | SlackApiError, attempt: int) -> float | None:
    """Seconds to wait before retrying, or ``None`` when the error is not worth retrying."""
    headers: object
    if isinstance(error, urllib.error.HTTPError):
        status, headers = int(error.code), error.headers
    else:
        status, headers = int(error.response.status_code), error.response.headers
    if status != 429 and not 500 <= status < 600:
        return None
    retry_after = _header(headers, "retry-after")
    if retry_after is not None:
        try:
            return min(RETRY_AFTER_MAX, max(0.0, float(retry_after)))
        except ValueError:
            pass
    return min(RETRY_AFTER_MAX, 0.5 * 2.0**attempt)


def _header(headers: object, name: str) -> str | None:
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    for key in (name, name.title(), name.upper()):
        value = getter(key)
        if value:
            return str(value[0] if isinstance(value, list) else value)
    return None
