"""Slash commands. Usage errors are answered in the ack itself; real work happens after it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond

from agent.errors import AgentError, CRMNotFoundError
from agent.reports import recent_runs, today_counts
from bot.blocks import help_text, usage_error
from bot.inbox import Task
from bot.listeners.payloads import responder
from bot.messages import approvals_reply, route_reply, run_done_reply, runs_reply

if TYPE_CHECKING:  # the runtime imports the listeners' tasks
    from bot.runtime import SlackRuntime

ROUTE_USAGE = "/route-lead <email or lead id> [explain]"
HYGIENE_USAGE = "/hygiene [run|status]"


def ephemeral(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral")


class Commands:
    def __init__(self, runtime: SlackRuntime) -> None:
        self.rt = runtime

    def register(self, app: App) -> None:
        app.command("/route-lead")(self.route_lead)
        app.command("/hygiene")(self.hygiene)
        app.command("/approvals")(self.approvals)
        app.command("/revgate")(self.revgate)

    def tasks(self) -> dict[str, Task]:
        """The work these commands hand on after their ack, by task name."""
        return {
            "route_lead": self._route,
            "hygiene_status": self._status,
            "hygiene_run": self._run,
            "approvals": self._approvals,
        }

    def route_lead(self, ack: Ack, command: dict[str, Any]) -> None:
        words = str(command.get("text") or "").split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] != "explain"):
            ack(text=usage_error("/route-lead", "give one lead id or email address", ROUTE_USAGE))
            return
        ack()
        self.rt.after_ack("route_lead", **_caller(command), ref=words[0])

    def _route(self, task: dict[str, Any]) -> None:
        ref, user, respond = task["ref"], task["user"], responder(task)
        try:
            decision = self.rt.router.route(ref, requested_by=user)
        except CRMNotFoundError as missing:
            ephemeral(respond, f"{missing}. Try the lead's id or exact email address.")
            return
        report = None
        if decision.action is not None:
            report = self.rt.services.runner.submit(
                [decision.action], job="route-lead", trigger=f"slack:{user}"
            )
        ephemeral(respond, route_reply(decision, report))

    def hygiene(self, ack: Ack, command: dict[str, Any]) -> None:
        sub = str(command.get("text") or "").strip() or "status"
        if sub not in ("run", "status"):
            ack(text=usage_error("/hygiene", f"unknown option {sub!r}", HYGIENE_USAGE))
            return
        if sub == "status":
            ack()
            self.rt.after_ack("hygiene_status", **_caller(command))
            return
        ack(text="Starting a hygiene run; the result will appear here.")
        self.rt.after_ack("hygiene_run", **_caller(command))

    def _status(self, task: dict[str, Any]) -> None:
        db = self.rt.services.database
        counts = today_counts(db, self.rt.services.clock.now())
        ephemeral(responder(task), runs_reply(recent_runs(db), counts))

    def _run(self, task: dict[str, Any]) -> None:
        user, respond = task["user"], responder(task)
        try:
            report = self.rt.services.runner.run(self.rt.services.offline_planner(), trigger=f"slack:{user}")
        except AgentError as error:
            ephemeral(respond, f"The hygiene run failed: {error}")
            return
        self.rt.pump.wake()
        ephemeral(respond, run_done_reply(report))

    def approvals(self, ack: Ack, command: dict[str, Any]) -> None:
        ack()
        self.rt.after_ack("approvals", **_caller(command))

    def _approvals(self, task: dict[str, Any]) -> None:
        ephemeral(responder(task), approvals_reply(self.rt.services.approvals.pending_for(task["user"])))

    def revgate(self, ack: Ack, command: dict[str, Any]) -> None:
        sub = str(command.get("text") or "").strip()
        if sub in ("", "help"):
            ack(text=help_text())
        else:
            ack(
                text=usage_error("/revgate", f"unknown option {sub!r}", "/revgate help")
                + "\n\n"
                + help_text()
            )


def _caller(command: dict[str, Any]) -> dict[str, Any]:
    """Who ran a command and where to answer them (plain JSON: it is stored)."""
    return {"user": str(command.get("user_id") or ""), "response_url": command.get("response_url")}
