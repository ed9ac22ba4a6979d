"""Many clickers, many workers, one execution (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from agent.errors import ApprovalAlreadyResolvedError
from agent.store.rows import AuditEventRow, CRMAppliedOpRow, OutboxRow
from tests.support.stack import GROUP, Stack, field_action, merge_action


def test_twenty_threads_approving_give_one_outbox_row_and_one_crm_write(database_url: str) -> None:
    approvers = {f"U0LEAD{n:02d}" for n in range(20)}
    stack = Stack(database_url, groups={GROUP: approvers})
    try:
        survivor = stack.lead(email="dup@acme.io")
        other = stack.lead(email="DUP@acme.io", phone="+14155550134")
        approval_id = stack.queue(merge_action(survivor, other))
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()
        start = threading.Barrier(20)

        def click(user: str) -> None:
            start.wait()
            try:
                stack.approvals.approve(approval_id, user)
                result = "approved"
            except ApprovalAlreadyResolvedError:
                result = "already"
            with lock:
                outcomes[result] += 1

        threads = [threading.Thread(target=click, args=(user,)) for user in sorted(approvers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        drained: list[str] = []
        drain_start = threading.Barrier(4)

        def drain() -> None:
            drain_start.wait()
            found = stack.worker.drain()
            with lock:
                drained.extend(o.outcome for o in found)

        workers = [threading.Thread(target=drain) for _ in range(4)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()

        with stack.services.database.transaction() as session:
            outbox = session.execute(select(func.count()).select_from(OutboxRow)).scalar_one()
            writes = session.execute(
                select(func.count())
                .select_from(CRMAppliedOpRow)
                .where(CRMAppliedOpRow.key.startswith(approval_id))
            ).scalar_one()
            executed_events = session.execute(
                select(func.count())
                .select_from(AuditEventRow)
                .where(AuditEventRow.subject == approval_id, AuditEventRow.event == "executed")
            ).scalar_one()
            stack.services.audit.verify(session)

        assert outcomes == Counter({"approved": 1, "already": 19})
        assert outbox == 1
        assert drained == ["executed"]
        assert writes == 1
        assert executed_events == 1
        assert stack.crm.get("lead", other.id) is None
        assert stack.approvals.get(approval_id).status == "executed"
    finally:
        stack.close()


def test_two_undo_clicks_at_once_queue_one_undo(database_url: str) -> None:
    stack = Stack(database_url)
    try:
        lead = stack.lead(annual_revenue=3_000_000, email="big@acme.io")
        approval_id = stack.queue(field_action(lead, action_id="act-hv", email="big2@acme.io"))
        stack.approvals.approve(approval_id, "U0APPROVER")
        stack.worker.drain()
        results: list[str] = []
        start = threading.Barrier(2)

        def click(user: str) -> None:
            start.wait()
            try:
                stack.approvals.request_undo(approval_id, user)
                results.append("queued")
            except ApprovalAlreadyResolvedError:
                results.append("already")

        threads = [threading.Thread(target=click, args=(user,)) for user in ("U0APPROVER", "U0LEAD1")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(results) == ["already", "queued"]
        assert [o.outcome for o in stack.worker.drain()] == ["undone"]
    finally:
        stack.close()
