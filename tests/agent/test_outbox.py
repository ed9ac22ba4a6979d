"""The outbox worker: retries, crashes, and authorisation at execution time."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, update

from agent.errors import CRMAuthError, CRMError, CRMRateLimitedError
from agent.executor import Executor
from agent.models import ExecutionResult
from agent.outbox import OutboxWorker
from agent.policy_file import load_policy
from agent.store.rows import AuditEventRow, OutboxRow
from tests.support.crm_doubles import FailingWrites
from tests.support.stack import APPROVER, STRICT_POLICY, Stack, field_action, merge_action


def _worker(stack: Stack, crm: object, **kw: object) -> OutboxWorker:
    svc = stack.services
    return OutboxWorker(
        svc.database,
        approvals=svc.approvals,
        executor=Executor(crm),  # type: ignore[arg-type]
        audit=svc.audit,
        clock=stack.clock,
        directory=stack.groups,
        **({"worker_id": "w-test"} | kw),  # type: ignore[arg-type]
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


# -- stopping, handing back, recovering ----------------------------------------


def _three_approved_merges(stack: Stack) -> list[str]:
    ids = []
    for n in range(3):
        survivor = stack.lead(email=f"dup{n}@acme.io")
        other = stack.lead(email=f"DUP{n}@acme.io")
        ids.append(stack.queue(merge_action(survivor, other, action_id=f"act-{n}")))
        stack.approvals.approve(ids[-1], APPROVER)
    return ids


def _rows(stack: Stack) -> dict[str, tuple[str, str | None, int]]:
    with stack.services.database.reading() as session:
        found = session.execute(
            select(OutboxRow.approval_id, OutboxRow.status, OutboxRow.claimed_by, OutboxRow.attempts)
        ).all()
    return {approval_id: (status, holder, attempts) for approval_id, status, holder, attempts in found}


def _claim_as(stack: Stack, approval_id: str, holder: str, operation: str = "execute") -> None:
    with stack.services.database.transaction() as session:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.approval_id == approval_id, OutboxRow.operation == operation)
            .values(status="claimed", claimed_by=holder, claimed_at=stack.clock.now(), attempts=1)
        )


def test_the_steps_are_reported_in_order(stack: Stack) -> None:
    approval_id, _ = _approved_merge(stack)
    steps: list[tuple[str, str]] = []

    _worker(stack, stack.crm, on_step=lambda step, a: steps.append((step, a))).drain()

    assert steps == [
        (step, approval_id) for step in ("claimed", "authorised", "started", "written", "settled")
    ]


def test_a_drain_stops_between_rows_when_stopping(stack: Stack) -> None:
    ids = _three_approved_merges(stack)
    stopping = threading.Event()
    worker = _worker(stack, stack.crm, on_step=lambda step, a: stopping.set() if step == "settled" else None)

    outcomes = worker.drain(stopping=stopping.is_set)

    assert [(o.approval_id, o.outcome) for o in outcomes] == [(ids[0], "executed")]
    assert _rows(stack) == {
        ids[0]: ("done", "w-test", 1),
        ids[1]: ("pending", None, 0),
        ids[2]: ("pending", None, 0),
    }


def test_a_stopping_worker_hands_back_the_row_it_claimed_but_did_not_start(stack: Stack) -> None:
    approval_id, other_id = _approved_merge(stack)
    stopping = threading.Event()
    worker = _worker(stack, stack.crm, on_step=lambda step, a: stopping.set() if step == "claimed" else None)

    stopped = worker.drain(stopping=stopping.is_set)
    another = _worker(stack, stack.crm, worker_id="w-other").drain()  # at once: no lease to wait for

    assert stopped == []
    assert [o.outcome for o in another] == ["executed"]
    assert _rows(stack) == {approval_id: ("done", "w-other", 1)}  # the handed-back claim cost no attempt
    assert stack.crm.get("lead", other_id) is None


def test_handing_back_only_touches_a_claim_still_held(stack: Stack) -> None:
    approval_id, other_id = _approved_merge(stack)
    stopping = threading.Event()

    def taken_over_then_stopped(step: str, approval: str) -> None:
        if step == "authorised":  # another worker took the row over meanwhile
            _claim_as(stack, approval, "w-other")
            stopping.set()

    outcomes = _worker(stack, stack.crm, on_step=taken_over_then_stopped).drain(stopping=stopping.is_set)

    assert outcomes == []
    assert _rows(stack) == {approval_id: ("claimed", "w-other", 1)}
    assert stack.approvals.get(approval_id).status == "approved"
    assert stack.crm.get("lead", other_id) is not None


def test_a_claim_lost_to_a_takeover_before_the_start_is_left_to_the_new_holder(stack: Stack) -> None:
    approval_id, other_id = _approved_merge(stack)

    def taken_over(step: str, approval: str) -> None:
        if step == "authorised":
            _claim_as(stack, approval, "w-other")

    outcomes = _worker(stack, stack.crm, on_step=taken_over).drain()

    assert outcomes == []
    assert stack.approvals.get(approval_id).status == "approved"
    assert stack.crm.get("lead", other_id) is not None


def test_recover_own_claims_returns_what_a_previous_life_left_and_nothing_else(stack: Stack) -> None:
    ids = _three_approved_merges(stack)
    _claim_as(stack, ids[0], "w-test")  # this worker id, before its process was killed
    _claim_as(stack, ids[1], "w-other")  # another worker, maybe alive

    recovered = _worker(stack, stack.crm).recover_own_claims()
    outcomes = _worker(stack, stack.crm).drain()

    assert recovered == 1
    assert sorted(o.approval_id for o in outcomes) == [ids[0], ids[2]]
    assert _rows(stack)[ids[1]] == ("claimed", "w-other", 1)  # left until its lease runs out
    with stack.services.database.reading() as session:
        audited = session.execute(
            select(AuditEventRow.subject, AuditEventRow.payload).where(
                AuditEventRow.event == "claim_recovered"
            )
        ).all()
    assert [tuple(row) for row in audited] == [(ids[0], {"holder": "w-test", "how": "restart"})]


def test_recover_own_claims_leaves_the_claim_this_worker_is_running(stack: Stack) -> None:
    approval_id, _ = _approved_merge(stack)
    recovered: list[int] = []
    worker: list[OutboxWorker] = []

    def recover_mid_run(step: str, approval: str) -> None:
        if step == "started":
            recovered.append(worker[0].recover_own_claims())

    worker.append(_worker(stack, stack.crm, on_step=recover_mid_run))
    outcomes = worker[0].drain()

    assert recovered == [0]
    assert [o.outcome for o in outcomes] == ["executed"]
    assert _rows(stack) == {approval_id: ("done", "w-test", 1)}


def test_a_resumed_execution_is_finished_without_a_second_policy_check(stack: Stack) -> None:
    approval_id, other_id = _approved_merge(stack)
    approval = stack.approvals.get(approval_id)
    # A worker started it (the policy allowed it then), wrote, and died; then merges became forbidden.
    _claim_as(stack, approval_id, "w-test")
    with stack.services.database.transaction() as session:
        stack.approvals.start_execution(session, approval_id)
    Executor(stack.crm).execute(approval.action, key=approval_id)
    stack.approvals.policy = load_policy(STRICT_POLICY)

    _worker(stack, stack.crm).recover_own_claims()
    outcomes = _worker(stack, stack.crm).drain()

    assert [o.outcome for o in outcomes] == ["executed"]
    assert stack.approvals.get(approval_id).status == "executed"
    assert stack.crm.get("lead", other_id) is None


def test_an_execution_replayed_after_a_crash_can_still_be_undone_and_an_undo_replays_once(
    stack: Stack,
) -> None:
    lead = stack.lead(email="big@acme.io", annual_revenue=3_000_000)
    approval_id = stack.queue(field_action(lead, action_id="act-hv", email="big2@acme.io"))
    stack.approvals.approve(approval_id, APPROVER)
    action = stack.approvals.get(approval_id).action
    # Killed after the CRM write, before anything was recorded.
    _claim_as(stack, approval_id, "w-test")
    with stack.services.database.transaction() as session:
        stack.approvals.start_execution(session, approval_id)
    Executor(stack.crm).execute(action, key=approval_id)
    _worker(stack, stack.crm).recover_own_claims()
    executed = _worker(stack, stack.crm).drain()
    # The undo is killed after its CRM write too.
    stack.approvals.request_undo(approval_id, APPROVER)
    _claim_as(stack, approval_id, "w-test", operation="undo")
    result = ExecutionResult.model_validate(stack.approvals.get(approval_id).result)
    Executor(stack.crm).undo(action, result, key=approval_id)
    _worker(stack, stack.crm).recover_own_claims()
    undone = _worker(stack, stack.crm).drain()

    assert [o.outcome for o in executed] == ["executed"]
    assert [o.outcome for o in undone] == ["undone"]
    restored = stack.crm.get("lead", lead.id)
    assert restored is not None
    assert (restored.get("email"), restored.version) == ("big@acme.io", "3")  # written, undone: once each
    with stack.services.database.reading() as session:
        events = session.execute(
            select(AuditEventRow.event).where(
                AuditEventRow.subject == approval_id, AuditEventRow.event.in_(["executed", "undone"])
            )
        ).scalars()
        assert sorted(events) == ["executed", "undone"]


def test_a_row_whose_worker_keeps_dying_is_given_up_not_retried_forever(stack: Stack) -> None:
    approval_id, other_id = _approved_merge(stack)
    worker = _worker(stack, stack.crm, max_attempts=2)
    with stack.services.database.transaction() as session:
        # Five claims so far ended with no outcome at all: the worker died each time.
        session.execute(update(OutboxRow).where(OutboxRow.approval_id == approval_id).values(attempts=5))

    outcome = worker.run_one()

    assert outcome is not None
    assert outcome.outcome == "failed"
    approval = stack.approvals.get(approval_id)
    assert approval.status == "failed"
    assert "gave up after 6 attempts that ended without an outcome" in (approval.reason or "")
    assert stack.crm.get("lead", other_id) is not None  # nothing was written
    assert _rows(stack)[approval_id][0] == "dead"
