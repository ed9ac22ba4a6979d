"""A real outbox worker process for the shutdown and crash tests.

Run as ``python -m tests.support.crash_worker DATABASE_URL --worker-id ID MODE``
from the repository root, against a database the test has seeded. Modes:

``--die-at STEP --nth N``
    Drain with an ``OutboxPump``; at the Nth time the worker reaches ``STEP``
    (an :data:`agent.outbox.Step`) the process SIGKILLs itself. Exit code -9
    says it died there; 0 says it drained everything without reaching it.
``--die-after-crm-updates N``
    The same, dying right after the CRM committed its Nth ``update`` (between
    the records of one action, for an action that writes several).
``--term``
    ``bot.server.run_worker`` as ``revgate worker`` runs it, with this worker
    in its pump. When the first row is started it prints ``in-flight
    <approval id>`` and holds that row until the pump is told to stop, so the
    test can send SIGTERM while a row is in flight.

The clock is fixed at the tests' ``T0`` (the seeding stack's time), so rows
the test made due are due here too. The crash modes wire the agent by hand
instead of through ``bot.container`` so the process starts in half a second.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from agent.approvals import ApprovalService
from agent.audit import AuditLog
from agent.crm.local import LocalCRM
from agent.executor import Executor
from agent.models import FieldValue, ObjectType, Record
from agent.outbox import OutboxWorker, Step, StepHook, no_step
from agent.policy_file import load_policy
from agent.ports import NoGroups, SilentNotifier
from agent.store.database import Database
from agent.store.rows import OutboxRow
from bot.pump import OutboxPump
from tests.support.fakes import T0, FixedClock, sequential_ids

POLICY = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"
IDLE_TIMEOUT = 30.0


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class DiesAfterUpdates:
    """The embedded CRM, but the process dies right after the Nth update commits."""

    def __init__(self, inner: LocalCRM, count: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.left = count

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def update(
        self, object_type: ObjectType, record_id: str, changes: Mapping[str, FieldValue], **kw: Any
    ) -> Record:
        record = self.inner.update(object_type, record_id, changes, **kw)
        self.left -= 1
        if self.left == 0:
            die()
        return record


def die_at(step: Step, nth: int) -> StepHook:
    seen: Counter[str] = Counter()

    def hook(reached: Step, approval_id: str) -> None:
        seen[reached] += 1
        if reached == step and seen[reached] == nth:
            die()

    return hook


def crash_run(args: argparse.Namespace) -> int:
    clock = FixedClock(T0)
    new_id = sequential_ids(f"{args.worker_id}-")
    database = Database(args.database_url, auto_upgrade=False)
    crm = LocalCRM(database, clock=clock, new_id=new_id)
    audit = AuditLog(clock)
    approvals = ApprovalService(
        database,
        policy=load_policy(POLICY),
        audit=audit,
        clock=clock,
        new_id=new_id,
        directory=NoGroups(),
        notifier=SilentNotifier(),
    )
    executor_crm: Any = (
        crm if args.die_after_crm_updates is None else DiesAfterUpdates(crm, args.die_after_crm_updates)
    )
    worker = OutboxWorker(
        database,
        approvals=approvals,
        executor=Executor(executor_crm),
        audit=audit,
        clock=clock,
        directory=NoGroups(),
        worker_id=args.worker_id,
        lease=timedelta(seconds=args.lease_seconds),
        on_step=die_at(args.die_at, args.nth) if args.die_at else no_step,
    )
    pump = OutboxPump(worker, poll_interval=0.05)
    pump.start()
    pump.wake()
    deadline = time.monotonic() + IDLE_TIMEOUT
    while time.monotonic() < deadline:
        with database.reading() as session:
            open_rows = session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.status.in_(["pending", "claimed"]))
            )
        if not open_rows:
            pump.stop()
            database.dispose()
            return 0
        time.sleep(0.02)
    return 3


def term_run(args: argparse.Namespace) -> int:
    from slack_sdk import WebClient

    from bot.runtime import build_runtime
    from bot.server import run_worker
    from bot.settings import Settings

    # Scheduled jobs off: this process is about the outbox, and a hygiene run
    # would change the very records the queued actions were planned on.
    settings = Settings(
        DATABASE_URL=args.database_url, SLACK_BOT_TOKEN="xoxb-crash-test", REVGATE_SCHEDULER=False
    )
    # Nothing here needs Slack (no card is pending); a closed port makes sure of it.
    client = WebClient(token="xoxb-crash-test", base_url="http://127.0.0.1:9/api/")
    runtime = build_runtime(
        settings, clock=FixedClock(T0), new_id=sequential_ids(f"{args.worker_id}-"), client=client
    )
    services = runtime.services
    announced = False

    def hold_first_row(step: Step, approval_id: str) -> None:
        nonlocal announced
        if step != "started" or announced:
            return
        announced = True
        # The test sends SIGTERM on this line: run_worker's handler must be in place first.
        while signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            time.sleep(0.005)
        print(f"in-flight {approval_id}", flush=True)
        deadline = time.monotonic() + IDLE_TIMEOUT
        while not runtime.pump.stopping and time.monotonic() < deadline:
            time.sleep(0.005)

    worker = OutboxWorker(
        services.database,
        approvals=services.approvals,
        executor=services.executor,
        audit=services.audit,
        clock=services.clock,
        directory=runtime.directory,
        worker_id=args.worker_id,
        lease=timedelta(seconds=args.lease_seconds),
        on_step=hold_first_row,
    )
    runtime.pump = OutboxPump(worker, poll_interval=0.05)
    run_worker(runtime)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("database_url")
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--lease-seconds", type=float, default=60.0)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--die-at", choices=["claimed", "authorised", "started", "written", "settled"])
    mode.add_argument("--die-after-crm-updates", type=int)
    mode.add_argument("--term", action="store_true")
    parser.add_argument("--nth", type=int, default=1)
    args = parser.parse_args(argv)
    return term_run(args) if args.term else crash_run(args)


if __name__ == "__main__":
    sys.exit(main())
