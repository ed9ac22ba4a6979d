"""Slash commands. Usage errors are answered in the ack itself; real work happens after it."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond

from agent.errors import (
    AgentError,
    CalendarFeedError,
    CRMNotFoundError,
    LeadNotRoutedError,
    RoutingFileError,
)
from agent.reports import recent_runs, today_counts
from bot.blocks import help_text, usage_error
from bot.blocks.text import escape
from bot.inbox import Task
from bot.listeners.payloads import responder
from bot.messages import (
    approvals_reply,
    book_reply,
    route_reply,
    routing_file_reply,
    run_done_reply,
    runs_reply,
)

if TYPE_CHECKING:  # the runtime imports the listeners' tasks
    from bot.runtime import SlackRuntime

ROUTE_USAGE = "/route-lead <email or lead id> [explain]"
BOOK_USAGE = "/book-meeting <lead id or email>"
HYGIENE_USAGE = "/hygiene [run|status]"

_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")

log = logging.getLogger(__name__)


def ephemeral(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral")


class Commands:
    def __init__(self, runtime: SlackRuntime) -> None:
        self.rt = runtime

    def register(self, app: App) -> None:
        app.command("/route-lead")(self.route_lead)
        app.command("/book-meeting")(self.book_meeting)
        app.command("/hygiene")(self.hygiene)
        app.command("/approvals")(self.approvals)
        app.command("/revgate")(self.revgate)

    def tasks(self) -> dict[str, Task]:
        """The work these commands hand on after their ack, by task name."""
        return {
            "route_lead": self._route,
            "book_meeting": self._book,
            "hygiene_status": self._status,
            "hygiene_run": self._run,
            "approvals": self._approvals,
        }

    def route_lead(self, ack: Ack, command: dict[str, Any]) -> None:
        words = [_unwrap_mailto(word) for word in str(command.get("text") or "").split()]
        if not words:
            ack(text=usage_error("/route-lead", "give one lead id or email address", ROUTE_USAGE))
            return
        if len(words) > 2 or (len(words) == 2 and words[1].lower() != "explain"):
            problem = f"unexpected {' '.join(words[1:])!r} (one lead, then optionally 'explain')"
            ack(text=usage_error("/route-lead", problem, ROUTE_USAGE))
            return
        ack()
        self.rt.after_ack("route_lead", **_caller(command), ref=words[0], explain=len(words) == 2)

    def _route(self, task: dict[str, Any]) -> None:
        ref, user, respond = task["ref"], task["user"], responder(task)
        try:
            result = self.rt.services.routing().route(ref, requested_by=user)
        except CRMNotFoundError as missing:
            ephemeral(respond, f"{escape(str(missing))}. Try the lead's id or exact email address.")
            return
        except RoutingFileError as broken:
            ephemeral(respond, routing_file_reply(broken))
            return
        except AgentError as error:
            log.exception("routing %s failed", ref)
            ephemeral(respond, f"Routing {escape(ref)} failed: {escape(str(error))}")
            return
        ephemeral(respond, route_reply(result, explain=bool(task.get("explain"))))

    def book_meeting(self, ack: Ack, command: dict[str, Any]) -> None:
        words = [_unwrap_mailto(word) for word in str(command.get("text") or "").split()]
        if len(words) != 1:
            problem = (
                f"unexpected {' '.join(words[1:])!r} (one lead only)"
                if words
                else "give one lead id or email address"
            )
            ack(text=usage_error("/book-meeting", problem, BOOK_USAGE))
            return
        ack()
        self.rt.after_ack("book_meeting", **_caller(command), ref=words[0])

    def _book(self, task: dict[str, Any]) -> None:
        ref, user, respond = task["ref"], task["user"], responder(task)
        services = self.rt.services
        try:
            lead = services.routing().router.find_lead(ref)
            result = services.meetings().book(lead, requested_by=user)
        except CRMNotFoundError as missing:
            ephemeral(respond, f"{escape(str(missing))}. Try the lead's id or exact email address.")
            return
        except LeadNotRoutedError:
            ephemeral(
                respond,
                f"Lead `{escape(ref)}` has no owner, so there is nobody to meet: "
                f"route it first with `/route-lead {escape(ref)}`. Nothing was booked.",
            )
            return
        except RoutingFileError as broken:
            ephemeral(respond, routing_file_reply(broken))
            return
        except CalendarFeedError as error:
            ephemeral(respond, f"A rep's calendar cannot be read: {escape(str(error))}. Nothing was booked.")
            return
        except AgentError as error:
            log.exception("booking a meeting for %s failed", ref)
            ephemeral(respond, f"Booking a meeting for {escape(ref)} failed: {escape(str(error))}")
            return
        link = self.rt.meeting_messages.permalink(result.booking.id) if result.booking else None
        ephemeral(respond, book_reply(result, link=link))

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


def _unwrap_mailto(word: str) -> str:
    """``<mailto:a@b.io|a@b.io>`` -> ``a@b.io``: how Slack sends an email when the app asks it to
    escape links in commands."""
    match = _MAILTO.fullmatch(word)
    return match[1] if match else word


def _caller(command: dict[str, Any]) -> dict[str, Any]:
    """Who ran a command and where to answer them (plain JSON: it is stored)."""
    return {"user": str(command.get("user_id") or ""), "response_url": command.get("response_url")}
