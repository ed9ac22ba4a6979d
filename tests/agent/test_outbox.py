"""The outbox worker: retries, crashes, and authorisation at execution time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from agent.errors import CRMAuthError, CRMError, CRMRateLimitedError
from agent.executor import Executor
from agent.outbox import OutboxWorker
from agent.policy_file import load_policy
from agent.store.rows import OutboxRow
from tests.support.crm_doubles import FailingWrites
from tests.support.stack import APPROVER, STRICT_POLICY, Stack, merge_action


def _worker(stack: Stack, crm: object, **kw: object) -> OutboxWorker:
    svc = stack.services
    return OutboxWorker(
        svc.database,
        approvals=svc.approvals,
        executor=Executor(crm),  # type: ignore[arg-type]
        audit=svc.audit,
        clock=stack.clock,
        directory=stack.groups,
        worker_id="w-test",
        **kw,  # type: ignore[arg-type]
    )


def _approved_merge(stack: Stack) -> tuple[str, str]:
    survivor = stack.lead(email="dup@acme.io")
    other = stack.lead(email="DUP@acme.io")
    approval_id = stack.queue(merge_action(survivor, other))
    stack.approvals.approve(approval_id, APPROVER)
    return approval_id, other.id


def test_rate_limited_crm_is_retried_after_retry_after(stack: Stack) -> None:
    _, other_id = _approved_merge(stack)
    crm = FailingWrites(stack.crm, [CRMRateLimitedError("429", retry_after=30)])
    worker = _worker(stack, crm)

    first = worker.drain()
    too_soon = worker.drain()
    stack.later(seconds=31)
    second = worker.drain()

    assert [o.outcome for o in first] == ["retrying"]
    assert too_soon == []
    assert [o.outcome for o in second] == ["executed"]
    assert crm.writes == 1
    assert stack.crm.get("lead", other_id) is None


def test_a_crm_that_keeps_failing_ends_failed_with_the_error(stack: Stack) -> None:
    approval_id, other_id = _approved_merge(stack)
    crm = FailingWrites(stack.crm, [CRMError("HTTP 503") for _ in range(3)])
    worker = _worker(stack, crm, max_attempts=3, backoff=lambda attempt: timedelta(seconds=1))

    outcomes = []
    for _ in range(3):
        outcomes += worker.drain()
        stack.later(seconds=2)

    assert [o.outcome for o in outcomes] == ["retrying", "retrying", "failed"]
    approval = stack.approvals.get(approval_id)
    assert approval.status == "failed"
    assert "gave up after 3 attempts" in (approval.reason or "")
    assert stack.crm.get("lead", other_id) is not None


def test_an_auth_error_fails_at_once_and_writes_nothing(stack: Stack) -> None:
    approval_id, other_id = _approved_merge(stack)
    crm = FailingWrites(stack.crm, [CRMAuthError("token revoked")])

    outcomes = _worker(stack, crm).drain()

    assert [o.outcome for o in outcomes] == ["failed"]
    assert "token revoked" in (stack.approvals.get(approval_id).reason or "")
    assert stack.crm.get("lead", other_id) is not None


def test_a_claim_left_by_a_dead_worker_is_taken_over_and_runs_once(stack: Stack) -> None:
    approval_id, _ = _approved_merge(stack)
    approval = stack.approvals.get(approval_id)
    # A worker claimed the row, wrote to the CRM, and died before recording it.
    with stack.services.database.transaction() as session:
        session.execute(
            update(OutboxRow).values(
                status="claimed", claimed_by="dead", claimed_at=stack.clock.now(), attempts=1
            )
        )
        stack.approvals.start_execution(session, approval_id)
    Executor(stack.crm).execute(approval.action, key=approval_id)

    before_lease = stack.worker.drain()
    stack.later(minutes=6)
    after_lease = stack.worker.drain()

    assert before_lease == []
    assert [o.outcome for o in after_lease] == ["executed"]
    assert stack.approvals.get(approval_id).status == "executed"
    survivor = stack.crm.get("lead", approval.action.merge.survivor_id)  # type: ignore[union-attr]
    assert survivor is not None
    assert survivor.version == "2"  # merged once, not twice
    with stack.services.database.transaction() as session:
        assert session.execute(select(OutboxRow.status)).scalar_one() == "done"


def test_execution_is_refused_when_the_policy_now_forbids_it(stack: Stack) -> None:
    approval_id, other_id = _approved_merge(stack)
    stack.approvals.policy = load_policy(STRICT_POLICY)  # merges became forbidden after approval

    outcomes = stack.worker.drain()

    assert [o.outcome for o in outcomes] == ["failed"]
    assert "policy now refuses" in (stack.approvals.get(approval_id).reason or "")
    assert stack.crm.get("lead", other_id) is not None
