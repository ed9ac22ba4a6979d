"""Approver groups resolved through the Slack Web API (``usergroups.users.list``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class SlackGroupDirectory:
    """Implements the agent's ``ApproverDirectory``; memberships are cached for ``ttl`` seconds.

    An unknown or unreadable group has no members: failing closed means an
    outage can delay a decision but never let the wrong person make it.
    """

    def __init__(
        self, client: WebClient, *, ttl: float = 60.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def is_member(self, user_id: str, group_id: str) -> bool:
        return user_id in self.members(group_id)

    def members(self, group_id: str) -> frozenset[str]:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(group_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            response = self._client.usergroups_users_list(usergroup=group_id)
            users = frozenset(str(u) for u in response.get("users") or [])
        except SlackApiError as error:
            log.warning("cannot read user group %s: %s", group_id, error.response.get("error"))
            users = frozenset()
        with self._lock:
            self._cache[group_id] = (now, users)
        return users
