"""A whole agent pass over a seeded CRM (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from agent.crm.seed import seed_crm
from agent.policy_file import load_policy
from agent.store.rows import ApprovalRow, ProposalRow, RunRow
from tests.support.stack import STRICT_POLICY, Stack


def _seeded(stack: Stack, records: int = 200) -> None:
    seed_crm(stack.crm, records=records, seed=7, now=stack.clock.now())


def test_a_pass_executes_queues_and_refuses_under_the_default_policy(stack: Stack) -> None:
    _seeded(stack)

    report = stack.services.runner.run(stack.services.offline_planner())

    assert report.count("executed") > 0
    assert report.count("queued") > 0
    assert report.count("refused") > 0
    assert report.count("failed") == 0
    assert report.count("queued", "merge") >= 1
    assert report.count("queued", "change_owner") >= 1
    assert {o.verdict.rule for o in report.with_disposition("refused")} == {"forbidden_actions: delete"}


def test_direct_writes_stop_at_the_bulk_budget_and_the_rest_becomes_one_bulk_approval(stack: Stack) -> None:
    _seeded(stack)
    budget = stack.services.policy.bulk_operations.max_records

    report = stack.services.runner.run(stack.services.offline_planner())

    assert report.records("executed") <= budget
    bulk = [o for o in report.with_disposition("queued") if o.action.check == "bulk"]
    assert bulk, "expected held-back changes to be bundled"
    assert all(o.verdict.gates == ("bulk_operations",) for o in bulk)
    assert len({(o.action.kind, o.action.object_type) for o in bulk}) == len(bulk)


def test_unowned_leads_get_the_direct_budget_before_formatting(stack: Stack) -> None:
    _seeded(stack)

    report = stack.services.runner.run(stack.services.offline_planner())

    assert report.count("executed", "assign_owner") >= 1
    assert report.count("queued", "assign_owner") == 0


def test_the_strict_policy_refuses_merges_and_owner_changes_instead_of_queueing(database_url: str) -> None:
    stack = Stack(database_url, policy=load_policy(STRICT_POLICY))
    try:
        _seeded(stack)

        report = stack.services.runner.run(stack.services.offline_planner())

        for kind in ("merge", "change_owner", "delete"):
            assert report.count("queued", kind) == 0
            assert report.count("refused", kind) >= 1
        assert report.count("executed") > 0
        refused_rules = {
            o.verdict.rule for o in report.with_disposition("refused") if o.action.kind == "merge"
        }
        assert refused_rules == {"forbidden_actions: merge"}
    finally:
        stack.close()


def test_a_dry_run_writes_nothing_and_queues_nothing(stack: Stack) -> None:
    _seeded(stack)
    versions_before = {r.id: r.version for r in stack.crm.iter_records("lead")}

    report = stack.services.runner.run(stack.services.offline_planner(), dry_run=True)

    assert report.count("planned") > 0
    assert report.count("executed") == report.count("queued") == 0
    assert {r.id: r.version for r in stack.crm.iter_records("lead")} == versions_before
    with stack.services.database.transaction() as session:
        assert session.execute(select(func.count()).select_from(ApprovalRow)).scalar_one() == 0


def test_a_second_pass_does_not_queue_the_same_changes_again(stack: Stack) -> None:
    _seeded(stack)
    first = stack.services.runner.run(stack.services.offline_planner())

    second = stack.services.runner.run(stack.services.offline_planner())

    merges_first = first.count("queued", "merge")
    assert merges_first >= 1
    assert second.count("queued", "merge") == 0
    assert second.count("duplicate", "merge") == merges_first
    with stack.services.database.transaction() as session:
        merges = session.execute(
            select(func.count()).select_from(ApprovalRow).where(ApprovalRow.kind == "merge")
        ).scalar_one()
    assert merges == merges_first


def test_every_proposal_and_the_run_are_recorded_and_audited(stack: Stack) -> None:
    _seeded(stack, records=60)

    report = stack.services.runner.run(stack.services.offline_planner(), trigger="test")

    with stack.services.database.transaction() as session:
        run = session.execute(select(RunRow).where(RunRow.id == report.run_id)).scalar_one()
        proposals = session.execute(select(func.count()).select_from(ProposalRow)).scalar_one()
        audit = stack.services.audit.verify(session)
    assert run.status == "completed"
    assert run.trigger == "test"
    assert proposals == len(report.outcomes)
    assert audit.events >= len(report.outcomes)


def test_a_rejected_change_is_not_proposed_again_until_the_record_changes(stack: Stack) -> None:
    _seeded(stack)
    first = stack.services.runner.run(stack.services.offline_planner())
    merge = next(o for o in first.with_disposition("queued") if o.action.kind == "merge")
    assert merge.approval_id is not None
    stack.approvals.reject(merge.approval_id, "U0APPROVER", "two different people")

    second = stack.services.runner.run(stack.services.offline_planner())
    suppressed = [o for o in second.with_disposition("suppressed") if o.action.kind == "merge"]
    assert [set(o.action.record_ids) for o in suppressed] == [set(merge.action.record_ids)]
    assert "two different people" in suppressed[0].verdict.reason
    assert suppressed[0].approval_id is None
    assert suppressed[0].detail == f"approval {merge.approval_id}"

    survivor = merge.action.targets[0]
    record = stack.crm.get("lead", survivor.record_id)
    assert record is not None
    stack.crm.update(
        "lead", record.id, {"title": "Changed"}, expected_version=record.version, idempotency_key="e"
    )
    third = stack.services.runner.run(stack.services.offline_planner())
    requeued = [o for o in third.with_disposition("queued") if o.action.kind == "merge"]
    assert any(set(o.action.record_ids) == set(merge.action.record_ids) for o in requeued)


def test_submit_puts_single_actions_through_the_same_gate(stack: Stack) -> None:
    from tests.support.stack import field_action

    lead = stack.lead(email=" Jane@Acme.io ")

    report = stack.services.runner.submit(
        [field_action(lead, email="jane@acme.io")], job="slash", trigger="slack:U1"
    )

    assert [o.disposition for o in report.outcomes] == ["executed"]
    assert stack.crm.get("lead", lead.id).get("email") == "jane@acme.io"  # type: ignore[union-attr]
