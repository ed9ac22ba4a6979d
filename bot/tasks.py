"""Every task a listener can hand on after its ack, by name: what an inbox consumer runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.inbox import Task
from bot.listeners.actions import ApprovalActions
from bot.listeners.commands import Commands
from bot.listeners.home import Home
from bot.listeners.meetings import MeetingActions
from bot.listeners.views import ApprovalViews

if TYPE_CHECKING:
    from bot.runtime import SlackRuntime


def build_tasks(runtime: SlackRuntime) -> dict[str, Task]:
    """The task table; two listeners claiming one name is a programming error."""
    tasks: dict[str, Task] = {}
    listeners_of = (
        ApprovalActions(runtime),
        ApprovalViews(runtime),
        Commands(runtime),
        Home(runtime),
        MeetingActions(runtime),
    )
    for listeners in listeners_of:
        for name, task in listeners.tasks().items():
            if name in tasks:
                raise ValueError(f"two listeners define the task {name!r}")
            tasks[name] = task
    return tasks
