"""A worker killed at every step between "approved" and "executed", and one stopped by SIGTERM.

Each crash test seeds four approved actions (merge, two-lead field update,
merge, one-lead field update), runs a real worker process that SIGKILLs itself
at one step of one of them (``tests/support/crash_worker.py``), checks the
database shows the crash happened exactly there, then lets another replica
drain (it must leave the dead worker's claim alone: the lease has not passed)
and restarts the dead worker's id in a pump (it takes its old claim back at
once). In the end every action has run exactly once. SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import select as selectors
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent.executor import Executor
from agent.models import FieldChange, ProposedAction, Record, Target
from agent.outbox import OutboxWorker, Step, StepHook, no_step
from agent.store.rows import ApprovalRow, AuditEventRow, CRMAppliedOpRow, OutboxRow
from bot.background import BackgroundLoop
from bot.pump import OutboxPump
from tests.support.stack import APPROVER, Stack, merge_action

ROOT = Path(__file__).resolve().parents[2]
LEASE = timedelta(seconds=30)
DEAD = "replica-a"
OTHER = "replica-b"
NEW_PHONE = "+14155550134"  # what merge_action's field plan writes


@dataclass(frozen=True)
class Seeded:
    order: list[str]
    """Approval ids in the order the outbox runs them."""
    merges: dict[str, tuple[Record, Record]]
    """Approval id -> (survivor, merged duplicate)."""
    fields: dict[str, dict[str, str]]
    """Approval id -> {lead id: new email}."""

    def keys_expected(self, approval_id: str) -> int:
        """CRM idempotency keys one execution applies: one per merge, one per record written."""
        return 1 if approval_id in self.merges else len(self.fields[approval_id])


def _email_action(leads: list[Record], action_id: str) -> ProposedAction:
    return ProposedAction(
        id=action_id,
        kind="normalize_field",
        object_type="lead",
        targets=[
            Target(
                record_id=lead.id,
                version=lead.version,
                changes={"email": FieldChange(before=lead.get("email"), after=f"new.{lead.get('email')}")},
            )
            for lead in leads
        ],
        rationale="Fix the emails of high-value leads.",
    )


def _seed(stack: Stack, shape: tuple[str, ...] = ("merge", "fields2", "merge", "fields1")) -> Seeded:
    """Queue and approve one action per entry of ``shape``, through the real ApprovalService."""
    order: list[str] = []
    merges: dict[str, tuple[Record, Record]] = {}
    fields: dict[str, dict[str, str]] = {}
    for n, kind in enumerate(shape):
        if kind == "merge":
            survivor = stack.lead(email=f"dup{n}@acme.io")
            other = stack.lead(email=f"DUP{n}@acme.io")
            approval_id = stack.queue(merge_action(survivor, other, action_id=f"act-{n}"))
            merges[approval_id] = (survivor, other)
        else:  # high-value leads, so a field update needs an approval
            leads = [
                stack.lead(email=f"big{n}.{i}@acme.io", annual_revenue=3_000_000)
                for i in range(int(kind[-1]))
            ]
            approval_id = stack.queue(_email_action(leads, f"act-{n}"))
            fields[approval_id] = {lead.id: f"new.big{n}.{i}@acme.io" for i, lead in enumerate(leads)}
        stack.approvals.approve(approval_id, APPROVER)
        order.append(approval_id)
    return Seeded(order, merges, fields)


def _worker(stack: Stack, worker_id: str, on_step: StepHook = no_step) -> OutboxWorker:
    svc = stack.services
    return OutboxWorker(
        svc.database,
        approvals=svc.approvals,
        executor=Executor(svc.crm),
        audit=svc.audit,
        clock=stack.clock,
        directory=stack.groups,
        worker_id=worker_id,
        lease=LEASE,
        on_step=on_step,
    )


def _worker_process(database_url: str, *mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_worker", database_url, "--worker-id", DEAD, *mode],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _kill_run(database_url: str, *mode: str) -> None:
    process = _worker_process(database_url, *mode)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, stderr.decode()


def _outbox(stack: Stack) -> dict[str, tuple[str, str | None, int]]:
    """Approval id -> (row status, holder, attempts)."""
    with stack.services.database.reading() as session:
        rows = session.execute(
            select(OutboxRow.approval_id, OutboxRow.status, OutboxRow.claimed_by, OutboxRow.attempts)
        ).all()
    return {approval_id: (status, holder, attempts) for approval_id, status, holder, attempts in rows}


def _keys_applied(stack: Stack, approval_id: str) -> int:
    with stack.services.database.reading() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(CRMAppliedOpRow)
                .where(CRMAppliedOpRow.key.startswith(f"{approval_id}:"))
            )
            or 0
        )


def _events(stack: Stack, event: str) -> list[tuple[str | None, dict[str, object]]]:
    with stack.services.database.reading() as session:
        return [
            (subject, payload)
            for subject, payload in session.execute(
                select(AuditEventRow.subject, AuditEventRow.payload)
                .where(AuditEventRow.event == event)
                .order_by(AuditEventRow.seq)
            )
        ]


def _run_pump_until_done(worker: OutboxWorker, stack: Stack, timeout: float = 20.0) -> None:
    """Start the pump as the runtime does, wait until the outbox is empty, stop it."""
    pump = OutboxPump(worker, poll_interval=0.05)
    pump.start()
    pump.wake()
    deadline = time.monotonic() + timeout
    try:
        while any(status in ("pending", "claimed") for status, _, _ in _outbox(stack).values()):
            assert time.monotonic() < deadline, f"the pump did not finish: {_outbox(stack)}"
            time.sleep(0.02)
    finally:
        assert pump.stop(5)


def _assert_each_executed_exactly_once(stack: Stack, seeded: Seeded) -> None:
    with stack.services.database.reading() as session:
        statuses = dict(session.execute(select(ApprovalRow.id, ApprovalRow.status)).all())
        keys_total = session.scalar(select(func.count()).select_from(CRMAppliedOpRow))
    executed = Counter(subject for subject, _ in _events(stack, "executed"))
    outbox = _outbox(stack)

    assert statuses == dict.fromkeys(seeded.order, "executed")
    assert executed == Counter(seeded.order)  # one "executed" event each, no more
    assert {approval_id: status for approval_id, (status, _, _) in outbox.items()} == dict.fromkeys(
        seeded.order, "done"
    )
    for approval_id in seeded.order:
        assert _keys_applied(stack, approval_id) == seeded.keys_expected(approval_id), approval_id
    assert keys_total == sum(seeded.keys_expected(a) for a in seeded.order)
    for survivor, other in seeded.merges.values():
        merged = stack.crm.get("lead", survivor.id)
        assert merged is not None
        assert (merged.get("phone"), merged.version) == (NEW_PHONE, "2")  # merged once
        assert stack.crm.get("lead", other.id) is None
    for emails in seeded.fields.values():
        for lead_id, email in emails.items():
            lead = stack.crm.get("lead", lead_id)
            assert lead is not None
            assert (lead.get("email"), lead.version) == (email, "2")  # written once
    with stack.services.database.transaction() as session:
        stack.services.audit.verify(session)


@dataclass(frozen=True)
class CrashPoint:
    mode: tuple[str, ...]
    victim: int
    """Which row of the four (0-based) the worker dies on."""
    approval: str
    row: str
    written: bool | None
    """Whether the CRM holds the victim's change; None: one of its two records only."""


