"""The routing engine over the local CRM: rules in order, accounts, territories, pools, fallbacks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from agent.errors import CRMNotFoundError
from agent.models import Record
from agent.routing import RoutingConfig, RoutingService
from agent.routing.availability import Load
from agent.routing.decision import Step
from agent.routing.engine import FallbackAdvisor, Router
from agent.routing.pools import PoolLedger
from agent.routing.service import RoutingNotifier
from tests.agent.routing.support import Recorder, routing_service
from tests.support.fakes import sequential_ids
from tests.support.stack import Stack

ALWAYS = 'hours: "00:00-24:00", days: [mon, tue, wed, thu, fri, sat, sun]'
CONFIG = f"""
timezone: UTC
rules:
  - name: existing-account
    when: {{field: account_matched, equals: true}}
    then: {{account_owner: true}}
  - name: founders
    when: {{field: title, contains: founder}}
    then: {{owner: OF}}
  - name: by-territory
    when: {{not: {{field: free_mail, equals: true}}}}
    then: {{territory: true}}
  - name: free-mail
    when: {{field: free_mail, equals: true}}
    then: {{pool: emea}}
  - name: catch-all
    then: {{queue: triage}}
pools:
  na:
    members:
      - {{owner: A, weight: 2, {ALWAYS}}}
      - {{owner: B, weight: 1, {ALWAYS}}}
  emea:
    members:
      - {{owner: C, weight: 1, {{EMEA_C}}}}
      - {{owner: D, weight: 1, {{EMEA_D}}}}
territories:
  - {{name: north-america, team: na, country: [US, CA]}}
  - {{name: europe, team: emea, country: [DE, FR, GB]}}
queues:
  triage: {{channel: "#triage"}}
