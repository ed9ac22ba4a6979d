"""RoutingService: the decision recorded (assignment row, audit), the policy's say, the assignee told."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent.errors import CRMNotFoundError
from agent.routing import RoutingService
from agent.routing.pools import PoolLedger
from agent.store.rows import AuditEventRow, RoutingAssignmentRow, RoutingPoolRow
from tests.agent.routing.support import Recorder, routing_service
from tests.support.fakes import T0
from tests.support.stack import Stack

CONFIG = """
timezone: UTC
rules:
  - name: germany
    when: {field: country, equals: DE}
    then: {pool: emea}
  - name: catch-all
    then: {queue: triage}
pools:
  emea:
    members:
      - {owner: C, weight: 2, hours: "09:00-17:00"}
      - {owner: D, weight: 1, hours: "09:00-17:00"}
queues:
  triage: {owner: Q1, channel: "#triage"}
sla: {remind_after: 45, escalate_after: 60, reassign_after: 120}
"""


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def service(stack: Stack, tmp_path: Path, recorder: Recorder) -> RoutingService:
    for owner in ("C", "D", "Q1"):
        stack.owner(owner)
    return routing_service(stack, CONFIG, tmp_path, notifier=recorder)


def _assignments(service: RoutingService) -> list[RoutingAssignmentRow]:
    with service.database.reading() as session:
        return list(session.scalars(select(RoutingAssignmentRow).order_by(RoutingAssignmentRow.id)))


def _routing_events(service: RoutingService) -> list[AuditEventRow]:
    with service.database.reading() as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.event == "routing.decided")))


def test_a_routing_is_recorded_with_its_decision(stack: Stack, service: RoutingService) -> None:
    lead = stack.lead(email="hans@globex.de", country="Germany")
    result = service.route("hans@globex.de", requested_by="U0REP")
    assert result.status == "open"
    assert result.outcome is not None
    assert result.outcome.action.kind == "assign_owner"

    (row,) = _assignments(service)
    assert row.id == result.assignment_id
    assert (row.lead_id, row.owner_id, row.previous_owner_id) == (lead.id, "C", None)
    assert (row.pool, row.queue, row.rule, row.status, row.stage) == ("emea", None, "germany", "open", 0)
    assert row.day == T0.date()
    assert row.routed_at == T0
    assert row.due_at == T0 + timedelta(minutes=45)
    assert row.decision["chosen_owner"] == "C"
    assert row.decision["disposition"] == "executed"
    assert row.decision["path"] == [{"rule": "germany", "outcome": "matched", "why": "country = 'DE': 'DE'"}]
    assert row.decision["credits"] == {"C": 0.0, "D": 0.0}

    (event,) = _routing_events(service)
    assert (event.actor, event.subject, event.rule) == ("U0REP", f"lead:{lead.id}", "germany")
    assert event.payload["assignment_id"] == row.id
    assert event.payload["status"] == "open"
    assert event.payload["values"]["country"] == "DE"
    assert event.payload["input"]["email"] == "hans@globex.de"
    assert event.payload["sla_due_at"] == (T0 + timedelta(minutes=45)).isoformat()

    after = stack.crm.get("lead", lead.id)
    assert after is not None
    assert after.owner_id == "C"


def test_the_assignee_is_told_with_the_sla_deadline(
    stack: Stack, service: RoutingService, recorder: Recorder
) -> None:
    stack.lead(email="hans@globex.de", country="DE")
    result = service.route("hans@globex.de", requested_by="U0REP")
    (notice,) = recorder.assigned
    assert notice.owner.id == "C"
    assert notice.stage == "assigned"
    assert notice.due_at == T0 + timedelta(minutes=45) == result.decision.sla_due_at
    assert notice.lines == result.decision.explanation
    assert notice.rule == "germany"
    assert recorder.alerts == []


def test_the_sla_deadline_is_in_working_minutes(
    stack: Stack, service: RoutingService, recorder: Recorder
) -> None:
    stack.clock.current = T0.replace(hour=16, minute=40)  # Tuesday, 20 minutes before 17:00
    stack.lead(email="hans@globex.de", country="DE")
    service.route("hans@globex.de", requested_by="U0REP")
    assert recorder.assigned[0].due_at == T0.replace(day=25, hour=9, minute=25)


def test_a_dry_run_writes_nothing(stack: Stack, service: RoutingService, recorder: Recorder) -> None:
    lead = stack.lead(email="hans@globex.de", country="DE")
    audit_before = _audit_count(service)
    result = service.route(lead.id, requested_by="U0REP", dry_run=True)
    assert result.dry_run
    assert result.status == "dry run"
    assert result.outcome is None
    assert result.assignment_id is None
    assert result.decision.chosen is not None
    assert result.decision.chosen.id == "C"
    assert result.decision.action is not None  # what would be done, for the explanation
    assert _assignments(service) == []
    assert PoolLedger(service.database).state("emea") == {}
    with service.database.reading() as session:
        assert session.scalars(select(RoutingPoolRow)).all() == []
    assert _audit_count(service) == audit_before
    unchanged = stack.crm.get("lead", lead.id)
    assert unchanged is not None
    assert unchanged.owner_id is None
    assert unchanged.version == lead.version
    assert recorder.assigned == []
    assert recorder.alerts == []
    # The real routing that follows picks the member the dry run showed.
    assert service.route(lead.id, requested_by="U0REP").decision.chosen == result.decision.chosen


def test_a_queued_lead_is_given_to_the_queue_owner_and_announced(
    stack: Stack, service: RoutingService, recorder: Recorder
) -> None:
    lead = stack.lead(email="ken@nippon.example", country="Japan")
    result = service.route(lead.id, requested_by="U0REP")
    assert result.decision.queue == "triage"
    assert result.outcome is not None
    assert result.outcome.disposition == "executed"  # assign_owner to the queue's CRM owner ran
    assert result.status == "queued"
    (row,) = _assignments(service)
    assert (row.owner_id, row.queue, row.status, row.due_at) == ("Q1", "triage", "queued", None)
    assert recorder.assigned == []
    ((channel, text),) = recorder.alerts
    assert channel == "#triage"
    assert text.startswith("New lead in queue triage: ")
    after = stack.crm.get("lead", lead.id)
    assert after is not None
    assert after.owner_id == "Q1"


def test_an_owned_lead_waits_for_approval_and_nobody_is_told_yet(
    stack: Stack, service: RoutingService, recorder: Recorder
) -> None:
    lead = stack.lead(email="hans@globex.de", country="DE", owner_id="D")
    result = service.route(lead.id, requested_by="U0REP")
    assert result.status == "pending"
    (row,) = _assignments(service)
    assert (row.status, row.owner_id, row.previous_owner_id) == ("pending", "C", "D")
    assert row.approval_id is not None
    assert row.approval_id == result.outcome.approval_id
    assert row.due_at is None  # the clock starts once the change is made
    assert recorder.assigned == []
    assert stack.approvals.get(row.approval_id).action.kind == "change_owner"


def test_routed_leads_count_towards_the_daily_load(stack: Stack, service: RoutingService) -> None:
    for n in range(3):
        stack.lead(email=f"p{n}@globex.de", country="DE")
        service.route(f"p{n}@globex.de", requested_by="U0REP")
    load = service.load_of("C", T0.date())
    assert load.today == 2
    assert load.open_leads == 2
    assert service.load_of("D", T0.date()).today == 1
    assert service.load_of("C", T0.date() + timedelta(days=1)).today == 0


def test_an_unknown_lead_is_reported(service: RoutingService) -> None:
    with pytest.raises(CRMNotFoundError, match=r"nobody@nowhere\.example"):
        service.route("nobody@nowhere.example", requested_by="U0REP")
    assert _assignments(service) == []


def _audit_count(service: RoutingService) -> int:
    with service.database.reading() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEventRow)) or 0)


def test_another_process_routings_count_within_a_minute(
    stack: Stack, service: RoutingService, tmp_path: Path
) -> None:
    other = routing_service(stack, CONFIG, tmp_path, id_prefix="o")  # another process, one database
    assert service.load_of("C", T0.date()).today == 0
    stack.lead(email="p@globex.de", country="DE")
    other.route("p@globex.de", requested_by="U0REP")
    assert other.load_of("C", T0.date()).today == 1  # its own routing, at once
    assert service.load_of("C", T0.date()).today == 0  # read a moment ago
    stack.later(seconds=61)
    assert service.load_of("C", T0.date()).today == 1
