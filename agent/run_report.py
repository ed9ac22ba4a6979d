"""What a run did: each proposal's fate (:class:`ProposalOutcome`) and the run's :class:`RunReport`."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from agent.memory import Rejection
from agent.models import ProposedAction, Verdict
from agent.planner.base import ReadProgress

Disposition = str
"""executed / queued / refused / failed / superseded / duplicate / suppressed / planned"""

REPORT_TARGETS = 1_000
"""Targets a run's report keeps of one outcome (a bulk bundle's are all stored, only the report is cut)."""


class RunProgress(ReadProgress, Protocol):
    """Told how a run goes: records read (see ``ReadProgress``), then proposals gated."""

    def planned(self, count: int) -> None:
        """``count`` more proposals are waiting for the gate."""
        ...

    def gated(self, count: int) -> None:
        """``count`` proposals went through the gate (stored with their outcome)."""
        ...


@dataclass(frozen=True)
class ProposalOutcome:
    action: ProposedAction
    verdict: Verdict
    disposition: Disposition
    approval_id: str | None = None
    detail: str = ""
    record_count: int | None = None
    """How many records the action touched, when the report keeps only the first
    :data:`REPORT_TARGETS` of its targets (a large bulk bundle); else ``None``."""

    @property
    def records_touched(self) -> int:
        return self.record_count if self.record_count is not None else len(self.action.targets)

    def for_report(self) -> ProposalOutcome:
        """This outcome, its action cut to :data:`REPORT_TARGETS` targets (the store keeps them all)."""
        targets = self.action.targets
        if len(targets) <= REPORT_TARGETS:
            return self
        cut = self.action.model_copy(update={"targets": targets[:REPORT_TARGETS]})
        return replace(self, action=cut, record_count=len(targets))


def suppressed(action: ProposedAction, rejected: Rejection, *, detail: str) -> ProposalOutcome:
    """The outcome of a change a person already rejected on the same record version."""
    verdict = Verdict(
        outcome="deny",
        reason=f"rejected by {rejected.user_id}: {rejected.reason}",
        rule="memory: rejected before, record unchanged since",
    )
    return ProposalOutcome(action, verdict, "suppressed", detail=detail)


@dataclass
class RunReport:
    """What one pass did, by action kind and disposition."""

    run_id: str
    dry_run: bool
    policy: str
    outcomes: list[ProposalOutcome] = field(default_factory=list)
    planner_stats: dict[str, Any] = field(default_factory=dict)
    """What a consulting planner reports (model calls, tokens, cost, fallback); ``stats["planner"]``."""
    since: datetime | None = None
    """An incremental run's start point (records changed at or after it); ``None``: a full run."""
    cursor: datetime | None = None
    """The newest ``updated_at`` this run read: the next incremental run's ``since``."""
    records_read: int = 0
    """Records read by the scan (changed ones, for an incremental run)."""
    context_records: int = 0
    """Unchanged records read because a check needed them (duplicates, inactive owners' accounts)."""
    scanned: bool = False
    """Whether this report comes from a scan of the CRM (``run``), not from ``submit``."""
    progress: RunProgress | None = field(default=None, repr=False, compare=False)

    def count(self, disposition: str, kind: str | None = None) -> int:
        return sum(
            1
            for o in self.outcomes
            if o.disposition == disposition and (kind is None or o.action.kind == kind)
        )

    def records(self, disposition: str) -> int:
        return sum(o.records_touched for o in self.outcomes if o.disposition == disposition)

    def by_kind(self) -> dict[str, Counter[str]]:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for outcome in self.outcomes:
            table[outcome.action.kind][outcome.disposition] += 1
        return dict(sorted(table.items()))

    def with_disposition(self, disposition: str) -> list[ProposalOutcome]:
        return [o for o in self.outcomes if o.disposition == disposition]