sla: {{remind_after: 30, escalate_after: 60, reassign_after: 120, escalation_channel: "#managers"}}
"""
AWAY_C = "out_of_office: [{from: 2026-11-20, to: 2026-11-30}]"
AWAY_D = 'hours: "10:00-17:00"'  # the clock reads 09:00 UTC


class Advisor:
    """A fallback advisor double: suggests what it is told and remembers what it was asked."""

    def __init__(self, suggestion: tuple[str, str, str] | None) -> None:
        self.suggestion = suggestion
        self.asked: list[Mapping[str, Any]] = []

    def suggest(self, values: Mapping[str, Any], config: RoutingConfig) -> tuple[str, str, str] | None:
        self.asked.append(values)
        return self.suggestion


def routing(
    stack: Stack,
    tmp_path: Path,
    *,
    emea_c: str = ALWAYS,
    emea_d: str = ALWAYS,
    advisor: FallbackAdvisor | None = None,
    notifier: RoutingNotifier | None = None,
    inactive: frozenset[str] = frozenset(),
    missing: frozenset[str] = frozenset(),
) -> RoutingService:
    text = CONFIG.replace("{EMEA_C}", emea_c).replace("{EMEA_D}", emea_d)
    for owner in {"A", "B", "C", "D", "OF", "OA"} - missing:
        stack.owner(owner, active=owner not in inactive)
    return routing_service(stack, text, tmp_path, notifier=notifier, advisor=advisor)


def lead(stack: Stack, **fields: object) -> Record:
    base: dict[str, object] = {"email": "jane@initech.example", "company": "Initech", "country": "US"}
    base.update(fields)
    return stack.lead(**base)


def test_the_first_matching_rule_wins(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    decision = service.router.decide(lead(stack, title="Co-Founder & CEO"), requested_by="U1")
    assert decision.rule == "founders"  # by-territory would match too, but comes later
    assert decision.chosen is not None
    assert decision.chosen.id == "OF"
    assert [(s.rule, s.outcome) for s in decision.path] == [
        ("existing-account", "no match"),
        ("founders", "matched"),
    ]
    assert decision.action is not None
    assert decision.action.kind == "assign_owner"


def test_a_matched_account_gives_the_lead_to_its_active_owner(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    stack.account(name="Acme Corp", website="https://www.acme.io", owner_id="OA")
    decision = service.router.decide(lead(stack, email="jane@acme.io", company="Acme"), requested_by="U1")
    assert decision.rule == "existing-account"
    assert decision.chosen is not None
    assert decision.chosen.id == "OA"
    assert decision.placement.note == "Account owner of Acme Corp."
    assert decision.values["account_matched"] is True
    assert decision.account.chosen is not None
    assert decision.account.chosen.matched_by == "email domain"


def test_an_inactive_account_owner_lets_the_next_rule_place_the_lead(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path, inactive=frozenset({"OA"}))
    stack.account(name="Acme Corp", website="https://www.acme.io", owner_id="OA")
    decision = service.router.decide(lead(stack, email="jane@acme.io", company="Acme"), requested_by="U1")
    assert decision.rule == "by-territory"
    assert decision.chosen is not None
    assert decision.chosen.id in {"A", "B"}
    assert decision.path[0].outcome == "could not place"
    assert decision.path[0].why == "the account's owner OA is inactive"
    assert decision.placement.pool == "na"


def test_the_territory_rule_sends_to_the_territory_team(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    decision = service.router.decide(lead(stack, country="Germany"), requested_by="U1")
    assert decision.rule == "by-territory"
    assert decision.values["country"] == "DE"
    assert decision.placement.pool == "emea"
    assert decision.chosen is not None
    assert decision.chosen.id == "C"
    assert decision.placement.note.startswith("Territory europe")


def test_a_lead_no_territory_covers_goes_to_the_queue(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    decision = service.router.decide(lead(stack, country="Japan"), requested_by="U1")
    assert decision.rule == "catch-all"
    assert decision.queue == "triage"
    assert decision.chosen is None
    assert decision.action is None
    by_territory = next(s for s in decision.path if s.rule == "by-territory")
    assert (by_territory.outcome, by_territory.why) == ("could not place", "no territory covers the lead")


def test_a_free_mail_lead_never_matches_an_account_by_domain(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    stack.account(name="Gmail Fans", website="https://gmail.com", owner_id="OA")
    decision = service.router.decide(lead(stack, email="jane@gmail.com", company="Gmail"), requested_by="U1")
    assert decision.values["free_mail"] is True
    assert decision.values["email_domain"] == "gmail.com"
    assert decision.values["account_matched"] is False
    assert decision.rule == "free-mail"
    assert decision.placement.pool == "emea"


def test_when_every_member_is_away_the_lead_goes_to_the_fallback_queue_with_an_alert(
    stack: Stack, tmp_path: Path
) -> None:
    recorder = Recorder()
    service = routing(stack, tmp_path, emea_c=AWAY_C, emea_d=AWAY_D, notifier=recorder)
    result = service.route(lead(stack, country="France").id, requested_by="U1")
    decision = result.decision
    assert decision.rule == "catch-all"
    assert decision.queue == "triage"
    assert decision.chosen is None
    assert decision.alert == "nobody in pool emea; the lead went to the fallback queue"
    reasons = {s.owner_id: s.reason for s in decision.placement.skipped}
    assert reasons["C"] == "out of office until 2026-11-30"
    assert reasons["D"].startswith("outside working hours 10:00-17:00")
    assert [(s.rule, s.outcome) for s in decision.path][-2:] == [
        ("by-territory", "could not place"),
        ("catch-all", "fallback"),
    ]
    assert result.status == "queued"
    assert result.assignment_id is not None
    assert recorder.alerts == [("#triage", f"{decision.alert}: {decision.explanation[0]}")]
    assert recorder.assigned == []


def test_a_member_at_a_daily_cap_is_skipped_with_the_reason(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path, emea_c=f"{ALWAYS}, max_per_day: 1")
    first = service.route(lead(stack, country="DE", email="a@one.example").id, requested_by="U1")
    assert first.decision.chosen is not None
    assert first.decision.chosen.id == "C"
    second = service.route(lead(stack, country="DE", email="b@two.example").id, requested_by="U1")
    assert second.decision.chosen is not None
    assert second.decision.chosen.id == "D"
    third = service.route(lead(stack, country="DE", email="c@three.example").id, requested_by="U1")
    assert third.decision.chosen is not None
    assert third.decision.chosen.id == "D"
    skipped = {s.owner_id: s.reason for s in third.decision.placement.skipped}
    assert skipped == {"C": "daily cap reached: 1 leads today (max 1)"}
    assert third.decision.as_record()["skipped"] == [
        {"owner_id": "C", "reason": "daily cap reached: 1 leads today (max 1)"}
    ]


def test_a_member_at_the_open_lead_cap_is_skipped(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path, emea_c=f"{ALWAYS}, max_open_leads: 2")
    for n in range(2):
        stack.lead(email=f"old{n}@old.example", owner_id="C", status="Working")
    stack.lead(email="done@old.example", owner_id="C", status="Qualified")  # closed: not counted
    decision = service.router.decide(lead(stack, country="DE"), requested_by="U1")
    assert decision.chosen is not None
    assert decision.chosen.id == "D"
    assert [(s.owner_id, s.reason) for s in decision.placement.skipped] == [
        ("C", "at capacity: 2 open leads (max 2)")
    ]


def test_an_unowned_lead_gets_assign_owner_and_it_runs(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    unowned = lead(stack)
    result = service.route(unowned.id, requested_by="U1")
    assert result.decision.action is not None
    assert result.decision.action.kind == "assign_owner"
    assert result.status == "open"
    after = stack.crm.get("lead", unowned.id)
    assert after is not None
    assert after.owner_id == "A"


def test_an_owned_lead_rerouted_becomes_a_change_owner_approval_not_a_silent_change(
    stack: Stack, tmp_path: Path
) -> None:
    service = routing(stack, tmp_path)
    owned = lead(stack, owner_id="B", country="DE")
    result = service.route(owned.id, requested_by="U1")
    action = result.decision.action
    assert action is not None
    assert action.kind == "change_owner"
    assert action.targets[0].changes["owner_id"].before == "B"
    assert action.targets[0].changes["owner_id"].after == "C"
    assert result.outcome is not None
    assert result.outcome.disposition == "queued"
    assert result.status == "pending"
    approval = stack.approvals.get(str(result.outcome.approval_id))
    assert approval.status == "pending"
    assert approval.action.kind == "change_owner"
    assert [card.id for card in stack.notifier.requested] == [approval.id]  # the approval card
    unchanged = stack.crm.get("lead", owned.id)
    assert unchanged is not None
    assert unchanged.owner_id == "B"
    assert unchanged.version == owned.version
    assert "This changes the owner from Owner B: a person approves it." in result.decision.explanation


def test_a_lead_already_with_the_chosen_owner_is_left_alone(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    decision = service.router.decide(lead(stack, owner_id="OF", title="Founder"), requested_by="U1")
    assert decision.chosen is not None
    assert decision.chosen.id == "OF"
    assert decision.action is None
    assert decision.sla_due_at is None
    assert decision.explanation[-1] == "No change."


def test_the_explanation_shows_the_path_candidates_and_skipped_members(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path, emea_c=AWAY_C)
    stack.account(name="Globex", website="https://globex.example", owner_id="OA", phone="+49 30 1234567")
    decision = service.router.decide(
        lead(stack, email="hans@gmx.de", company="Globex GmbH", country="DE", phone="+49 30 1234567"),
        requested_by="U1",
    )
    # A free-mail address, but the company name and the phone match the account.
    assert decision.rule == "existing-account"
    assert decision.chosen is not None
    assert decision.chosen.id == "OA"
    details = "\n".join(decision.details())
    assert "Rule path: existing-account: matched (account_matched = True: True)" in details
    assert "Account candidates: Globex (" in details
    assert "company name" in details
    assert "phone" in details
    assert "Normalised: email=hans@gmx.de, email_domain=gmx.de, free_mail=True" in details
    assert "Previous owner: none; chosen: Owner OA." in details

    pooled = service.router.decide(lead(stack, country="DE", email="x@y.example"), requested_by="U1")
    lines = pooled.details()
    assert "Skipped: C (out of office until 2026-11-30)." in lines
    assert any(line.startswith("Pool emea credits before the pick: D 0") for line in lines)
    assert any(line.startswith("Rule path: existing-account: no match") for line in lines)
    record = pooled.as_record()
    assert record["pool"] == "emea"
    assert record["chosen_owner"] == "D"
    assert record["path"][-1] == {
        "rule": "by-territory",
        "outcome": "matched",
        "why": "not (free_mail = True: False)",
    }


def test_a_reassignment_never_picks_the_excluded_previous_owner(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    owned = lead(stack, owner_id="A")
    for _ in range(5):
        decision = service.router.decide(owned, requested_by="U1", exclude=frozenset({"A"}))
        assert decision.chosen is not None
        assert decision.chosen.id == "B"
        assert [(s.owner_id, s.reason) for s in decision.placement.skipped] == [("A", "the previous owner")]
        assert decision.action is not None
        assert decision.action.kind == "change_owner"


def test_an_excluded_fixed_owner_falls_through_to_the_next_rule(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    decision = service.router.decide(
        lead(stack, owner_id="OF", title="Founder"), requested_by="U1", exclude=frozenset({"OF"})
    )
    assert decision.rule == "by-territory"
    assert decision.chosen is not None
    assert decision.chosen.id != "OF"
    assert decision.path[1] == Step("founders", "could not place", "owner OF is the previous owner")


def test_the_advisor_is_asked_only_at_the_catch_all(stack: Stack, tmp_path: Path) -> None:
    advisor = Advisor(("pool", "emea", "Japanese buyers are served from Europe."))
    service = routing(stack, tmp_path, advisor=advisor)
    placed = service.router.decide(lead(stack, country="US"), requested_by="U1")
    assert placed.rule == "by-territory"
    assert advisor.asked == []

    decision = service.router.decide(
        lead(stack, country="Japan", email="k@nippon.example"), requested_by="U1"
    )
    assert len(advisor.asked) == 1
    assert advisor.asked[0]["country"] == "JP"
    assert decision.rule == "catch-all"
    assert decision.placement.pool == "emea"
    assert decision.placement.suggested_by == "model"
    assert decision.chosen is not None
    assert decision.chosen.id == "C"
    assert "the model suggested pool emea: Japanese buyers are served from Europe." in decision.placement.note
    assert decision.action is not None
    assert decision.action.planner == "model"
    assert "suggested by the model" in decision.explanation[1]


def test_an_advisor_suggesting_an_owner_or_nothing(stack: Stack, tmp_path: Path) -> None:
    advisor = Advisor(("owner", "OF", "A founder-led deal."))
    service = routing(stack, tmp_path, advisor=advisor)
    decision = service.router.decide(lead(stack, country="Japan"), requested_by="U1")
    assert decision.chosen is not None
    assert decision.chosen.id == "OF"
    assert decision.placement.suggested_by == "model"

    advisor.suggestion = ("owner", "NOBODY", "no such owner")
    unknown = service.router.decide(lead(stack, country="Japan", email="b@b.example"), requested_by="U1")
    assert unknown.queue == "triage"
    assert unknown.placement.suggested_by is None

    advisor.suggestion = None
    declined = service.router.decide(lead(stack, country="Japan", email="c@c.example"), requested_by="U1")
    assert declined.queue == "triage"
    assert declined.chosen is None


def test_find_lead_by_id_or_email(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path)
    created = lead(stack, email="jane.roe@initech.example")
    assert service.router.find_lead(created.id).id == created.id
    assert service.router.find_lead(" Jane.Roe@Initech.example ").id == created.id
    with pytest.raises(CRMNotFoundError):
        service.router.find_lead("nobody@initech.example")


def test_loads_are_read_only_for_capped_members_who_could_take_the_lead(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path, emea_c=f"{ALWAYS}, max_per_day: 5", emea_d=AWAY_D)
    asked: list[str] = []

    def load_of(owner_id: str, day: date) -> Load:
        asked.append(owner_id)
        return Load()

    router = Router(
        stack.crm,
        service.router.config,
        PoolLedger(stack.services.database),
        clock=stack.clock,
        new_id=sequential_ids("x"),
        load_of=load_of,
    )
    router.decide(lead(stack, country="DE"), requested_by="U1")  # C capped and working, D off
    router.decide(lead(stack, country="US", email="u@us.example"), requested_by="U1")  # A, B: no caps
    assert asked == ["C"]


def test_an_owner_created_after_routing_started_is_seen_at_once(stack: Stack, tmp_path: Path) -> None:
    service = routing(stack, tmp_path, missing=frozenset({"OF"}))
    before = service.router.decide(lead(stack, title="Founder"), requested_by="U1")
    assert before.rule == "by-territory"
    assert before.path[1].why == "owner OF is unknown"
    stack.owner("OF")  # the clock has not moved: the owners cache is still fresh
    after = service.router.decide(lead(stack, title="Founder", email="f@f.example"), requested_by="U1")
    assert after.rule == "founders"
    assert after.chosen is not None
    assert after.chosen.id == "OF"
