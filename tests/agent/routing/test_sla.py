"""SLA clocks: reminder, escalation, reassignment through the policy, in working minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.routing import RoutingService
from agent.routing.service import AssignmentNotice, RoutingNotifier
from agent.routing.sla import SlaReport, tick
from agent.store.rows import RoutingAssignmentRow
from tests.agent.routing.support import Recorder, routing_service
from tests.support.fakes import T0
from tests.support.stack import Stack

CONFIG = """
timezone: UTC
rules:
  - name: everyone
    then: {pool: team}
  - name: catch-all
    then: {queue: triage}
pools:
  team:
    members:
      - {owner: A, hours: "09:00-17:00"}
      - {owner: B, hours: "09:00-17:00"}
queues:
  triage: {channel: "#triage"}
sla: {remind_after: 30, escalate_after: 60, reassign_after: 120, escalation_channel: "#managers"}
"""
APPROVERS = ("U0APPROVER", "U0APPROVER1")  # change_owner needs two (policies/default.yaml)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def service(stack: Stack, tmp_path: Path, recorder: Recorder) -> RoutingService:
    stack.owner("A")
    stack.owner("B")
    return routing_service(stack, CONFIG, tmp_path, notifier=recorder)


def at(stack: Stack, service: RoutingService, moment: datetime) -> SlaReport:
    stack.clock.current = moment
    return tick(service, moment)


def rows(service: RoutingService) -> list[RoutingAssignmentRow]:
    with service.database.reading() as session:
        return list(session.scalars(select(RoutingAssignmentRow).order_by(RoutingAssignmentRow.id)))


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)  # T0: Tuesday 09:00 UTC, the start of the working day


def test_reminder_escalation_then_reassignment_through_the_policy(
    stack: Stack, service: RoutingService, recorder: Recorder
) -> None:
    lead = stack.lead(email="jo@initech.example")
    first = service.route(lead.id, requested_by="U0REP")
    assert first.decision.chosen is not None
    assert first.decision.chosen.id == "A"
    assert recorder.assigned[-1].due_at == minutes(30)

    assert at(stack, service, minutes(29)) == SlaReport()

    reminded = at(stack, service, minutes(30))
    assert reminded.reminded == 1
    assert reminded.escalated == 0
    notice = recorder.assigned[-1]
    assert (notice.stage, notice.owner.id, notice.lead.id) == ("reminder", "A", lead.id)
    assert notice.lines == ["Reminder: 30 working minutes since this lead was routed to you."]
    assert notice.due_at == minutes(60)
    assert at(stack, service, minutes(45)) == SlaReport()  # reminded once, not at every tick

    escalated = at(stack, service, minutes(60))
    assert escalated.escalated == 1
    assert recorder.alerts == [
        (
            "#managers",
            f"Lead {lead.id} routed to Owner A has not been worked after 60 working minutes "
            "(rule everyone); it is reassigned after 120.",
        )
    ]
    (row,) = rows(service)
    assert (row.stage, row.due_at) == (2, minutes(120))

    requested_before = len(stack.notifier.requested)
    reassigned = at(stack, service, minutes(120))
    assert reassigned.reassigned == [f"{lead.id} pending"]
    old, new = rows(service)
    assert (old.status, old.stage, old.due_at) == ("reassigned", 3, None)
    assert (new.status, new.owner_id, new.previous_owner_id, new.stage) == ("pending", "B", "A", 0)
    assert new.decision["skipped"] == [{"owner_id": "A", "reason": "the previous owner"}]
    # The owner change waits for people: an approval card, not a silent change.
    assert new.approval_id is not None
    approval = stack.approvals.get(new.approval_id)
    assert approval.status == "pending"
    assert approval.action.kind == "change_owner"
    assert approval.requested_by == "revgate:sla"
    assert [a.id for a in stack.notifier.requested[requested_before:]] == [approval.id]
    still = stack.crm.get("lead", lead.id)
    assert still is not None
    assert still.owner_id == "A"

    # Nothing happens to a pending routing until the change is made.
    assert at(stack, service, minutes(150)) == SlaReport()
    for user in APPROVERS:
        stack.approvals.approve(approval.id, user)
    stack.worker.drain()
    moved = stack.crm.get("lead", lead.id)
    assert moved is not None
    assert moved.owner_id == "B"

    started = at(stack, service, minutes(160))
    assert started.started == 1
    _, new = rows(service)
    assert (new.status, new.stage, new.routed_at, new.due_at) == ("open", 0, minutes(160), minutes(190))
    told = recorder.assigned[-1]  # the new owner hears of it once the change is made
    assert (told.stage, told.owner.id, told.due_at) == ("reassigned", "B", minutes(190))
    assert told.lines[-1] == "The owner change was approved; the SLA clock starts now."
    assert any(line.startswith("Skipped: A (the previous owner)") for line in told.lines)
    # The new owner's clock runs its whole course: a reminder first, not another reassignment.
    assert at(stack, service, minutes(190)).reminded == 1
    assert (recorder.assigned[-1].stage, recorder.assigned[-1].owner.id) == ("reminder", "B")


def test_a_worked_lead_stops_the_clock(stack: Stack, service: RoutingService, recorder: Recorder) -> None:
    lead = stack.lead(email="jo@initech.example")
    service.route(lead.id, requested_by="U0REP")
    routed = stack.crm.get("lead", lead.id)
    assert routed is not None
    stack.crm.update(
        "lead", lead.id, {"status": "Working"}, expected_version=routed.version, idempotency_key="work-it"
    )
    report = at(stack, service, minutes(30))
    assert report.worked == 1
    assert report.reminded == 0
    (row,) = rows(service)
    assert (row.status, row.due_at, row.worked_at) == ("worked", None, minutes(30))
    assert at(stack, service, minutes(200)) == SlaReport()
    assert [n.stage for n in recorder.assigned] == ["assigned"]


def test_a_lead_someone_else_took_stops_the_clock(stack: Stack, service: RoutingService) -> None:
    lead = stack.lead(email="jo@initech.example")
    service.route(lead.id, requested_by="U0REP")
    routed = stack.crm.get("lead", lead.id)
    assert routed is not None
    stack.crm.update("lead", lead.id, {"owner_id": "B"}, expected_version=routed.version, idempotency_key="k")
    assert at(stack, service, minutes(30)).worked == 1


def test_working_minutes_skip_nights_and_weekends(
    stack: Stack, service: RoutingService, recorder: Recorder
) -> None:
    friday = datetime(2026, 11, 27, 16, 50, tzinfo=UTC)
    stack.clock.current = friday
    lead = stack.lead(email="jo@initech.example")
    service.route(lead.id, requested_by="U0REP")
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert recorder.assigned[-1].due_at == monday + timedelta(minutes=20)
    assert at(stack, service, datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == SlaReport()  # Saturday
    assert at(stack, service, monday + timedelta(minutes=19)) == SlaReport()
    assert at(stack, service, monday + timedelta(minutes=20)).reminded == 1
    assert recorder.assigned[-1].lines == ["Reminder: 30 working minutes since this lead was routed to you."]
    (row,) = rows(service)
    assert row.due_at == monday + timedelta(minutes=50)  # escalation: 60 working minutes after routing
    calendar = service.router.working_time("A")
    assert calendar.working_minutes_between(friday, monday + timedelta(minutes=50)) == 60


def test_a_rejected_reassignment_leaves_the_pending_list(stack: Stack, service: RoutingService) -> None:
    lead = stack.lead(email="jo@initech.example", owner_id="A")
    result = service.route(lead.id, requested_by="U0REP", dry_run=False)
    # A tie on credit goes to the first member, A, who already owns it: nothing changes.
    assert result.status == "unchanged"
    again = service.router.decide(
        stack.crm.get("lead", lead.id),
        requested_by="U0REP",
        exclude=frozenset({"A"}),  # type: ignore[arg-type]
    )
    applied = service.apply(again, requested_by="U0REP")
    assert applied.status == "pending"
    pending = rows(service)[-1]
    assert pending.status == "pending"
    assert pending.approval_id is not None
    assert at(stack, service, minutes(1)) == SlaReport()  # still waiting
    stack.approvals.reject(pending.approval_id, "U0APPROVER", "Keep it with A.")
    report = at(stack, service, minutes(5))
    assert report.closed == 1
    assert rows(service)[-1].status == "rejected"  # no longer re-read at every tick
    assert at(stack, service, minutes(6)) == SlaReport()


def test_pending_routings_do_not_starve_due_clocks(stack: Stack, service: RoutingService) -> None:
    for n in range(3):
        owned = stack.lead(email=f"p{n}@initech.example", owner_id="A")
        decision = service.router.decide(owned, requested_by="U0REP", exclude=frozenset({"A"}))
        assert service.apply(decision, requested_by="U0REP").status == "pending"
    stack.clock.current = minutes(1)
    fresh = stack.lead(email="new@initech.example")
    service.route(fresh.id, requested_by="U0REP")
    stack.clock.current = minutes(31)
    report = tick(service, minutes(31), limit=2)
    assert report.reminded == 1


def test_two_replicas_ticking_together_remind_once(stack: Stack, service: RoutingService) -> None:
    lead = stack.lead(email="jo@initech.example")
    service.route(lead.id, requested_by="U0REP")
    reminders: list[str] = []

    class OtherReplicaTicksMeanwhile(RoutingNotifier):
        """The first replica's reminder is being sent when the second replica's tick runs."""

        def lead_assigned(self, notice: AssignmentNotice) -> None:
            if notice.stage == "reminder":
                reminders.append(notice.lead.id)
                if len(reminders) == 1:
                    tick(service, minutes(30))

    service.notifier = OtherReplicaTicksMeanwhile()
    at(stack, service, minutes(30))

    assert reminders == [lead.id]
    (row,) = rows(service)
    assert row.stage == 1
