"""Approval cards in Slack, kept in step with the database.

The database is the source of truth for what every card should show. The agent's
notifier calls only wake the :class:`CardSync`; it then posts cards that are
missing, ``chat.update``s cards older than their approval, and replies in the
card's thread when the state changes (executed with the result, failed with the
error ...). A crash, a Slack outage or a 429 storm loses nothing: the next pass
catches up. Posts are paced per channel to Slack's limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from agent.approvals import ApprovalService
from agent.models import Approval
from bot.background import BackgroundLoop
from bot.blocks import CardContext, Message, build_approval_message, build_bulk_message, is_bulk_card
from bot.messages import thread_reply
from bot.nudges import Nudge

log = logging.getLogger(__name__)

THREAD_STATUSES = frozenset({"approved", "executed", "failed", "superseded", "rejected", "expired", "undone"})


class WakeNotifier:
    """The agent's Notifier port: it only says "something changed".

    ``also``: more loops to wake on every change (the booking messages: an approved
    meeting is booked when its approval is executed).
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.also: list[threading.Event] = []

    def approval_requested(self, approval: Approval) -> None:
        self._wake()

    def approval_updated(self, approval: Approval) -> None:
        self._wake()

    def _wake(self) -> None:
        self.event.set()
        for event in self.also:
            event.set()


class CardSync:
    """Reconciles Slack cards with approvals; run ``sync_once`` or the background loop."""

    def __init__(
        self,
        client: WebClient,
        approvals: ApprovalService,
        *,
        channel: str,
        context: Callable[[], CardContext],
        wake: threading.Event,
        nudge: Callable[[Approval], Nudge | None] = lambda approval: None,
        min_interval: float = 1.0,
        poll_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._approvals = approvals
        self.channel = channel
        self._context = context
        self._nudge = nudge
        self._min_interval = min_interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._last_write: dict[str, float] = {}
        self._lock = threading.Lock()
        self._loop = BackgroundLoop(
            "revgate-card-sync", self.sync_once, wake=wake, poll_interval=poll_interval
        )

    # -- one pass --------------------------------------------------------------

    def sync_once(self) -> int:
        """Bring every stale card up to date; the number of cards written."""
        with self._lock:  # one pass at a time in this process
            stale = self._approvals.cards_to_sync()
            if not stale:
                return 0
            context = self._context()  # one context (owners, time, policy) serves every card of the pass
            written = 0
            for approval in stale:
                try:
                    written += self._sync(approval, context)
                except SlackApiError as error:
                    # Left stale on purpose: the next pass tries again.
                    log.warning("card for %s not synced: %s", approval.id, error.response.get("error"))
            return written

    def _sync(self, approval: Approval, context: CardContext) -> int:
        shown = approval.revision
        message = render(approval, context)
        if approval.slack_ts is None or approval.slack_channel is None:
            self._pace(self.channel)
            response = self._client.chat_postMessage(
                channel=self.channel, unfurl_links=False, unfurl_media=False, **_payload(message)
            )
            channel, ts = str(response["channel"]), str(response["ts"])
        else:
            channel, ts = approval.slack_channel, approval.slack_ts
            self._pace(channel)
            try:
                self._client.chat_update(channel=channel, ts=ts, **_payload(message))
            except SlackApiError as error:
                if error.response.get("error") == "message_not_found":
                    self._approvals.forget_card(approval.id, ts=ts)
                    return 0
                raise
            if approval.status != approval.slack_status and approval.status in THREAD_STATUSES:
                self._pace(channel)
                self._client.chat_postMessage(
                    channel=channel, thread_ts=ts, text=thread_reply(approval), unfurl_links=False
                )
        nudge = self._nudge(approval)
        if nudge is not None:
            self._post_nudge(nudge, channel, ts)
        self._approvals.mark_card_synced(
            approval.id, channel=channel, ts=ts, shown=shown, status=approval.status, nudges=approval.nudges
        )
        return 1

    def _post_nudge(self, nudge: Nudge, channel: str, ts: str) -> None:
        if nudge.channel is None:
            self._pace(channel)
            self._client.chat_postMessage(
                channel=channel, thread_ts=ts, text=nudge.text, reply_broadcast=nudge.broadcast
            )
            return
        link = self._client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        self._pace(nudge.channel)
        self._client.chat_postMessage(
            channel=nudge.channel,
            text=f"{nudge.text} <{link}|Open the request>" if link else nudge.text,
            unfurl_links=False,
        )

    def _pace(self, channel: str) -> None:
        """At most one write per ``min_interval`` per channel (Slack's per-channel limit)."""
        last = self._last_write.get(channel)
        now = self._monotonic()
        if last is not None and now - last < self._min_interval:
            self._sleep(self._min_interval - (now - last))
        self._last_write[channel] = self._monotonic()

    # -- background loop -------------------------------------------------------

    def sync_once_later(self) -> None:
        """Ask the background loop for a pass (at start-up: catch up on what a crash left)."""
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)


def render(approval: Approval, context: CardContext) -> Message:
    """The card for an approval: a bulk card for many records, the full card otherwise."""
    if is_bulk_card(approval):
        return build_bulk_message(approval, context)
    return build_approval_message(approval, context)


def _payload(message: Message) -> dict[str, Any]:
    data = message.to_dict()
    return {"text": data["text"], "blocks": data["blocks"]}