CRASH_POINTS = {
    "merge-claimed": CrashPoint(("--die-at", "claimed", "--nth", "3"), 2, "approved", "claimed", False),
    "merge-authorised": CrashPoint(("--die-at", "authorised", "--nth", "3"), 2, "approved", "claimed", False),
    "merge-started": CrashPoint(("--die-at", "started", "--nth", "3"), 2, "executing", "claimed", False),
    "merge-written": CrashPoint(("--die-at", "written", "--nth", "3"), 2, "executing", "claimed", True),
    "merge-settled": CrashPoint(("--die-at", "settled", "--nth", "3"), 2, "executed", "done", True),
    "fields-claimed": CrashPoint(("--die-at", "claimed", "--nth", "2"), 1, "approved", "claimed", False),
    "fields-authorised": CrashPoint(
        ("--die-at", "authorised", "--nth", "2"), 1, "approved", "claimed", False
    ),
    "fields-started": CrashPoint(("--die-at", "started", "--nth", "2"), 1, "executing", "claimed", False),
    "fields-between-records": CrashPoint(("--die-after-crm-updates", "1"), 1, "executing", "claimed", None),
    "fields-written": CrashPoint(("--die-at", "written", "--nth", "2"), 1, "executing", "claimed", True),
    "fields-settled": CrashPoint(("--die-at", "settled", "--nth", "2"), 1, "executed", "done", True),
}


