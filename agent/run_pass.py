"""One run's gate state: the policy on each planned action, direct writes within the budget,
approval requests for the gated, and the allowed changes over the budget bundled into bulk approvals.

The per-run ``bulk_operations`` budget: allowed changes run directly until the run has
written ``max_records`` records; the allowed changes left over are bundled per kind into
one bulk approval, so a first pass over a messy CRM asks a person once ("normalise 140
phone numbers?") instead of rewriting it unattended. A chunked run holds them back until
its end, or until one kind holds :data:`BUNDLE_MAX_RECORDS` records: then it asks in parts.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from agent.errors import CRMError, StaleRecordError, ValidationFailedError
from agent.facts import gather_facts
from agent.models import ExecutionResult, ProposedAction, Record, Target, Verdict
from agent.policy import evaluate
from agent.run_report import ProposalOutcome, RunReport

if TYPE_CHECKING:
    from agent.runner import Runner

log = logging.getLogger(__name__)

DIRECT_PRIORITY: dict[str, int] = {
    "assign_owner": 0,
    "update_lead_status": 1,
    "add_note": 2,
    "enrich_data": 3,
    "normalize_field": 4,
}
"""Which allowed kinds get the run's direct-write budget first: an unowned lead
waiting for a rep matters more than a phone number's format (speed-to-lead)."""

BUNDLE_MAX_RECORDS = 10_000
"""Records in one bulk approval of a chunked run; more are asked for in further parts."""
WRITE_BATCH = 200
"""Gated proposals written per transaction: one commit per batch, short enough that a person's
click waiting for the database lock is not held up for long."""


