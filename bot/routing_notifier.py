"""Routing news in Slack: a direct message to each lead's new owner, alerts to channels.

Implements the agent's :class:`~agent.routing.RoutingNotifier`. The routing decision
is already committed when it is told, so a Slack failure (or an owner with no Slack
user id) is logged and never raised: the lead stays routed, the SLA clock runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, tzinfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from agent.errors import AgentError
from agent.routing import AssignmentNotice, RoutingNotifier
from bot.container import Services
from bot.messages import assignment_dm

log = logging.getLogger(__name__)


class SlackRoutingNotifier(RoutingNotifier):
    """DMs the assignee (``chat.postMessage`` to their Slack user id) and posts alerts to channels.

    Args:
        client: the bot's Web API client.
        channel: where alerts without a channel of their own go (the approvals channel).
        zone_of: an owner's working time zone, for the deadline's wording.
    """

    def __init__(
        self, client: WebClient, *, channel: str, zone_of: Callable[[str], tzinfo] | None = None
    ) -> None:
        self._client = client
        self.channel = channel
        self._zone_of = zone_of

    def lead_assigned(self, notice: AssignmentNotice) -> None:
        owner = notice.owner
        if not owner.slack_user_id:
            log.info(
                "lead %s (%s) routed to %s, who has no Slack user id: no direct message",
                notice.lead.id,
                notice.stage,
                owner.id,
            )
            return
        text = assignment_dm(notice, self._zone(owner.id))
        self._post(owner.slack_user_id, text, what=f"the {notice.stage} message for lead {notice.lead.id}")

    def routing_alert(self, channel: str | None, text: str) -> None:
        self._post(channel or self.channel, text, what="a routing alert")

    def _zone(self, owner_id: str) -> tzinfo:
        if self._zone_of is None:
            return UTC
        try:
            return self._zone_of(owner_id)
        except AgentError:  # the deadline is still right, only worded in UTC
            log.warning("no working time zone for %s; the deadline is shown in UTC", owner_id)
            return UTC

    def _post(self, channel: str, text: str, *, what: str) -> None:
        try:
            self._client.chat_postMessage(channel=channel, text=text, unfurl_links=False)
        except (SlackClientError, OSError):
            log.exception("could not post %s to %s", what, channel)


def use_slack_for_routing(services: Services, client: WebClient, *, channel: str) -> SlackRoutingNotifier:
    """Tell routed leads' owners and the queues' channels in Slack from now on.

    Call it before the first ``services.routing()``: the routing service takes the
    notifier when it is built.
    """

    def zone_of(owner_id: str) -> tzinfo:
        return services.routing().router.working_time(owner_id).zone

    notifier = SlackRoutingNotifier(client, channel=channel, zone_of=zone_of)
    services.routing_notifier = notifier
    return notifier
