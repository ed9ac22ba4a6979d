"""Requests nobody decides: reminded, escalated, then expired with the policy's fallback, each step once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from agent.expiry import FALLBACK_REQUESTER, ExpiryTicker, due_step
from agent.models import OWNER_FIELD, FieldChange, ProposedAction, Record, Target
from agent.policy_file import load_policy
from agent.policy_rules import BulkRule, ExpiryRule
from agent.store.rows import AuditEventRow
from tests.support.fakes import T0
from tests.support.stack import DEFAULT_POLICY, Stack, merge_action

RULE = ExpiryRule(
    after=timedelta(hours=24), remind_after=timedelta(hours=4), escalate_after=timedelta(hours=12)
)


def _step(hours: float, *, sent: int = 0, escalated: bool = False) -> tuple[str, int] | None:
    return due_step(
        RULE,
        created_at=T0,
        expires_at=T0 + RULE.after,
        reminders_sent=sent,
        escalated=escalated,
        now=T0 + timedelta(hours=hours),
    )


def test_nothing_is_due_before_the_first_reminder() -> None:
    assert _step(3.9) is None


def test_reminders_come_every_remind_after_until_the_escalation() -> None:
    assert _step(4) == ("remind", 1)
    assert _step(5, sent=1) is None
    assert _step(8, sent=1) == ("remind", 2)
    assert _step(12, sent=2) == ("escalate", 2)
    assert _step(16, sent=2, escalated=True) is None


def test_after_downtime_overdue_reminders_count_but_only_one_is_due() -> None:
    assert _step(11.5) == ("remind", 2)  # not 3: the third would fall on the escalation


def test_expiry_wins_over_everything_else() -> None:
    assert _step(24, sent=0) == ("expire", 0)


def test_a_rule_without_nudges_only_expires() -> None:
    bare = ExpiryRule(after=timedelta(hours=1))
    kwargs = {"created_at": T0, "expires_at": T0 + bare.after, "reminders_sent": 0, "escalated": False}
    assert due_step(bare, now=T0 + timedelta(minutes=59), **kwargs) is None  # type: ignore[arg-type]
    assert due_step(bare, now=T0 + timedelta(hours=1), **kwargs) == ("expire", 0)  # type: ignore[arg-type]


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    s = Stack(database_url)
    try:
        yield s
    finally:
        s.close()


def _events(stack: Stack, approval_id: str) -> list[str]:
    with stack.services.database.reading() as session:
        return list(
            session.execute(
                select(AuditEventRow.event)
                .where(AuditEventRow.subject == approval_id)
                .order_by(AuditEventRow.seq)
            ).scalars()
        )


def _merge(stack: Stack) -> str:
    return stack.queue(merge_action(stack.lead(email="dup@acme.io"), stack.lead(email="DUP@acme.io")))


def test_a_merge_is_reminded_escalated_and_expired_by_the_default_policy(stack: Stack) -> None:
    ticker = stack.services.expiry_ticker()
    approval_id = _merge(stack)
    stack.later(hours=23)
    assert ticker.tick().reminded == []
    stack.later(hours=1)  # 24h: merge reminds after 24h
    assert ticker.tick().reminded == [approval_id]
    assert ticker.tick().reminded == []  # the same slot twice: once
    stack.later(hours=24)  # 48h: escalate
    assert ticker.tick().escalated == [approval_id]
    stack.later(hours=24)  # 72h: expire, fallback drop
    report = ticker.tick()
    assert report.expired == [approval_id]
    assert report.fallbacks == {}

    approval = stack.approvals.get(approval_id)
    assert approval.status == "expired"
    assert approval.reminders_sent == 1
    assert approval.escalated_at == T0 + timedelta(hours=48)
    assert approval.nudges == 2
    assert _events(stack, approval_id) == ["approval_requested", "reminded", "escalated", "expired"]


def test_every_step_bumps_the_revision_so_the_card_is_redrawn(stack: Stack) -> None:
    ticker = stack.services.expiry_ticker()
    approval_id = _merge(stack)
    before = stack.approvals.get(approval_id).revision
    stack.later(hours=24)
    ticker.tick()
    assert stack.approvals.get(approval_id).revision == before + 1
    assert stack.notifier.updated[-1].id == approval_id


def test_replicas_ticking_together_send_each_reminder_once(stack: Stack) -> None:
    approval_ids = [
        stack.queue(
            merge_action(stack.lead(email=f"d{n}@acme.io"), stack.lead(email=f"D{n}@acme.io"), f"m{n}")
        )
        for n in range(5)
    ]
    stack.later(hours=24)
    tickers = [stack.services.expiry_ticker() for _ in range(3)]
    reports = []
    threads = [threading.Thread(target=lambda t=t: reports.append(t.tick())) for t in tickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    reminded = sorted(a for report in reports for a in report.reminded)
    assert reminded == sorted(approval_ids)
    for approval_id in approval_ids:
        assert _events(stack, approval_id).count("reminded") == 1


def test_a_decided_request_is_not_nudged(stack: Stack) -> None:
    ticker = stack.services.expiry_ticker()
    approval_id = _merge(stack)
    stack.approvals.reject(approval_id, "U0APPROVER", "not the same person")
    stack.later(hours=80)
    assert ticker.tick().reminded == ticker.tick().expired == []
    assert "reminded" not in _events(stack, approval_id)


def _bulk_assign(stack: Stack, leads: list[Record], owner: str) -> ProposedAction:
    return ProposedAction(
        id="bulk-assign",
        kind="assign_owner",
        object_type="lead",
        targets=[
            Target(
                record_id=lead.id,
                version=lead.version,
                changes={OWNER_FIELD: FieldChange(before=None, after=owner)},
            )
            for lead in leads
        ],
        rationale="The model thinks these belong to Ann.",
        planner="claude",
        check="unowned_leads",
    )


_ROUTE_TO_O1_AND_O2 = """
rules:
  - {name: everyone, then: {pool: all}}
  - {name: catch-all, then: {queue: triage}}
