"""Deterministic stand-ins for time and ids (injected, never patched)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from agent.models import Approval

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class FixedClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def sequential_ids(prefix: str = "id") -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"{prefix}{next(counter):06d}"


class RecordingNotifier:
    """Records what the agent asked to tell people."""

    def __init__(self) -> None:
        self.requested: list[Approval] = []
        self.updated: list[Approval] = []

    def approval_requested(self, approval: Approval) -> None:
        self.requested.append(approval)

    def approval_updated(self, approval: Approval) -> None:
        self.updated.append(approval)


class StaticGroups:
    """Approver groups with fixed members."""

    def __init__(self, groups: dict[str, set[str]]) -> None:
        self.groups = groups

    def is_member(self, user_id: str, group_id: str) -> bool:
        return user_id in self.groups.get(group_id, set())
