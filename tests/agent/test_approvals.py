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
from tests.support.stack import APPROVER, Stack, bulk_email_action, field_action, merge_action, owner_action


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


def _bulk_for_approval(stack: Stack, count: int = 30) -> tuple[str, list[str]]:
    leads = [stack.lead(email=f" Lead{n}@acme.io") for n in range(count)]
    return stack.queue(bulk_email_action(leads)), [lead.id for lead in leads]


def test_excluded_items_of_a_bulk_approval_are_not_written(stack: Stack) -> None:
    approval_id, lead_ids = _bulk_for_approval(stack)

    approval = stack.approvals.approve(approval_id, APPROVER, exclude=lead_ids[:2])
    stack.worker.drain()

    assert len(approval.action.targets) == 28
    assert stack.crm.get("lead", lead_ids[0]).get("email") == " Lead0@acme.io"  # type: ignore[union-attr]
    assert stack.crm.get("lead", lead_ids[2]).get("email") == "lead2@acme.io"  # type: ignore[union-attr]


def test_an_edit_that_widens_the_change_is_refused_and_changes_nothing(stack: Stack) -> None:
    from agent.errors import EditNotAllowedError

    approval_id, lead_ids = _bulk_for_approval(stack)
    outsider = stack.lead(email=" Outsider@acme.io")

    with pytest.raises(EditNotAllowedError, match="only narrow"):
        stack.approvals.edit(approval_id, APPROVER, keep_records=[*lead_ids, outsider.id])

    assert [t.record_id for t in stack.approvals.get(approval_id).action.targets] == lead_ids


def test_an_edit_narrows_and_is_audited(stack: Stack) -> None:
    approval_id, lead_ids = _bulk_for_approval(stack)

    edited = stack.approvals.edit(approval_id, APPROVER, keep_records=lead_ids[:1])

    assert [t.record_id for t in edited.action.targets] == lead_ids[:1]
    assert edited.status == "pending"
    with stack.services.database.transaction() as session:
        events = [e.event for e in stack.services.audit.tail(session, 5, subject=approval_id)]
    assert events[-1] == "edited"


def test_a_rejection_reason_reaches_the_agents_memory(stack: Stack) -> None:
    from agent.memory import RejectionMemory

    approval_id = _queued_merge(stack)
    action = stack.approvals.get(approval_id).action

    stack.approvals.reject(approval_id, APPROVER, "different people, same shared inbox")

    memory = RejectionMemory(stack.services.database)
    remembered = memory.for_records("lead", action.record_ids)
    assert {r.reason for r in remembered} == {"different people, same shared inbox"}
    assert memory.suppresses(action, remembered) is not None


def test_an_unauthorised_click_is_audited_and_changes_nothing(stack: Stack) -> None:
    approval_id = _queued_merge(stack)

    with pytest.raises(NotAnApproverError):
        stack.approvals.approve(approval_id, "U0INTERN")

    with stack.services.database.transaction() as session:
        last = stack.services.audit.tail(session, 1, subject=approval_id)[0]
    assert last.event == "decision_refused"
    assert last.actor == "U0INTERN"
    assert stack.approvals.get(approval_id).status == "pending"


def test_pending_for_lists_what_the_user_may_decide(stack: Stack) -> None:
    stack.owner("O1", active=False)
    stack.owner("O2")
    merge_id = _queued_merge(stack)
    account = stack.account(owner_id="O1")
    owner_id = stack.queue(owner_action(account, "O2"), requested_by="U0LEAD1")

    assert [a.id for a in stack.approvals.pending_for(APPROVER)] == [merge_id, owner_id]
    assert [a.id for a in stack.approvals.pending_for("U0LEAD1")] == [merge_id]  # not their own request
    assert stack.approvals.pending_for("U0INTERN") == []


def test_cards_to_sync_tracks_what_slack_has_not_seen(stack: Stack) -> None:
    approval_id = _queued_merge(stack)
    assert [a.id for a in stack.approvals.cards_to_sync()] == [approval_id]

    shown = stack.approvals.get(approval_id).revision
    assert stack.approvals.mark_card_synced(approval_id, channel="C1", ts="1.0", shown=shown)
    assert stack.approvals.cards_to_sync() == []

    stack.approvals.approve(approval_id, APPROVER)  # same clock tick: the revision still moves
    assert [a.id for a in stack.approvals.cards_to_sync()] == [approval_id]
    assert not stack.approvals.mark_card_synced(approval_id, channel="C2", ts="2.0", shown=shown + 1)
    assert not stack.approvals.mark_card_synced(approval_id, channel="C1", ts="1.0", shown=shown)
