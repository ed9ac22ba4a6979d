"""One agent pass: plan, classify by policy, execute the allowed, queue the gated, record the refused.

How each planned action meets the policy, the direct-write budget and the bulk
approvals is :class:`~agent.run_pass.RunPass`; what a run did is its
:class:`~agent.run_report.RunReport`.

Scope: a run plans over every record (full) or only over those changed since a
``since`` (incremental; :meth:`Runner.last_cursor` is the previous successful
run's cursor). It reads the CRM in chunks (:class:`~agent.planner.base.SnapshotReader`)
so memory stays bounded, with one direct-write budget for the whole run. The cursor
(the newest ``updated_at`` read) is stored in the run's ``stats["cursor"]``; only a
completed, non-dry run moves a job's cursor on.

A planner that also implements :class:`~agent.run_gate.ConsultingPlanner` (the
Claude planner) gets a :class:`~agent.run_gate.RunGate` after its planned actions
are through: it submits more actions one at a time, within the same run and the
same budget, and learns what became of each (executed, queued for approval,
refused, failed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent.approvals import ApprovalService
from agent.audit import AuditLog, Entry
from agent.errors import (
    CRMAuthError,
    CRMError,
    CRMValidationError,
    StaleRecordError,
    ValidationFailedError,
)
from agent.executor import Executor
from agent.memory import RejectionIndex, RejectionMemory
from agent.models import ExecutionResult, ProposedAction, Record
from agent.planner.base import BatchPlanner, CRMSnapshot, Planner, SnapshotReader
from agent.policy import Policy
from agent.ports import Clock, CRMClient
from agent.run_gate import ConsultingPlanner, RunGate
from agent.run_pass import RunPass
from agent.run_report import ProposalOutcome, RunProgress, RunReport, suppressed
from agent.store.database import Database
from agent.store.rows import ProposalRow, RunRow

log = logging.getLogger(__name__)


DEFAULT_CHUNK = 20_000
"""Records of one type planned at a time: about 100 MB of records in memory."""


class Runner:
    """Runs a planner over the CRM under a policy."""

    def __init__(
        self,
        database: Database,
        *,
        crm: CRMClient,
        policy: Policy,
        approvals: ApprovalService,
        executor: Executor,
        audit: AuditLog,
        clock: Clock,
        new_id: Callable[[], str],
        memory: RejectionMemory | None = None,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = lambda _seconds: None,
    ) -> None:
        self._memory = memory or RejectionMemory(database)
        self._db = database
        self._crm = crm
        self._policy = policy
        self._approvals = approvals
        self._executor = executor
        self._audit = audit
        self._clock = clock
        self._new_id = new_id
        self._max_attempts = max_attempts
        self._sleep = sleep

    def run(
        self,
        planner: Planner,
        *,
        job: str = "hygiene",
        trigger: str = "cli",
        dry_run: bool = False,
        since: datetime | None = None,
        chunk_size: int | None = DEFAULT_CHUNK,
        progress: RunProgress | None = None,
    ) -> RunReport:
        """Plan over the CRM (all of it, or what changed at or after ``since``) and submit what is planned.

        A :class:`ConsultingPlanner` sees one snapshot (``chunk_size`` is ignored);
        any other planner sees ``chunk_size`` records of one type at a time
        (``None``: one snapshot of everything).
        """
        run_id = self._start(job, trigger, planner.name, dry_run)
        report = RunReport(
            run_id=run_id, dry_run=dry_run, policy=self._policy.name, since=since, progress=progress
        )
        consulting = isinstance(planner, ConsultingPlanner)
        reader = SnapshotReader(
            self._crm, since=since, chunk_size=None if consulting else chunk_size, progress=progress
        )
        try:
            run_pass = RunPass(self, report, {"lead": {}, "contact": {}, "account": {}})
            run_pass.defer_bundles = not consulting
            for snapshot, actions in _planned(planner, reader):
                run_pass.records = {
                    "lead": {r.id: r for r in snapshot.leads},
                    "contact": {r.id: r for r in snapshot.contacts},
                    "account": {r.id: r for r in snapshot.accounts},
                }
                reader.claim(snapshot, actions)
                if progress is not None:
                    progress.planned(len(actions))
                self._process(report, actions, run_pass)
                if isinstance(planner, ConsultingPlanner):
                    report.planner_stats = planner.consult(snapshot, RunGate(self, report, run_pass))
            run_pass.flush_bundles()
        except Exception as error:
            self._scope(report, reader)
            self._finish(report, status="failed", error=f"{type(error).__name__}: {error}")
            raise
        self._scope(report, reader)
        self._finish(report, status="completed")
        return report

    def last_cursor(self, job: str = "hygiene") -> datetime | None:
        """The cursor of the job's latest completed, non-dry run (``None``: no such run yet).

        A failed run and a dry run (which wrote nothing) leave the cursor where it was.
        """
        stmt = (
            select(RunRow.stats)
            .where(RunRow.job == job, RunRow.status == "completed", RunRow.dry_run.is_(False))
            .order_by(RunRow.started_at.desc(), RunRow.id.desc())
            .limit(50)
        )
        with self._db.reading() as session:
            for stats in session.scalars(stmt):
                cursor = (stats or {}).get("cursor")
                if isinstance(cursor, str):
                    return datetime.fromisoformat(cursor)
        return None

    def last_full_run_at(self, job: str = "hygiene") -> datetime | None:
        """When the job's latest completed, non-dry *full* run started (``None``: never)."""
        stmt = (
            select(RunRow.started_at, RunRow.stats)
            .where(RunRow.job == job, RunRow.status == "completed", RunRow.dry_run.is_(False))
            .order_by(RunRow.started_at.desc(), RunRow.id.desc())
            .limit(200)
        )
        with self._db.reading() as session:
            for started_at, stats in session.execute(stmt):
                if ((stats or {}).get("scope") or {}).get("mode") == "full":
                    found: datetime = started_at
                    return found
        return None

    @staticmethod
    def _scope(report: RunReport, reader: SnapshotReader) -> None:
        report.scanned = True
        report.cursor = reader.cursor
        report.records_read = reader.read_count
        report.context_records = reader.context_count

    def submit(
        self, actions: list[ProposedAction], *, job: str, trigger: str, planner: str = "request"
    ) -> RunReport:
        """Put a few actions (a slash command's, say) through the same gate as a run."""
        run_id = self._start(job, trigger, planner, False)
        report = RunReport(run_id=run_id, dry_run=False, policy=self._policy.name)
        try:
            records: dict[str, dict[str, Record]] = {"lead": {}, "contact": {}, "account": {}}
            for action in actions:
                records[action.object_type].update(self._crm.get_many(action.object_type, action.record_ids))
            self._process(report, actions, RunPass(self, report, records))
        except Exception as error:
            self._finish(report, status="failed", error=f"{type(error).__name__}: {error}")
            raise
        self._finish(report, status="completed")
        return report

    def _process(self, report: RunReport, actions: list[ProposedAction], run_pass: RunPass) -> None:
        remaining = []
        for object_type in ("lead", "contact", "account"):
            of_type = [a for a in actions if a.object_type == object_type]
            if not of_type:
                continue
            record_ids = {rid for a in of_type for rid in a.record_ids}
            rejections = RejectionIndex(self._memory.for_records(object_type, record_ids))
            for action in of_type:
                rejected = rejections.suppressing(action)
                if rejected is None:
                    remaining.append(action)
                    continue
                outcome = suppressed(action, rejected, detail=f"approval {rejected.approval_id}")
                self.record(report, outcome, action.kind, None)
        order = {a.id: n for n, a in enumerate(actions)}
        run_pass.process(sorted(remaining, key=lambda a: order[a.id]))

    # -- bookkeeping -----------------------------------------------------------

    def _start(self, job: str, trigger: str, planner: str, dry_run: bool) -> str:
        run_id = self._new_id()
        with self._db.transaction() as session:
            session.add(
                RunRow(
                    id=run_id,
                    job=job,
                    trigger=trigger,
                    planner=planner,
                    policy_name=self._policy.name,
                    dry_run=dry_run,
                    status="running",
                    started_at=self._clock.now(),
                    stats={},
                )
            )
            session.flush()
            self._audit.append(
                session,
                actor="agent",
                event="run_started",
                subject=run_id,
                payload={"job": job, "trigger": trigger, "planner": planner, "dry_run": dry_run},
            )
        return run_id

    def _finish(self, report: RunReport, *, status: str, error: str | None = None) -> None:
        stats: dict[str, Any] = {kind: dict(counts) for kind, counts in report.by_kind().items()}
        if report.planner_stats:
            stats["planner"] = report.planner_stats
        if report.cursor is not None:
            stats["cursor"] = report.cursor.isoformat()
        if report.scanned:
            stats["scope"] = {
                "mode": "full" if report.since is None else "incremental",
                "since": report.since.isoformat() if report.since else None,
                "read": report.records_read,
                "context": report.context_records,
            }
        with self._db.transaction() as session:
            session.execute(
                update(RunRow)
                .where(RunRow.id == report.run_id)
                .values(status=status, finished_at=self._clock.now(), stats=stats, error=error)
            )
            self._audit.append(
                session,
                actor="agent",
                event="run_finished",
                subject=report.run_id,
                payload={"status": status, **stats},
            )

    def record(
        self, report: RunReport, outcome: ProposalOutcome, facts_kind: str, result: ExecutionResult | None
    ) -> None:
        """Store one proposal's fate and audit it, in one transaction."""
        self.record_all(report, [(outcome, facts_kind, result)])

    def record_all(
        self, report: RunReport, fates: Sequence[tuple[ProposalOutcome, str, ExecutionResult | None]]
    ) -> None:
        """Store several proposals' fates (``(outcome, facts kind, result)``) in one transaction."""
        if not fates:
            return
        with self._db.transaction() as session:
            audited = [self._record_in(session, report, *fate) for fate in fates]
            self._audit.append_many(session, [entry for entry in audited if entry is not None])
        report.outcomes.extend(outcome.for_report() for outcome, _, _ in fates)
        if report.progress is not None:
            report.progress.gated(len(fates))

    def _record_in(
        self,
        session: Session,
        report: RunReport,
        outcome: ProposalOutcome,
        facts_kind: str,
        result: ExecutionResult | None,
    ) -> Entry | None:
        """Add the proposal's row; the audit entry for it, when its fate is audited."""
        action, verdict = outcome.action, outcome.verdict
        session.add(
            ProposalRow(
                id=action.id,
                run_id=report.run_id,
                kind=action.kind,
                effective_kind=facts_kind,
                object_type=action.object_type,
                record_count=len(action.targets),
                check=action.check,
                outcome=verdict.outcome,
                disposition=outcome.disposition,
                reason=verdict.reason,
                rule=verdict.rule,
                approval_id=outcome.approval_id,
                action=action.model_dump(mode="json"),
                result=result.model_dump(mode="json") if result else None,
                error=outcome.detail or None,
                created_at=self._clock.now(),
            )
        )
        if outcome.disposition not in ("executed", "refused", "failed", "superseded", "suppressed"):
            return None
        return Entry(
            actor="agent",
            event=f"action_{outcome.disposition}",
            subject=action.id,
            rule=verdict.rule,
            payload={
                "run_id": report.run_id,
                "kind": action.kind,
                "records": action.record_ids,
                "reason": verdict.reason,
                "detail": outcome.detail,
                "result": result.model_dump(mode="json") if result else None,
            },
        )

    def execute_with_retries(self, action: ProposedAction) -> ExecutionResult:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._executor.execute(action, key=action.id)
            except (StaleRecordError, ValidationFailedError, CRMAuthError, CRMValidationError):
                raise
            except CRMError as error:
                if attempt >= self._max_attempts:
                    raise
                delay = min(30.0, 0.5 * 2**attempt)
                log.warning("%s failed (%s), attempt %d; retrying in %.1fs", action.id, error, attempt, delay)
                self._sleep(delay)


def _planned(planner: Planner, reader: SnapshotReader) -> Iterator[tuple[CRMSnapshot, list[ProposedAction]]]:
    """Each snapshot with its plan: the batches of likely duplicates first (a
    :class:`BatchPlanner` plans them ahead, in parallel), then the chunks, one at a time
    (each one sees the records the batches claimed)."""
    batches = reader.duplicate_batches()
    if isinstance(planner, BatchPlanner):
        yield from planner.plan_batches(batches)
    else:
        yield from ((batch, planner.plan(batch)) for batch in batches)
    yield from ((chunk, planner.plan(chunk)) for chunk in reader.chunks())
