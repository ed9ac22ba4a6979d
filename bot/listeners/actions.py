"""Buttons on approval cards. Each handler acks first, makes one service call, renders one reply."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from agent.errors import (
    ApprovalAlreadyResolvedError,
    ApprovalError,
    ApprovalNotFoundError,
    NotAnApproverError,
)
from agent.models import Approval
from bot import ids
from bot.blocks import (
    already_decided,
    build_details_modal,
    build_edit_modal,
    build_reject_modal,
    not_an_approver,
)
from bot.inbox import Task
from bot.listeners.payloads import action_value, excluded_items, responder, user_id

if TYPE_CHECKING:  # the runtime imports the listeners' tasks
    from bot.runtime import SlackRuntime

log = logging.getLogger(__name__)


def ephemeral(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def explain(error: ApprovalError) -> str:
    """The one-line answer a clicker gets when their click changed nothing."""
    if isinstance(error, ApprovalAlreadyResolvedError):
        return already_decided(error.status, error.by)
    if isinstance(error, NotAnApproverError):
        return not_an_approver(str(error))
    if isinstance(error, ApprovalNotFoundError):
        return "This request no longer exists."
    return str(error)


class ApprovalActions:
    """The approval card's buttons, bound to the runtime (no globals)."""

    def __init__(self, runtime: SlackRuntime) -> None:
        self.rt = runtime

    def register(self, app: App) -> None:
        app.action(ids.ACTION_APPROVE)(self.approve)
        app.action(ids.ACTION_BULK_APPROVE)(self.approve_all)
        app.action(ids.ACTION_REJECT)(self.open_reject)
        app.action(ids.ACTION_BULK_REJECT)(self.open_reject)
        app.action(ids.ACTION_EDIT)(self.open_edit)
        app.action(ids.ACTION_DETAILS)(self.open_details)
        app.action(ids.ACTION_UNDO)(self.undo)
        app.action(ids.ACTION_EXCLUDE)(self.toggle_item)

    def tasks(self) -> dict[str, Task]:
        """The work these buttons hand on after their ack, by task name."""
        return {"approve": self._approve, "undo": self._undo}

    def approve(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        self.rt.after_ack("approve", **_click(body), exclude=[])

    def approve_all(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        self.rt.after_ack("approve", **_click(body), exclude=sorted(excluded_items(body)))

    def _approve(self, task: dict[str, Any]) -> None:
        respond = responder(task)
        approval = self._attempt(
            respond,
            lambda: self.rt.services.approvals.approve(
                task["approval_id"], task["user"], exclude=set(task["exclude"])
            ),
        )
        if approval is None:
            return
        if approval.status == "approved":
            self.rt.pump.wake()
        else:
            ephemeral(
                respond, f"Your approval is recorded ({len(approval.approvals)} so far); more are needed."
            )

    def open_reject(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        self.rt.open_modal(self._open_reject, body, client, respond)

    def open_edit(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        self.rt.open_modal(self._open_edit, body, client, respond)

    def open_details(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        self.rt.open_modal(self._open_details, body, client, respond)

    def _open_reject(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        approval = self._pending(body, respond)
        if approval is not None:
            client.views_open(trigger_id=body["trigger_id"], view=build_reject_modal(approval))

    def _open_edit(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        approval = self._pending(body, respond)
        if approval is not None:
            view = build_edit_modal(approval, self.rt.card_context())
            client.views_open(trigger_id=body["trigger_id"], view=view)

    def _open_details(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        approval = self._attempt(respond, lambda: self.rt.services.approvals.get(action_value(body)))
        if approval is not None:
            view = build_details_modal(approval, self.rt.card_context())
            client.views_open(trigger_id=body["trigger_id"], view=view)

    def undo(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        self.rt.after_ack("undo", **_click(body))

    def _undo(self, task: dict[str, Any]) -> None:
        respond = responder(task)
        approval = self._attempt(
            respond, lambda: self.rt.services.approvals.request_undo(task["approval_id"], task["user"])
        )
        if approval is not None:
            self.rt.pump.wake()
            ephemeral(respond, "Undo queued: the previous values will be written back.")

    def toggle_item(self, ack: Ack) -> None:
        # The ticks are read from the card's state when "Approve all" is clicked.
        ack()

    def _pending(self, body: dict[str, Any], respond: Respond) -> Approval | None:
        approval = self._attempt(respond, lambda: self.rt.services.approvals.get(action_value(body)))
        if approval is not None and approval.status != "pending":
            ephemeral(respond, already_decided(approval.status, approval.decided_by))
            return None
        return approval

    @staticmethod
    def _attempt(respond: Respond, call: Callable[[], Approval]) -> Approval | None:
        try:
            return call()
        except ApprovalError as error:
            ephemeral(respond, explain(error))
            return None


def _click(body: dict[str, Any]) -> dict[str, Any]:
    """What a decision task needs of a button click (plain JSON: it is stored)."""
    return {
        "approval_id": action_value(body),
        "user": user_id(body),
        "response_url": body.get("response_url"),
    }
