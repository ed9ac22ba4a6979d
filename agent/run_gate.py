"""Actions submitted one at a time within a run (a model's tool calls): :class:`RunGate`."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agent.facts import gather_facts
from agent.memory import RejectionIndex
from agent.models import ProposedAction
from agent.planner.base import CRMSnapshot
from agent.policy import evaluate
from agent.preflight import preflight_problems
from agent.run_pass import RunPass
from agent.run_report import ProposalOutcome, RunReport, suppressed

if TYPE_CHECKING:
    from agent.runner import Runner


class RunGate:
    """One run's gate for actions submitted one at a time (a model's tool calls).

    Each action goes through exactly what a planned action goes through, in the
    same run and against the same direct-write budget: rejection memory, the
    policy on facts read from the CRM now, then the executor (pre-flight,
    compare-and-set, post-condition) or an approval request. On top of that, a
    submitted action must pass :func:`~agent.preflight.preflight_problems`: it
    was not planned from the run's own snapshot, so its ids, versions, fields
    and before-values are checked against the CRM before anything runs or a
    person sees it. Nothing here raises for a bad action: the outcome says why.
    """

    def __init__(self, runner: Runner, report: RunReport, run_pass: RunPass) -> None:
        self._runner = runner
        self._report = report
        self._pass = run_pass

    @property
    def run_id(self) -> str:
        return self._report.run_id

    @property
    def dry_run(self) -> bool:
        return self._report.dry_run

    def submit(self, action: ProposedAction) -> ProposalOutcome:
        """Gate one action and return what became of it (also stored and audited)."""
        runner, run_pass, report = self._runner, self._pass, self._report
        seen = len(report.outcomes)
        current = runner._crm.get_many(action.object_type, action.record_ids)
        run_pass.records[action.object_type].update(current)
        rejections = runner._memory.for_records(action.object_type, action.record_ids)
        rejected = RejectionIndex(rejections).suppressing(action)
        if rejected is not None:
            outcome = suppressed(action, rejected, detail=f"rejected in approval {rejected.approval_id}")
            runner.record(report, outcome, action.kind, None)
            return outcome
        facts = gather_facts(action, current, run_pass.policy)
        verdict = evaluate(run_pass.policy, action, facts)
        rebased = run_pass._rebase(action)
        problems = [] if verdict.outcome == "deny" else preflight_problems(rebased, current)
        if verdict.outcome == "deny" or problems:
            disposition, detail = ("refused", "") if not problems else ("failed", "; ".join(problems))
            outcome = ProposalOutcome(
                action, verdict, disposition, detail=f"ValidationFailedError: {detail}" if detail else ""
            )
            runner.record(report, outcome, facts.effective_kind, None)
            return outcome
        if verdict.outcome == "allow":
            held_back: dict[tuple[str, str], list[ProposedAction]] = defaultdict(list)
            run_pass._direct(action, held_back)
            for members in held_back.values():
                for member in members:
                    facts = gather_facts(
                        member, current, run_pass.policy, run_records_touched=run_pass.touched
                    )
                    run_pass._queue(member, evaluate(run_pass.policy, member, facts), facts.effective_kind)
        else:
            run_pass._queue(action, verdict, facts.effective_kind)
        return report.outcomes[seen:][-1]

    def audit(self, event: str, payload: dict[str, Any], *, rule: str | None = None) -> None:
        """Append an event about this run (a model's tool call, a fallback) to the audit log."""
        runner = self._runner
        with runner._db.transaction() as session:
            runner._audit.append(
                session, actor="agent", event=event, subject=self.run_id, rule=rule, payload=payload
            )


@runtime_checkable
class ConsultingPlanner(Protocol):
    """A planner that, after its planned actions, submits more through the run's gate."""

    name: str

    def plan(self, snapshot: CRMSnapshot) -> list[ProposedAction]: ...

    def consult(self, snapshot: CRMSnapshot, gate: RunGate) -> dict[str, Any]:
        """Submit actions through ``gate``; return stats for the run report (``stats["planner"]``)."""
        ...