@pytest.mark.parametrize("point", CRASH_POINTS.values(), ids=CRASH_POINTS.keys())
def test_a_worker_killed_at_any_step_loses_nothing_and_runs_nothing_twice(
    database_url: str, point: CrashPoint
) -> None:
    stack = Stack(database_url)
    try:
        seeded = _seed(stack)
        victim = seeded.order[point.victim]

        _kill_run(database_url, *point.mode)

        # The database shows the worker died exactly at that step.
        outbox = _outbox(stack)
        assert stack.approvals.get(victim).status == point.approval
        assert outbox[victim][:2] == (point.row, DEAD)
        full = seeded.keys_expected(victim)
        assert _keys_applied(stack, victim) == {False: 0, True: full, None: 1}[point.written]
        for done in seeded.order[: point.victim]:
            assert outbox[done][0] == "done"
        for untouched in seeded.order[point.victim + 1 :]:
            assert outbox[untouched] == ("pending", None, 0)

        # Another replica runs what is left, but not the dead worker's claim: its lease holds.
        _worker(stack, OTHER).drain()
        assert _outbox(stack)[victim][:2] == (point.row, DEAD)

        # The dead worker's id comes back and takes its claim back at once.
        _run_pump_until_done(_worker(stack, DEAD), stack)

        _assert_each_executed_exactly_once(stack, seeded)
        recovered = _events(stack, "claim_recovered")
        expected = [(victim, {"holder": DEAD, "how": "restart"})] if point.row == "claimed" else []
        assert recovered == expected
    finally:
        stack.close()


def test_a_dead_workers_claim_is_taken_over_by_another_replica_after_the_lease(database_url: str) -> None:
    stack = Stack(database_url)
    try:
        seeded = _seed(stack, ("merge", "fields1"))
        victim = seeded.order[0]
        _kill_run(database_url, "--die-at", "written")
        other = _worker(stack, OTHER)

        before = other.drain()
        stack.later(seconds=LEASE.total_seconds() + 1)
        after = other.drain()

        assert [(o.approval_id, o.outcome) for o in before] == [(seeded.order[1], "executed")]
        assert [(o.approval_id, o.outcome) for o in after] == [(victim, "executed")]
        _assert_each_executed_exactly_once(stack, seeded)
        assert _events(stack, "claim_recovered") == [(victim, {"holder": DEAD, "how": "lease"})]
    finally:
        stack.close()


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = selectors.select([process.stdout], [], [], timeout)
    assert ready, "the worker never started a row"
    return process.stdout.readline().decode().strip()


def test_sigterm_finishes_the_row_in_flight_and_leaves_the_rest_pending(database_url: str) -> None:
    stack = Stack(database_url)
    try:
        seeded = _seed(stack)
        process = _worker_process(database_url, "--term")
        try:
            line = _read_line(process, timeout=60)
            process.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            _, stderr = process.communicate(timeout=30)
            took = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        in_flight = line.removeprefix("in-flight ")

        assert line.startswith("in-flight ")
        assert process.returncode == 0, stderr.decode()
        assert "Traceback" not in stderr.decode()
        assert took < 10
        outbox = _outbox(stack)
        assert in_flight == seeded.order[0]
        assert stack.approvals.get(in_flight).status == "executed"
        assert outbox[in_flight][0] == "done"
        for waiting in seeded.order[1:]:
            assert stack.approvals.get(waiting).status == "approved"
            assert outbox[waiting] == ("pending", None, 0)

        finished = _worker(stack, OTHER).drain()

        assert [o.approval_id for o in finished] == seeded.order[1:]
        _assert_each_executed_exactly_once(stack, seeded)
    finally:
        stack.close()


def test_the_pump_stops_between_rows_and_runs_no_pass_after_stop(database_url: str) -> None:
    stack = Stack(database_url)
    try:
        seeded = _seed(stack, ("merge", "merge", "merge"))
        pumps: list[OutboxPump] = []
        first_settled = threading.Event()

        def stop_after_first(step: Step, approval_id: str) -> None:
            if step == "settled" and not first_settled.is_set():
                first_settled.set()
                threading.Thread(target=pumps[0].stop).start()  # stop() joins this very thread
                while not pumps[0].stopping:
                    time.sleep(0.001)

        pump = OutboxPump(_worker(stack, OTHER, stop_after_first), poll_interval=0.05)
        pumps.append(pump)
        pump.start()
        pump.wake()
        assert first_settled.wait(10)
        assert pump.stop(5)
        statuses = {a: stack.approvals.get(a).status for a in seeded.order}

        assert statuses == {
            seeded.order[0]: "executed",
            seeded.order[1]: "approved",
            seeded.order[2]: "approved",
        }
        assert _outbox(stack)[seeded.order[1]] == ("pending", None, 0)
    finally:
        stack.close()


def test_a_background_loop_stopped_while_idle_runs_no_further_pass() -> None:
    passes: list[int] = []
    woken = threading.Event()
    loop = BackgroundLoop("test-loop", lambda: passes.append(1), wake=woken, poll_interval=60)
    loop.start()
    loop.wake()
    deadline = time.monotonic() + 5
    while not passes and time.monotonic() < deadline:
        time.sleep(0.005)

    stopped = loop.stop(5)

    assert stopped
    assert passes == [1]
