"""Booked meetings in Slack: one message per meeting, with Reschedule and Cancel, kept in step.

Implements the agent's :class:`~agent.meetings.service.MeetingNotifier` the way
:class:`bot.notifier.CardSync` keeps approval cards: the ``meetings`` table is the truth,
``meeting_changed`` only wakes a background pass, and the pass posts the message of every
booked meeting that has none (to the approvals channel) and ``chat.update``s every message
older than its meeting. Where the message is and what it shows are stored with
``MeetingBook.set_slack``. A Slack failure is logged and left for the next pass: the
booking itself is never undone or lost, and a meeting booked where Slack was not told
(``revgate meetings book``, an approval executed by the outbox) gets its message too.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from agent.meetings.bookings import Booking, MeetingBook
from agent.meetings.service import MeetingNotifier
from agent.ports import Clock
from agent.store.database import Database
from bot.background import BackgroundLoop
from bot.blocks import Message
from bot.blocks.meeting import build_meeting_message
from bot.container import Services

log = logging.getLogger(__name__)

LOOK_BACK = timedelta(days=1)
"""Meetings that ended longer ago than this are left as they are."""
"""How long after a cancellation its message keeps looking for who cancelled it."""


def shown_version(booking: Booking) -> int:
    """What a message showing ``booking`` is stored as (``slack_revision``).

    The row's revision, doubled, plus one once the latest invite is handed over: an
    invite sent later (by ``revgate meetings sync`` or the tick) changes no revision
    but must still update the message's "not sent yet".
    """
    return booking.revision * 2 + (0 if booking.invite_pending else 1)


def needs_message(booking: Booking) -> bool:
    """A booked meeting without a message, or a message older than its meeting."""
    if booking.slack_ts is None or booking.slack_channel is None:
        return booking.status == "booked"
    return booking.slack_revision != shown_version(booking)


class MeetingMessages(MeetingNotifier):
    """Posts and updates booking messages; run ``sync_once`` or the background loop.

    Args:
        client: the bot's Web API client (it retries 429s after ``Retry-After``).
        database: where the meetings are.
        channel: where new booking messages go (the approvals channel).
    """

    def __init__(
        self,
        client: WebClient,
        database: Database,
        *,
        clock: Clock,
        channel: str,
        poll_interval: float = 5.0,
    ) -> None:
        self._client = client
        self._db = database
        self._book = MeetingBook(database)
        self._clock = clock
        self.channel = channel
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self._loop = BackgroundLoop(
            "revgate-meeting-messages", self.sync_once, wake=self.wake, poll_interval=poll_interval
        )

    # -- the agent's port ------------------------------------------------------------

    def meeting_changed(self, booking: Booking) -> None:
        """Never raises: the meeting is already written; the pass brings Slack up to it."""
        self.wake.set()

    # -- one pass ----------------------------------------------------------------------

    def sync_once(self) -> int:
        """Bring every booking message up to date; the number of messages written."""
        with self._lock:  # one pass at a time in this process
            since = self._clock.now() - LOOK_BACK
            stale = [b for b in self._book.listed(since=since, include_cancelled=True) if needs_message(b)]
            written = 0
            for booking in stale:
                try:
                    written += self._sync(booking)
                except (SlackClientError, OSError) as error:
                    # Left stale on purpose: the next pass tries again.
                    detail = error.response.get("error") if isinstance(error, SlackApiError) else error
                    log.warning("message of meeting %s not synced: %s", booking.id, detail)
            return written

    def permalink(self, meeting_id: str) -> str | None:
        """A link to the meeting's message, posting it first if needed; ``None`` if Slack fails."""
        try:
            self.sync_once()
            booking = self._book.get(meeting_id)
            if booking.slack_channel is None or booking.slack_ts is None:
                return None
            found = self._client.chat_getPermalink(channel=booking.slack_channel, message_ts=booking.slack_ts)
        except (SlackClientError, OSError) as error:
            log.warning("no link to the message of meeting %s: %s", meeting_id, error)
            return None
        link = found.get("permalink")
        return str(link) if link else None

    def _sync(self, booking: Booking) -> int:
        shown = shown_version(booking)
        message = build_meeting_message(booking, cancelled_by=booking.cancelled_by)
        channel, ts = booking.slack_channel, booking.slack_ts
        if channel is not None and ts is not None:
            try:
                self._client.chat_update(channel=channel, ts=ts, **_payload(message))
            except SlackApiError as error:
                if error.response.get("error") != "message_not_found":
                    raise
                log.info("message of meeting %s was deleted; posting it again", booking.id)
                channel = ts = None
        if channel is None or ts is None:
            response = self._client.chat_postMessage(
                channel=self.channel, unfurl_links=False, unfurl_media=False, **_payload(message)
            )
            channel, ts = str(response["channel"]), str(response["ts"])
        self._book.set_slack(booking.id, channel, ts, shown)
        return 1

    # -- background loop -----------------------------------------------------------------

    def start(self) -> None:
        self._loop.start()
        self._loop.wake()  # catch up on what a crash or an outage left

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)


def use_slack_for_meetings(services: Services, messages: MeetingMessages) -> MeetingMessages:
    """Post and update booked meetings' messages in Slack from now on.

    Call it before the first ``services.meetings()``: the meeting service takes the
    notifier when it is built.
    """
    services.meeting_notifier = messages
    return messages


def _payload(message: Message) -> dict[str, Any]:
    data = message.to_dict()
    return {"text": data["text"], "blocks": data["blocks"]}
