"""Modal submissions: reject (a reason is required) and edit (narrowing only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from agent.errors import ApprovalError
from bot import ids
from bot.listeners.actions import explain
from bot.listeners.payloads import listed_options, reject_reason, selected_values, user_id
from bot.runtime import SlackRuntime

REASON_REQUIRED = "Say why: the agent learns from it and will not propose this again."


class ApprovalViews:
    def __init__(self, runtime: SlackRuntime) -> None:
        self.rt = runtime

    def register(self, app: App) -> None:
        app.view(ids.VIEW_REJECT)(self.reject_submitted)
        app.view(ids.VIEW_EDIT)(self.edit_submitted)

    def reject_submitted(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        reason = reject_reason(view)
        if not reason:
            ack(response_action="errors", errors={ids.BLOCK_REASON: REASON_REQUIRED})
            return
        ack()
        self.rt.after_ack(
            self._reject, str(view.get("private_metadata") or ""), user_id(body), reason, client
        )

    def _reject(self, approval_id: str, user: str, reason: str, client: WebClient) -> None:
        try:
            self.rt.services.approvals.reject(approval_id, user, reason)
        except (ApprovalError, ValueError) as error:
            self._tell(
                client, approval_id, user, explain(error) if isinstance(error, ApprovalError) else str(error)
            )

    def edit_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
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
        approval_id, user = str(view.get("private_metadata") or ""), user_id(body)
        self.rt.after_ack(self._edit, approval_id, user, view, ticked, keep_fields, client)

    def _edit(
        self,
        approval_id: str,
        user: str,
        view: dict[str, Any],
        ticked: set[str] | None,
        keep_fields: set[str] | None,
        client: WebClient,
    ) -> None:
        keep_records = None
        if ticked is not None:
            # A very large request lists only some records in the modal; the
            # ones it could not list stay in (an edit only removes what it shows).
            shown = listed_options(view.get("blocks") or [], ids.BLOCK_EDIT_TARGETS)
            keep_records = ticked | (self._record_ids(approval_id) - shown)
        try:
            self.rt.services.approvals.edit(
                approval_id, user, keep_records=keep_records, keep_fields=keep_fields
            )
        except ApprovalError as error:
            self._tell(client, approval_id, user, explain(error))

    def _record_ids(self, approval_id: str) -> set[str]:
        try:
            return set(self.rt.services.approvals.get(approval_id).action.record_ids)
        except ApprovalError:
            return set()

    def _tell(self, client: WebClient, approval_id: str, user: str, text: str) -> None:
        """An ephemeral note beside the card (or a DM when the card is unknown)."""
        try:
            channel = self.rt.services.approvals.get(approval_id).slack_channel
        except ApprovalError:
            channel = None
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            client.chat_postMessage(channel=user, text=text)


def _first_block(state: dict[str, Any], prefix: str) -> str:
    return next((b for b in sorted((state.get("values") or {})) if b.startswith(prefix)), prefix)
