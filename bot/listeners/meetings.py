"""A booked meeting's buttons and modals: Reschedule (pick a free slot) and Cancel (say why).

Each listener acks first. Opening a modal runs on the runtime's modal pool (the trigger id
lives 3 seconds); a submission's work is handed on after the ack as an inbox task. A click
or a submission that no longer applies (the meeting was cancelled, moved, or never existed,
a payload revgate did not write) changes nothing and is answered in words.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from agent.errors import (
    AgentError,
    CalendarFeedError,
    CRMNotFoundError,
    MeetingClosedError,
    MeetingNotFoundError,
    RoutingFileError,
    SlotTakenError,
)
from agent.meetings.bookings import Booking
from agent.meetings.service import MeetingService
from bot import ids
from bot.blocks.meeting import (
    both_spans,
    build_cancel_modal,
    build_reschedule_modal,
    meeting_closed,
    parse_slot_value,
    slot_value,
)
from bot.blocks.text import escape
from bot.inbox import Task
from bot.listeners.payloads import (
    input_text,
    meeting_metadata,
    meeting_value,
    selected_option,
    user_id,
)
from bot.messages import routing_file_reply

if TYPE_CHECKING:  # the runtime imports the listeners' tasks
    from bot.runtime import SlackRuntime

log = logging.getLogger(__name__)

NOT_OURS = "This isn't a meeting revgate knows about, so nothing was changed."
GONE = "This meeting no longer exists, so nothing was changed."
PICK_A_TIME = "Pick one of the free times."
NOT_OFFERED = "That time wasn't one of the times offered. Nothing was changed."
REASON_REQUIRED = "Say why: the reason is shown on the meeting's message and kept in the audit log."


def ephemeral(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


class MeetingActions:
    """The booking message's buttons and the modals they open, bound to the runtime."""

    def __init__(self, runtime: SlackRuntime) -> None:
        self.rt = runtime

    def register(self, app: App) -> None:
        app.action(ids.ACTION_RESCHEDULE)(self.open_reschedule)
        app.action(ids.ACTION_CANCEL)(self.open_cancel)
        app.view(ids.VIEW_RESCHEDULE)(self.reschedule_submitted)
        app.view(ids.VIEW_CANCEL)(self.cancel_submitted)

    def tasks(self) -> dict[str, Task]:
        """The work these modals hand on after their ack, by task name."""
        return {"meeting_move": self._move, "meeting_cancel": self._cancel}

    # -- buttons -------------------------------------------------------------------------

    def open_reschedule(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        self.rt.open_modal(self._open_reschedule, body, client, respond)

    def open_cancel(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        self.rt.open_modal(self._open_cancel, body, client, respond)

    def _open_reschedule(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        meeting_id = meeting_value(body)
        if meeting_id is None:
            ephemeral(respond, NOT_OURS)
            return
        try:
            booking, free = self._service().slots_for(meeting_id)
        except AgentError as error:
            ephemeral(respond, self._explain(error, meeting_id))
            return
        if not booking.live:
            ephemeral(respond, self._closed(booking))
        elif not free:
            ephemeral(respond, "No free slot in the horizon to move this meeting to; nothing was changed.")
        else:
            client.views_open(trigger_id=body["trigger_id"], view=build_reschedule_modal(booking, free))

    def _open_cancel(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        meeting_id = meeting_value(body)
        if meeting_id is None:
            ephemeral(respond, NOT_OURS)
            return
        try:
            booking = self._service().book_store.get(meeting_id)
        except AgentError as error:
            ephemeral(respond, self._explain(error, meeting_id))
            return
        if not booking.live:
            ephemeral(respond, self._closed(booking))
        else:
            client.views_open(trigger_id=body["trigger_id"], view=build_cancel_modal(booking))

    # -- modals ----------------------------------------------------------------------------

    def reschedule_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ref = meeting_metadata(view)
        chosen = selected_option(view, ids.BLOCK_SLOT, ids.INPUT_SLOT)
        if ref is None or ref[1] is None:
            ack(response_action="errors", errors={ids.BLOCK_SLOT: NOT_OURS})
            return
        if not chosen:
            ack(response_action="errors", errors={ids.BLOCK_SLOT: PICK_A_TIME})
            return
        if parse_slot_value(chosen) is None:
            ack(response_action="errors", errors={ids.BLOCK_SLOT: NOT_OFFERED})
            return
        ack()
        meeting_id, revision = ref
        self.rt.after_ack(
            "meeting_move", meeting_id=meeting_id, revision=revision, start=chosen, user=user_id(body)
        )

    def cancel_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ref = meeting_metadata(view)
        reason = input_text(view, ids.BLOCK_CANCEL_REASON, ids.INPUT_CANCEL_REASON)
        if ref is None:
            ack(response_action="errors", errors={ids.BLOCK_CANCEL_REASON: NOT_OURS})
            return
        if not reason:
            ack(response_action="errors", errors={ids.BLOCK_CANCEL_REASON: REASON_REQUIRED})
            return
        ack()
        self.rt.after_ack("meeting_cancel", meeting_id=ref[0], user=user_id(body), reason=reason)

    # -- the work after the ack --------------------------------------------------------------

    def _move(self, task: dict[str, Any]) -> None:
        meeting_id, user = str(task["meeting_id"]), str(task["user"])
        try:
            meetings = self._service()
            booking, free = meetings.slots_for(meeting_id)
            if not booking.live:
                self._tell(meeting_id, user, self._closed(booking))
                return
            if booking.revision != task["revision"]:
                moved_to = both_spans(booking.start, booking.end, booking.plan)
                self._tell(
                    meeting_id,
                    user,
                    f"This meeting changed while the form was open (it is now {moved_to}). "
                    "Nothing was changed; open Reschedule again.",
                )
                return
            slot = next((s for s in free if slot_value(s.start) == task["start"]), None)
            if slot is None:
                self._tell(meeting_id, user, f"{NOT_OFFERED} It may have been taken; open Reschedule again.")
                return
            moved = meetings.move(meeting_id, slot.start, by=user)
        except AgentError as error:
            self._tell(meeting_id, user, self._explain(error, meeting_id))
            return
        self._tell(meeting_id, user, f"Moved to {both_spans(moved.start, moved.end, moved.plan)}.")

    def _cancel(self, task: dict[str, Any]) -> None:
        meeting_id, user = str(task["meeting_id"]), str(task["user"])
        try:
            self._service().cancel(meeting_id, by=user, reason=str(task["reason"]))
        except AgentError as error:
            self._tell(meeting_id, user, self._explain(error, meeting_id))
            return
        self._tell(meeting_id, user, "Cancelled. The lead gets the cancellation.")

    # -- helpers -----------------------------------------------------------------------------

    def _service(self) -> MeetingService:
        return self.rt.services.meetings()

    def _closed(self, booking: Booking) -> str:
        return meeting_closed(booking, booking.cancelled_by)

    def _explain(self, error: AgentError, meeting_id: str) -> str:
        """The answer to a click or submission the service refused; nothing was changed."""
        if isinstance(error, MeetingNotFoundError):
            return GONE
        if isinstance(error, MeetingClosedError):
            try:
                return self._closed(self._service().book_store.get(meeting_id))
            except AgentError:
                return f"{escape(str(error))}. Nothing was changed."
        if isinstance(error, SlotTakenError):
            return f"{escape(str(error))}. Nothing was changed; open Reschedule again."
        if isinstance(error, RoutingFileError):
            return routing_file_reply(error)
        if isinstance(error, (CalendarFeedError, CRMNotFoundError)):
            return f"{escape(str(error))}. Nothing was changed."
        log.warning("meeting %s: %s", meeting_id, error)
        return f"That didn't work: {escape(str(error))}"

    def _tell(self, meeting_id: str, user: str, text: str) -> None:
        """An ephemeral note beside the meeting's message (or a DM when it has none)."""
        try:
            channel = self._service().book_store.get(meeting_id).slack_channel
        except AgentError:
            channel = None
        try:
            if channel:
                self.rt.client.chat_postEphemeral(channel=channel, user=user, text=text)
            else:
                self.rt.client.chat_postMessage(channel=user, text=text)
        except SlackClientError:
            log.exception("could not tell %s about meeting %s", user, meeting_id)