class RunPass:
    """The state of one pass: the records it saw and the versions it produced."""

    def __init__(self, runner: Runner, report: RunReport, records: dict[str, dict[str, Record]]) -> None:
        self.runner = runner
        self.report = report
        self.records = records
        self.policy = runner._policy
        self.touched = 0
        # (object_type, record id) -> (version in the snapshot, version after our own write)
        self.produced: dict[tuple[str, str], tuple[str, str]] = {}
        self.defer_bundles = False
        """Hold allowed changes over the budget until :meth:`flush_bundles` (a chunked run)."""
        self.held_back: dict[tuple[str, str], list[ProposedAction]] = defaultdict(list)
        # The records of held-back actions by (kind, object type), kept past their chunk for the
        # bundle's facts; a key's actions and records go once its bundle is queued.
        self.held_records: dict[tuple[str, str], dict[str, Record]] = defaultdict(dict)
        self.bundle_parts: Counter[tuple[str, str]] = Counter()

    def process(self, actions: list[ProposedAction]) -> None:
        direct: list[ProposedAction] = []
        gated: list[tuple[ProposedAction, Verdict, str]] = []
        refused: list[tuple[ProposalOutcome, str, ExecutionResult | None]] = []
        for action in actions:
            facts = gather_facts(action, self.records[action.object_type], self.policy)
            verdict = evaluate(self.policy, action, facts)
            if verdict.outcome == "allow":
                direct.append(action)
            elif verdict.outcome == "require_approval":
                gated.append((action, verdict, facts.effective_kind))
            else:
                refused.append((ProposalOutcome(action, verdict, "refused"), facts.effective_kind, None))
        for start in range(0, len(refused), WRITE_BATCH):
            self.runner.record_all(self.report, refused[start : start + WRITE_BATCH])
        held_back: dict[tuple[str, str], list[ProposedAction]] = defaultdict(list)
        for action in sorted(direct, key=lambda a: DIRECT_PRIORITY.get(a.kind, len(DIRECT_PRIORITY))):
            self._direct(action, held_back)
        for (kind, object_type), members in held_back.items():
            if not self.defer_bundles:
                gated.append(self._bundle(kind, object_type, members, self.records[object_type]))
                continue
            key = (kind, object_type)
            self.held_back[key].extend(members)
            records = self.records[object_type]
            self.held_records[key].update((rid, records[rid]) for m in members for rid in m.record_ids)
            if len(self.held_records[key]) >= BUNDLE_MAX_RECORDS:
                gated.append(self._take_bundle(key))
        self._queue_all(gated)

    def flush_bundles(self) -> None:
        """Queue what a chunked run still holds back over the budget: one bulk approval per kind and type
        (the last part, when the run already asked for earlier ones)."""
        self._queue_all([self._take_bundle(key, last=True) for key in list(self.held_back)])

    def _take_bundle(
        self, key: tuple[str, str], *, last: bool = False
    ) -> tuple[ProposedAction, Verdict, str]:
        """The held-back actions of ``key`` as one bundle, forgotten here so memory stays bounded:
        a run holding back more than :data:`BUNDLE_MAX_RECORDS` records of one kind asks in parts."""
        members, records = self.held_back.pop(key), self.held_records.pop(key)
        self.bundle_parts[key] += 1
        part = self.bundle_parts[key]
        return self._bundle(*key, members, records, part=None if last and part == 1 else part)

    def _direct(self, action: ProposedAction, held_back: dict[tuple[str, str], list[ProposedAction]]) -> None:
        action = self._rebase(action)
        facts = gather_facts(
            action, self.records[action.object_type], self.policy, run_records_touched=self.touched
        )
        verdict = evaluate(self.policy, action, facts)
        if verdict.outcome == "require_approval" and action.kind == "book_meeting":
            # A meeting is one lead's, at one time: it is asked for alone, never bundled.
            self._queue(action, verdict, facts.effective_kind)
            return
        if verdict.outcome == "require_approval":
            held_back[(action.kind, action.object_type)].append(action)
            return
        if verdict.outcome == "deny":
            self.runner.record(
                self.report, ProposalOutcome(action, verdict, "refused"), facts.effective_kind, None
            )
            return
        if self.report.dry_run:
            self.touched += len(action.targets)
            self.runner.record(
                self.report, ProposalOutcome(action, verdict, "planned"), facts.effective_kind, None
            )
            return
        try:
            result = self.runner.execute_with_retries(action)
        except StaleRecordError as stale:
            outcome = ProposalOutcome(action, verdict, "superseded", detail=str(stale))
            self.runner.record(self.report, outcome, facts.effective_kind, None)
            return
        except (ValidationFailedError, CRMError) as error:
            outcome = ProposalOutcome(action, verdict, "failed", detail=f"{type(error).__name__}: {error}")
            self.runner.record(self.report, outcome, facts.effective_kind, None)
            return
        self.touched += len(result.written)
        for record_id, version in result.versions.items():
            key = (action.object_type, record_id)
            original = self.produced.get(key, (self.records[action.object_type][record_id].version, ""))[0]
            self.produced[key] = (original, version)
        self.runner.record(
            self.report, ProposalOutcome(action, verdict, "executed"), facts.effective_kind, result
        )

    def _bundle(
        self,
        kind: str,
        object_type: str,
        members: list[ProposedAction],
        records: Mapping[str, Record],
        *,
        part: int | None = None,
    ) -> tuple[ProposedAction, Verdict, str]:
        first = members[0]
        targets: list[Target] = [t for member in members for t in member.targets]
        numbered = f" (part {part})" if part is not None else ""
        bundle = first.model_copy(
            update={
                "id": self.runner._new_id(),
                "targets": targets,
                "check": "bulk",
                "rationale": (
                    f"{len(members)} {kind} changes on {len(targets)} {object_type}s held back as one bulk "
                    f"operation{numbered}: this run already wrote {self.touched} records directly, the "
                    f"policy's limit is {self.policy.bulk_operations.max_records}. Example: {first.rationale}"
                ),
                "evidence": {
                    "bulk_of": len(members),
                    "checks": ", ".join(sorted({m.check for m in members})),
                    **({"part": part} if part is not None else {}),
                },
            }
        )
        facts = gather_facts(bundle, records, self.policy, run_records_touched=self.touched)
        return bundle, evaluate(self.policy, bundle, facts), facts.effective_kind

    def _queue(self, action: ProposedAction, verdict: Verdict, kind: str) -> None:
        self._queue_all([(action, verdict, kind)])

    def _queue_all(self, gated: Sequence[tuple[ProposedAction, Verdict, str]]) -> None:
        """Refuse, plan (dry run) or request approval for each, writing in batches of :data:`WRITE_BATCH`."""
        for start in range(0, len(gated), WRITE_BATCH):
            batch = [
                (self._rebase(action), verdict, kind)
                for action, verdict, kind in gated[start : start + WRITE_BATCH]
            ]
            requests = [(a, v) for a, v, _ in batch if v.outcome != "deny" and not self.report.dry_run]
            approvals = iter(self.runner._approvals.request_many(requests, run_id=self.report.run_id))
            fates: list[tuple[ProposalOutcome, str, ExecutionResult | None]] = []
            for action, verdict, kind in batch:
                if verdict.outcome == "deny":
                    outcome = ProposalOutcome(action, verdict, "refused")
                elif self.report.dry_run:
                    outcome = ProposalOutcome(action, verdict, "planned")
                else:
                    approval = next(approvals)
                    disposition = "queued" if approval is not None else "duplicate"
                    outcome = ProposalOutcome(action, verdict, disposition, approval.id if approval else None)
                fates.append((outcome, kind, None))
            self.runner.record_all(self.report, fates)

    def _rebase(self, action: ProposedAction) -> ProposedAction:
        """Move targets onto versions this pass produced itself.

        Only our own earlier writes in this pass are accepted as "unchanged": the
        planner guarantees those touched other fields of the record.
        """
        changed = False
        targets = []
        for target in action.targets:
            seen = self.produced.get((action.object_type, target.record_id))
            if seen is not None and target.version == seen[0]:
                target = target.model_copy(update={"version": seen[1]})
                changed = True
            targets.append(target)
        return action.model_copy(update={"targets": targets}) if changed else action
