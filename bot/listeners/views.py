"""Modal submissions: reject (a reason is required) and edit (narrowing only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from agent.errors import ApprovalError
from bot import ids
from bot.inbox import Task
from bot.listeners.actions import explain
from bot.listeners.payloads import listed_options, reject_reason, selected_values, user_id

if TYPE_CHECKING:  # the runtime imports the listeners' tasks
    from bot.runtime import SlackRuntime

REASON_REQUIRED = "Say why: the agent learns from it and will not propose this again."


class ApprovalViews:
    def __init__(self, runtime: SlackRuntime) -> None:
        self.rt = runtime

    def register(self, app: App) -> None:
        app.view(ids.VIEW_REJECT)(self.reject_submitted)
        app.view(ids.VIEW_EDIT)(self.edit_submitted)

    def tasks(self) -> dict[str, Task]:
        """The work these modals hand on after their ack, by task name."""
        return {"reject": self._reject, "edit": self._edit}

    def reject_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = reject_reason(view)
        if not reason:
            ack(response_action="errors", errors={ids.BLOCK_REASON: REASON_REQUIRED})
            return
        ack()
        approval_id = str(view.get("private_metadata") or "")
        self.rt.after_ack("reject", approval_id=approval_id, user=user_id(body), reason=reason)

    def _reject(self, task: dict[str, Any]) -> None:
        approval_id, user = task["approval_id"], task["user"]
        try:
            self.rt.services.approvals.reject(approval_id, user, task["reason"])
        except (ApprovalError, ValueError) as error:
            self._tell(approval_id, user, explain(error) if isinstance(error, ApprovalError) else str(error))

    def edit_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        state = view.get("state") or {}
        ticked = selected_values(state, ids.BLOCK_EDIT_TARGETS)
        keep_fields = selected_values(state, ids.BLOCK_EDIT_FIELDS)
        if ticked is not None and not ticked:
            ack(
                response_action="errors",
                errors={_first_block(state, ids.BLOCK_EDIT_TARGETS): "Keep at least one."},
            )
            return
        ack()
        self.rt.after_ack(
            "edit",
            approval_id=str(view.get("private_metadata") or ""),
            user=user_id(body),
            ticked=None if ticked is None else sorted(ticked),
            shown=sorted(listed_options(view.get("blocks") or [], ids.BLOCK_EDIT_TARGETS)),
            keep_fields=None if keep_fields is None else sorted(keep_fields),
        )

    def _edit(self, task: dict[str, Any]) -> None:
        approval_id, user = task["approval_id"], task["user"]
        keep_records = None
        if task["ticked"] is not None:
            # A very large request lists only some records in the modal; the
            # ones it could not list stay in (an edit only removes what it shows).
            keep_records = set(task["ticked"]) | (self._record_ids(approval_id) - set(task["shown"]))
        keep_fields = None if task["keep_fields"] is None else set(task["keep_fields"])
        try:
            self.rt.services.approvals.edit(
                approval_id, user, keep_records=keep_records, keep_fields=keep_fields
            )
        except ApprovalError as error:
            self._tell(approval_id, user, explain(error))

    def _record_ids(self, approval_id: str) -> set[str]:
        try:
            return set(self.rt.services.approvals.get(approval_id).action.record_ids)
        except ApprovalError:
            return set()

    def _tell(self, approval_id: str, user: str, text: str) -> None:
        """An ephemeral note beside the card (or a DM when the card is unknown)."""
        try:
            channel = self.rt.services.approvals.get(approval_id).slack_channel
        except ApprovalError:
            channel = None
        client = self.rt.client
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            client.chat_postMessage(channel=user, text=text)


def _first_block(state: dict[str, Any], prefix: str) -> str:
    return next((b for b in sorted((state.get("values") or {})) if b.startswith(prefix)), prefix)
