"""App Home: the viewer's pending approvals, today's numbers, the last runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from agent.reports import recent_runs, today_counts
from bot import ids
from bot.blocks import RunSummary, build_home
from bot.inbox import Task

if TYPE_CHECKING:  # the runtime imports the listeners' tasks
    from bot.runtime import SlackRuntime


class Home:
    def __init__(self, runtime: SlackRuntime) -> None:
        self.rt = runtime

    def register(self, app: App) -> None:
        app.event("app_home_opened")(self.opened)
        app.action(ids.HOME_REFRESH)(self.refresh)

    def tasks(self) -> dict[str, Task]:
        """The work App Home hands on after its ack, by task name."""
        return {"publish_home": lambda task: self.publish(task["user"])}

    def opened(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            self.rt.after_ack("publish_home", user=str(event["user"]))

    def refresh(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        self.rt.after_ack("publish_home", user=str(body["user"]["id"]))

    def publish(self, user: str) -> None:
        services = self.rt.services
        runs = [
            RunSummary(
                id=run.id,
                job=run.job,
                status=run.status,
                started_at=run.started_at,
                finished_at=run.finished_at,
                counts=run.counts,
            )
            for run in recent_runs(services.database)
        ]
        view = build_home(
            user,
            services.approvals.pending_for(user),
            today_counts(services.database, services.clock.now()),
            runs,
            self.rt.card_context(),
        )
        self.rt.client.views_publish(user_id=user, view=view)
