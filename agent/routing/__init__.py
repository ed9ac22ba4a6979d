"""Lead routing: rules, territories, account matching, fair pools, SLA clocks (``routing.yaml``).

:func:`build_routing` wires a :class:`RoutingService` from a loaded configuration; the
composition root calls it, and tests call it with their own clock and ids.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.audit import AuditLog
from agent.ports import Clock, CRMClient
from agent.routing.config import RoutingConfig
from agent.routing.decision import RouteDecision
from agent.routing.engine import FallbackAdvisor, Router
from agent.routing.pools import PoolLedger
from agent.routing.routing_file import load_routing, parse_routing_text
from agent.routing.service import (
    AssignmentNotice,
    OpenLeadCounts,
    OwnerLoads,
    RoutedCounts,
    RoutingNotifier,
    RoutingResult,
    RoutingService,
)
from agent.runner import Runner
from agent.store.database import Database

__all__ = [
    "AssignmentNotice",
    "FallbackAdvisor",
    "RouteDecision",
    "Router",
    "RoutingConfig",
    "RoutingNotifier",
    "RoutingResult",
    "RoutingService",
    "build_routing",
    "load_routing",
    "parse_routing_text",
]


def build_routing(
    config: RoutingConfig,
    *,
    crm: CRMClient,
    runner: Runner,
    database: Database,
    audit: AuditLog,
    clock: Clock,
    new_id: Callable[[], str],
    notifier: RoutingNotifier | None = None,
    advisor: FallbackAdvisor | None = None,
) -> RoutingService:
    """A routing service over ``crm``, its pool state and assignments in ``database``."""
    loads = OwnerLoads(OpenLeadCounts(crm, clock), RoutedCounts(database, clock))
    router = Router(
        crm,
        config,
        PoolLedger(database),
        clock=clock,
        new_id=new_id,
        load_of=loads.of,
        advisor=advisor,
    )
    return RoutingService(
        router, runner, database, audit, clock=clock, new_id=new_id, loads=loads, notifier=notifier
    )
