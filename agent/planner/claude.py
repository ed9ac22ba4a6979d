"""The Claude planner: rules first, the model only for what rules cannot decide.

``plan`` is all rules: the offline planner's checks plus the title keyword table
(:mod:`~agent.planner.titles`). ``consult`` then builds the cases the rules leave
open (fuzzy duplicate pairs, titles the table cannot place), sends them to the
model in batches with only the fields each case needs, and submits every
proposal the model makes through the run's :class:`~agent.run_gate.RunGate`: the
policy decides on the data, the executor writes, gated changes become approvals.

The model never decides anything alone and nothing it says is an instruction to
revgate. When there is no key, the API stays down after retries, or the run's
budget is spent, ``consult`` stops asking, the run finishes on the rules, and the
run's stats and audit log say why (``fallback``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agent.llm.accounting import TokenUsage, cost_estimate
from agent.llm.budget import BudgetMeter, LLMBudget
from agent.llm.client import ModelConfig, ModelUnavailableError, RetryPolicy, open_client
from agent.memory import RejectionMemory
from agent.models import ObjectType, ProposedAction, Record
from agent.planner.base import CRMSnapshot
from agent.planner.cases import Case, batches, build_cases, reserved_records
from agent.planner.offline import OfflinePlanner
from agent.planner.session import BatchSession
from agent.planner.titles import title_enrichments
from agent.run_gate import RunGate

NO_KEY = "no ANTHROPIC_API_KEY is set"


class ClaudePlanner:
    """Rules, then Claude (anthropic SDK, tool use) for the cases rules cannot decide."""

    name = "claude"

    def __init__(
        self,
        *,
        rules: OfflinePlanner,
        model: ModelConfig | None,
        memory: RejectionMemory,
        new_id: Callable[[], str],
        budget: LLMBudget | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        unavailable: str = NO_KEY,
    ) -> None:
        """``model=None`` runs on the rules alone; ``unavailable`` says why, in the report."""
        self._rules = rules
        self._model = model
        self._memory = memory
        self._new_id = new_id
        self._budget = budget or LLMBudget()
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self._unavailable = unavailable

    def plan(self, snapshot: CRMSnapshot) -> list[ProposedAction]:
        """The offline planner's proposals, then ``enrich_data`` for the titles the table places."""
        actions = self._rules.plan(snapshot)
        drafts, _ = title_enrichments([*snapshot.leads, *snapshot.contacts], reserved_records(snapshot))
        return [*actions, *(draft.to_action(self._new_id(), self._rules.name) for draft in drafts)]

    def consult(self, snapshot: CRMSnapshot, gate: RunGate) -> dict[str, Any]:
        """Ask the model about the open cases, batch by batch; return the run's model stats."""
        cases = build_cases(snapshot, reserved_records(snapshot))
        usage = TokenUsage()
        stats: dict[str, Any] = {
            "requested": self.name,
            "model": self._model.model if self._model else None,
            "cases": len(cases),
            "judgement_records": len({(c.object_type, r.id) for c in cases for r in c.records}),
            "batches": 0,
            "decided": 0,
            "tool_calls": 0,
            "tool_errors": 0,
            "proposals": 0,
            "fallback": None,
        }
        if not cases:
            return self._finish(stats, usage, retries=0)
        if self._model is None:
            return self._fall_back(gate, stats, usage, self._unavailable, retries=0)
        records: dict[ObjectType, dict[str, Record]] = {
            "lead": {r.id: r for r in snapshot.leads},
            "contact": {r.id: r for r in snapshot.contacts},
            "account": {r.id: r for r in snapshot.accounts},
        }
        meter = BudgetMeter(self._budget, usage, self._monotonic)
        planned = batches(cases, self._budget.batch_records)
        with open_client(self._model, meter=meter, retry=self._retry, sleep=self._sleep) as client:
            for number, batch in enumerate(planned, start=1):
                exhausted = meter.exhausted()
                if exhausted:
                    return self._fall_back(
                        gate, stats, usage, f"budget exhausted: {exhausted}", client.retries
                    )
                session = BatchSession(
                    client=client,
                    gate=gate,
                    meter=meter,
                    cases=batch,
                    all_cases=cases,
                    records=records,
                    rejections=self._rejections(batch),
                    new_id=self._new_id,
                    label=f"{number} of {len(planned)}",
                )
                try:
                    result = session.run()
                except ModelUnavailableError as error:
                    self._count(stats, session)
                    return self._fall_back(
                        gate, stats, usage, f"model unavailable: {error.reason}", client.retries
                    )
                self._count(stats, session)
                if result.stopped and result.stopped.startswith("budget"):
                    return self._fall_back(gate, stats, usage, result.stopped, client.retries)
            return self._finish(stats, usage, retries=client.retries)

    # -- helpers -----------------------------------------------------------------------

    def _rejections(self, batch: list[Case]) -> list[dict[str, Any]]:
        """What people rejected before on the batch's records, for the prompt."""
        found: list[dict[str, Any]] = []
        for object_type in sorted({c.object_type for c in batch}):
            ids = {r.id for c in batch if c.object_type == object_type for r in c.records}
            for rejection in self._memory.for_records(object_type, ids):
                found.append(
                    {
                        "kind": rejection.kind,
                        "record": rejection.record_id,
                        "version": rejection.record_version,
                        "reason": rejection.reason,
                    }
                )
        return found

    @staticmethod
    def _count(stats: dict[str, Any], session: BatchSession) -> None:
        result = session.result
        stats["batches"] += 1
        stats["decided"] += len(result.resolved)
        stats["tool_calls"] += result.tool_calls
        stats["tool_errors"] += result.tool_errors
        stats["proposals"] += result.proposals

    def _fall_back(
        self, gate: RunGate, stats: dict[str, Any], usage: TokenUsage, reason: str, retries: int
    ) -> dict[str, Any]:
        stats["fallback"] = reason
        undecided = stats["cases"] - stats["decided"]
        gate.audit(
            "planner_fallback",
            {
                "planner": self.name,
                "reason": reason,
                "undecided_cases": undecided,
                "finished_on": "offline rules",
            },
        )
        return self._finish(stats, usage, retries)

    def _finish(self, stats: dict[str, Any], usage: TokenUsage, retries: int) -> dict[str, Any]:
        model = self._model.model if self._model else ""
        stats.update(usage.as_dict())
        stats["retries"] = retries
        stats["undecided"] = stats["cases"] - stats["decided"]
        stats["cost_usd"] = cost_estimate(model, usage) if model else 0.0
        return stats
