"""One agent pass: plan, classify by policy, execute the allowed, queue the gated, record the refused.

The per-run ``bulk_operations`` budget: allowed changes run directly until the
run has written ``max_records`` records; the allowed changes left over are
bundled per kind into one bulk approval, so a first pass over a messy CRM asks
a person once ("normalise 140 phone numbers?") instead of rewriting it unattended.

Scope: a run plans over every record (full) or only over those changed since a
``since`` (incremental; :meth:`Runner.last_cursor` is the previous successful
run's cursor). It reads the CRM in chunks (:class:`~agent.planner.base.SnapshotReader`)
so memory stays bounded, with one direct-write budget and one bulk bundle per kind
for the whole run. The cursor (the newest ``updated_at`` read) is stored in the
run's ``stats["cursor"]``; only a completed, non-dry run moves a job's cursor on.

A planner that also implements :class:`ConsultingPlanner` (the Claude planner)
gets a :class:`RunGate` after its planned actions are through: it submits more
actions one at a time, within the same run and the same budget, and learns what
became of each (executed, queued for approval, refused, failed).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

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
from agent.facts import gather_facts
from agent.memory import Rejection, RejectionIndex, RejectionMemory
from agent.models import ExecutionResult, ProposedAction, Record, Target, Verdict
from agent.planner.base import CRMSnapshot, Planner, ReadProgress, SnapshotReader
from agent.policy import Policy, evaluate
from agent.ports import Clock, CRMClient
from agent.preflight import preflight_problems
from agent.store.database import Database
from agent.store.rows import ProposalRow, RunRow

log = logging.getLogger(__name__)

Disposition = str
"""executed / queued / refused / failed / superseded / duplicate / suppressed / planned"""

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
REPORT_TARGETS = 1_000
"""Targets a run's report keeps of one outcome (a bulk bundle's are all stored, only the report is cut)."""
WRITE_BATCH = 200
"""Gated proposals written per transaction: one commit per batch, short enough that a person's
click waiting for the database lock is not held up for long."""
DEFAULT_CHUNK = 20_000
"""Records of one type planned at a time: about 100 MB of records in memory."""


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
            run_pass = _RunPass(self, report, {"lead": {}, "contact": {}, "account": {}})
            run_pass.defer_bundles = not consulting
            for snapshot in reader.snapshots():
                run_pass.records = {
                    "lead": {r.id: r for r in snapshot.leads},
                    "contact": {r.id: r for r in snapshot.contacts},
                    "account": {r.id: r for r in snapshot.accounts},
                }
                actions = planner.plan(snapshot)
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
            self._process(report, actions, _RunPass(self, report, records))
        except Exception as error:
            self._finish(report, status="failed", error=f"{type(error).__name__}: {error}")
            raise
        self._finish(report, status="completed")
        return report

    def _process(self, report: RunReport, actions: list[ProposedAction], run_pass: _RunPass) -> None:
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


class _RunPass:
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
            outcome = ProposalOutcome(action, verdict, "superseded", str(stale))
            self.runner.record(self.report, outcome, facts.effective_kind, None)
            return
        except (ValidationFailedError, CRMError) as error:
            outcome = ProposalOutcome(action, verdict, "failed", f"{type(error).__name__}: {error}")
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

    def __init__(self, runner: Runner, report: RunReport, run_pass: _RunPass) -> None:
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
