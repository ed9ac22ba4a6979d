"""What the routing tests share: a notifier that records, and a service built from YAML text."""

from __future__ import annotations

from pathlib import Path

from agent.routing import FallbackAdvisor, RoutingService, build_routing, parse_routing_text
from agent.routing.service import AssignmentNotice, RoutingNotifier
from tests.support.fakes import sequential_ids
from tests.support.stack import Stack


class Recorder(RoutingNotifier):
    """Keeps every direct message and channel alert routing sends."""

    def __init__(self) -> None:
        self.assigned: list[AssignmentNotice] = []
        self.alerts: list[tuple[str | None, str]] = []

    def lead_assigned(self, notice: AssignmentNotice) -> None:
        self.assigned.append(notice)

    def routing_alert(self, channel: str | None, text: str) -> None:
        self.alerts.append((channel, text))


def routing_service(
    stack: Stack,
    text: str,
    base: Path,
    *,
    notifier: RoutingNotifier | None = None,
    advisor: FallbackAdvisor | None = None,
    id_prefix: str = "r",
) -> RoutingService:
    """A routing service over the stack's CRM and database, routing by ``text`` (``id_prefix``:
    of its assignment and action ids, distinct per service sharing one database)."""
    config, problems = parse_routing_text(text, base=base)
    assert config is not None, problems
    return build_routing(
        config,
        crm=stack.crm,
        runner=stack.services.runner,
        database=stack.services.database,
        audit=stack.services.audit,
        clock=stack.clock,
        new_id=sequential_ids(id_prefix),
        notifier=notifier,
        advisor=advisor,
    )
