"""The approval state machine over a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from agent.errors import (
    ApprovalAlreadyResolvedError,
    ApprovalNotFoundError,
    NotAnApproverError,
    UndoNotAllowedError,
)
from agent.models import Rejected
from agent.store.rows import ApprovalRow, AuditEventRow, OutboxRow
from tests.support.stack import APPROVER, Stack, field_action, merge_action, owner_action


def _outbox_rows(stack: Stack) -> int:
    with stack.services.database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(OutboxRow)).scalar_one())


def _duplicates(stack: Stack) -> tuple[str, str]:
    survivor = stack.lead(email="jane@acme.io")
    other = stack.lead(email="JANE@acme.io", phone="+14155550134")
    return survivor.id, other.id


def _queued_merge(stack: Stack) -> str:
    survivor_id, other_id = _duplicates(stack)
    survivor = stack.crm.get("lead", survivor_id)
    other = stack.crm.get("lead", other_id)
    assert survivor is not None
    assert other is not None
    return stack.queue(merge_action(survivor, other))


def test_gated_action_is_queued_pending_and_announced(stack: Stack) -> None:
    approval_id = _queued_merge(stack)

    approval = stack.approvals.get(approval_id)
    assert approval.status == "pending"
    assert approval.verdict.rule == "requires_approval: merge"
    assert approval.expires_at > stack.clock.now()
    assert [a.id for a in stack.notifier.requested] == [approval_id]


def test_approving_writes_the_outbox_row_in_the_same_step(stack: Stack) -> None:
    approval_id = _queued_merge(stack)

    approval = stack.approvals.approve(approval_id, APPROVER)

    assert approval.status == "approved"
    assert approval.decided_by == APPROVER
    assert _outbox_rows(stack) == 1


def test_approving_twice_executes_once(stack: Stack) -> None:
    approval_id = _queued_merge(stack)
    stack.approvals.approve(approval_id, APPROVER)

    with pytest.raises(ApprovalAlreadyResolvedError) as second:
        stack.approvals.approve(approval_id, APPROVER)
    first_drain = stack.worker.drain()
    second_drain = stack.worker.drain()

    assert second.value.status == "approved"
    assert second.value.by == APPROVER
    assert [o.outcome for o in first_drain] == ["executed"]
    assert second_drain == []
    assert _outbox_rows(stack) == 1
    assert stack.approvals.get(approval_id).status == "executed"


def test_approve_after_reject_is_a_noop(stack: Stack) -> None:
    approval_id = _queued_merge(stack)
    stack.approvals.reject(approval_id, APPROVER, "different people")

    with pytest.raises(ApprovalAlreadyResolvedError, match="already rejected by U0APPROVER"):
        stack.approvals.approve(approval_id, "U0LEAD1")

    approval = stack.approvals.get(approval_id)
    assert approval.status == "rejected"
    assert approval.reason == "different people"
    assert _outbox_rows(stack) == 0
    assert stack.worker.drain() == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_requires_a_reason(stack: Stack, reason: str) -> None:
    approval_id = _queued_merge(stack)

    with pytest.raises(ValueError, match="reason"):
        stack.approvals.reject(approval_id, APPROVER, reason)

    assert stack.approvals.get(approval_id).status == "pending"


def test_rejection_model_refuses_a_blank_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        Rejected(user="U1", reason="  ")


def test_someone_who_is_not_an_approver_changes_nothing(stack: Stack) -> None:
    approval_id = _queued_merge(stack)

    with pytest.raises(NotAnApproverError):
        stack.approvals.approve(approval_id, "U0INTERN")

    approval = stack.approvals.get(approval_id)
    assert approval.status == "pending"
    assert approval.approvals == ()
    assert _outbox_rows(stack) == 0


def test_a_member_of_an_approver_group_may_approve(stack: Stack) -> None:
    approval_id = _queued_merge(stack)

    approval = stack.approvals.approve(approval_id, "U0LEAD1")

    assert approval.status == "approved"


def test_owner_change_needs_two_approvers_and_not_the_requester(stack: Stack) -> None:
    stack.owner("O1", active=False)
    stack.owner("O2")
    account = stack.account(owner_id="O1")
    approval_id = stack.queue(owner_action(account, "O2"), requested_by="U0LEAD1")

    with pytest.raises(NotAnApproverError, match="own request"):
        stack.approvals.approve(approval_id, "U0LEAD1")
    first = stack.approvals.approve(approval_id, APPROVER)
    with pytest.raises(NotAnApproverError, match="already approved"):
        stack.approvals.approve(approval_id, APPROVER)
    second = stack.approvals.approve(approval_id, "U0LEAD2")

    assert first.status == "pending"
    assert first.approvals == (APPROVER,)
    assert second.status == "approved"
    assert second.approvals == (APPROVER, "U0LEAD2")


def test_record_changed_after_the_proposal_supersedes_instead_of_executing(stack: Stack) -> None:
    approval_id = _queued_merge(stack)
    approval = stack.approvals.get(approval_id)
    other_id = approval.action.targets[1].record_id
    other = stack.crm.get("lead", other_id)
    assert other is not None
    stack.crm.update(
        "lead", other_id, {"title": "CFO"}, expected_version=other.version, idempotency_key="human-edit"
    )
    stack.approvals.approve(approval_id, APPROVER)

    outcomes = stack.worker.drain()

    assert [o.outcome for o in outcomes] == ["superseded"]
    final = stack.approvals.get(approval_id)
    assert final.status == "superseded"
    assert "changed since the plan" in (final.reason or "")
    assert stack.crm.get("lead", other_id) is not None  # not merged away


def test_an_expired_approval_cannot_be_approved(stack: Stack) -> None:
    approval_id = _queued_merge(stack)
    stack.later(hours=80)

    with pytest.raises(ApprovalAlreadyResolvedError, match="expired"):
        stack.approvals.approve(approval_id, APPROVER)

    assert stack.approvals.get(approval_id).status == "expired"


def test_expire_due_expires_only_what_is_overdue(stack: Stack) -> None:
    merge_id = _queued_merge(stack)  # the default policy gives merges 72 hours
    stack.later(hours=73)
    lead = stack.lead(email="hv@acme.io", annual_revenue=2_000_000)
    fresh_id = stack.queue(field_action(lead, action_id="act-hv", email="hv2@acme.io"))

    expired = stack.approvals.expire_due()

    assert [a.id for a in expired] == [merge_id]
    assert expired[0].reason == "expired; fallback: drop"
    assert stack.approvals.get(fresh_id).status == "pending"
    assert stack.approvals.expire_due() == []


def test_the_same_change_is_not_queued_twice_while_open(stack: Stack) -> None:
    approval_id = _queued_merge(stack)
    action = stack.approvals.get(approval_id).action.model_copy(update={"id": "act-again"})

    again = stack.approvals.request(action, stack.verdict(action), run_id=None, requested_by="agent")

    assert again is None


def test_unknown_approval_is_reported(stack: Stack) -> None:
    with pytest.raises(ApprovalNotFoundError):
        stack.approvals.approve("nope", APPROVER)


def test_undo_writes_the_pre_image_back(stack: Stack) -> None:
    stack.owner("O1", active=False)
    stack.owner("O2")
    account = stack.account(owner_id="O1")
    approval_id = stack.queue(owner_action(account, "O2"))
    stack.approvals.approve(approval_id, APPROVER)
    stack.approvals.approve(approval_id, "U0LEAD1")
    stack.worker.drain()
    assert stack.crm.get("account", account.id).owner_id == "O2"  # type: ignore[union-attr]

    stack.approvals.request_undo(approval_id, APPROVER)
    outcomes = stack.worker.drain()

    assert [o.outcome for o in outcomes] == ["undone"]
    assert stack.crm.get("account", account.id).owner_id == "O1"  # type: ignore[union-attr]
    assert stack.approvals.get(approval_id).status == "undone"


def test_undo_is_refused_once_someone_changed_the_record(stack: Stack) -> None:
    stack.owner("O2")
    lead = stack.lead(annual_revenue=3_000_000, email="big@acme.io")
    approval_id = stack.queue(field_action(lead, action_id="act-hv", email="big2@acme.io"))
    stack.approvals.approve(approval_id, APPROVER)
    stack.worker.drain()
    current = stack.crm.get("lead", lead.id)
    assert current is not None
    stack.crm.update(
        "lead", lead.id, {"title": "VP"}, expected_version=current.version, idempotency_key="edit"
    )

    stack.approvals.request_undo(approval_id, APPROVER)
    outcomes = stack.worker.drain()

    assert [o.outcome for o in outcomes] == ["undo_refused"]
    assert stack.approvals.get(approval_id).status == "executed"
    assert stack.crm.get("lead", lead.id).get("email") == "big2@acme.io"  # type: ignore[union-attr]


def test_merges_cannot_be_undone(stack: Stack) -> None:
    approval_id = _queued_merge(stack)
    stack.approvals.approve(approval_id, APPROVER)
    stack.worker.drain()

    with pytest.raises(UndoNotAllowedError, match="merge cannot be undone"):
        stack.approvals.request_undo(approval_id, APPROVER)


def test_undo_window_closes(stack: Stack) -> None:
    lead = stack.lead(annual_revenue=3_000_000, email="big@acme.io")
    approval_id = stack.queue(field_action(lead, action_id="act-hv", email="big2@acme.io"))
    stack.approvals.approve(approval_id, APPROVER)
    stack.worker.drain()
    stack.later(days=3)

    with pytest.raises(UndoNotAllowedError, match="window"):
        stack.approvals.request_undo(approval_id, APPROVER)


def test_every_decision_is_audited_with_its_rule(stack: Stack) -> None:
    approval_id = _queued_merge(stack)
    stack.approvals.approve(approval_id, APPROVER)
    stack.worker.drain()

    with stack.services.database.transaction() as session:
        events = session.execute(
            select(AuditEventRow.event, AuditEventRow.actor, AuditEventRow.rule)
            .where(AuditEventRow.subject == approval_id)
            .order_by(AuditEventRow.seq)
        ).all()
        status = session.execute(select(ApprovalRow.status).where(ApprovalRow.id == approval_id)).scalar_one()

    assert [e.event for e in events] == ["approval_requested", "approved", "executed"]
    assert events[0].rule == "requires_approval: merge"
    assert events[1].actor == APPROVER
    assert status == "executed"