pools:
  all:
    members:
      - {owner: O1, hours: "00:00-24:00", days: [mon, tue, wed, thu, fri, sat, sun]}
      - {owner: O2, hours: "00:00-24:00", days: [mon, tue, wed, thu, fri, sat, sun]}
queues:
  triage: {}
"""


@pytest.fixture
def small_bulk(database_url: str) -> Iterator[Stack]:
    policy = load_policy(DEFAULT_POLICY)
    s = Stack(database_url, policy=policy.model_copy(update={"bulk_operations": BulkRule(max_records=3)}))
    try:
        yield s
    finally:
        s.close()


def test_an_unapproved_owner_assignment_falls_back_to_the_routing_rules(small_bulk: Stack) -> None:
    stack = small_bulk
    stack.owner("O1")
    stack.owner("O2")
    stack.routing(_ROUTE_TO_O1_AND_O2)
    leads = [stack.lead(email=f"new{n}@acme.io") for n in range(4)]
    approval_id = stack.queue(_bulk_assign(stack, leads, "O1"))  # 4 records > 3: bulk, gated
    ticker = stack.services.expiry_ticker()
    stack.later(minutes=15)

    report = ticker.tick()

    assert report.expired == [approval_id]
    assert report.fallbacks[approval_id].startswith("routed by the rules")
    owners = [stack.crm.get("lead", lead.id).owner_id for lead in leads]  # type: ignore[union-attr]
    # Routed one by one through the policy: the run budget (3 direct writes) still holds,
    # so three leads are assigned at once and the fourth waits for a person.
    assert sum(owner is not None for owner in owners) == 3
    assert {o for o in owners if o} <= {"O1", "O2"}
    (queued,) = stack.approvals.pending_for("U0APPROVER")
    assert queued.requested_by == f"{FALLBACK_REQUESTER}{approval_id}"
    assert "expiry_fallback" in _events(stack, approval_id)

    stack.later(minutes=15)
    again = ticker.tick()
    assert again.expired == [queued.id]
    assert again.fallbacks == {}  # a fallback's own request gets no fallback: nothing loops


def test_the_escalate_fallback_marks_the_expired_request_escalated(database_url: str) -> None:
    policy = load_policy(DEFAULT_POLICY)
    expiry = {**policy.expiry, "merge": ExpiryRule(after=timedelta(hours=1), fallback="escalate")}
    stack = Stack(database_url, policy=policy.model_copy(update={"expiry": expiry}))
    try:
        approval_id = _merge(stack)
        stack.later(hours=1)
        ExpiryTicker(stack.services.database, stack.approvals, stack.services.audit, stack.clock).tick()
        approval = stack.approvals.get(approval_id)
        assert approval.status == "expired"
        assert approval.escalated_at == T0 + timedelta(hours=1)
    finally:
        stack.close()
