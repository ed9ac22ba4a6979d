"""``/route-lead`` over the real endpoint, by a routing file given through ``REVGATE_ROUTING``.

The assignee's direct message, the queue alerts and the SLA reminder all go to the
fake Slack Web API, which records them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.models import Owner, Record
from agent.store.rows import RoutingAssignmentRow
from bot.jobs import build_jobs
from tests.support.fake_slack import SlackCall
from tests.support.slack_stack import SlackStack, running_slack
from tests.support.waiting import eventually

ALWAYS = 'hours: "00:00-24:00", days: [mon, tue, wed, thu, fri, sat, sun]'
ROUTING = f"""
timezone: UTC
rules:
  - name: north-america
    when: {{field: country, in: [US, CA]}}
    then: {{pool: na}}
  - name: catch-all
    then: {{queue: triage}}
pools:
  na:
    members:
      - {{owner: OA, weight: 2, {ALWAYS}}}
      - {{owner: OB, weight: 1, {ALWAYS}}}
queues:
  triage: {{channel: "#lead-triage"}}
sla: {{remind_after: 30, escalate_after: 60, reassign_after: 120, escalation_channel: "#sales-managers"}}
"""
REP_A = "U0REPA"


def _write_routing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """The settings read ``REVGATE_ROUTING`` from the environment, as in production."""
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    monkeypatch.setenv("REVGATE_ROUTING", str(path))


@pytest.fixture
def slack(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackStack]:
    _write_routing(tmp_path, monkeypatch, ROUTING)
    with running_slack(sqlite_url, leads=("U0LEAD1",)) as stack:
        stack.crm.create_owner(Owner(id="OA", name="Ann Rep", email="ann@acme.io", slack_user_id=REP_A))
        stack.crm.create_owner(Owner(id="OB", name="Bob Rep", email="bob@acme.io"))
        yield stack


def _route(slack: SlackStack, text: str, name: str = "route") -> str:
    status, _ = slack.command("/route-lead", text, "U1", name=name)
    assert status == 200
    eventually(lambda: bool(slack.replies(name)), what="the answer")
    return html.unescape(slack.replies(name)[0])


def _posts_to(slack: SlackStack, channel: str) -> list[SlackCall]:
    return [c for c in slack.fake.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def _assignments(slack: SlackStack) -> list[RoutingAssignmentRow]:
    with slack.services.database.reading() as session:
        return list(session.scalars(select(RoutingAssignmentRow)))


def _owner_of(slack: SlackStack, lead: Record) -> str | None:
    current = slack.crm.get("lead", lead.id)
    assert current is not None
    return current.owner_id


def test_an_unowned_lead_is_assigned_from_the_pool_and_its_owner_gets_a_dm(slack: SlackStack) -> None:
    lead = slack.lead(email="new@acme.io", country="US")

    reply = _route(slack, "New@Acme.io")

    assert "Rule north-america: Ann Rep from pool na." in reply
    assert "Assigned to Ann Rep. SLA: work it by 2026-11-24 09:30 UTC." in reply
    assert _owner_of(slack, lead) == "OA"
    (dm,) = _posts_to(slack, REP_A)
    text = html.unescape(str(dm.params["text"]))
    assert "A new lead for you" in text
    assert lead.id in text
    assert "Routed by rule `north-america`" in text
    assert "Please work it by <!date^" in text
    assert "|Tue 24 Nov 09:30 UTC>" in text
    ((row_status, row_owner),) = [(row.status, row.owner_id) for row in _assignments(slack)]
    assert (row_status, row_owner) == ("open", "OA")


def test_explain_shows_the_values_the_rule_path_and_the_pool_state(slack: SlackStack) -> None:
    slack.lead(email="new@acme.io", country="Canada")

    reply = _route(slack, "new@acme.io explain")

    assert "Normalised: email=new@acme.io, email_domain=acme.io" in reply
    assert "country=CA" in reply
    assert "Account candidates: none." in reply
    assert "Rule path: north-america: matched (country in [US, CA]: 'CA')" in reply
    assert "Pool na credits before the pick: OA 0, OB 0" in reply
    assert "Previous owner: none; chosen: Ann Rep." in reply


def test_a_lead_with_an_owner_gets_an_approval_card_not_a_silent_change(slack: SlackStack) -> None:
    slack.owner("O1")
    lead = slack.lead(owner_id="O1", country="US")

    reply = _route(slack, lead.id)

    assert "This changes the owner from Owner O1: a person approves it." in reply
    assert "Needs approval (requires_approval: change_owner)" in reply
    assert "from Owner O1 to Ann Rep" in reply
    assert _owner_of(slack, lead) == "O1"
    (approval,) = slack.approvals.recent(["pending"])
    assert approval.action.kind == "change_owner"
    assert approval.id in reply
    eventually(lambda: slack.approvals.get(approval.id).slack_ts is not None, what="the card")
    assert [row.status for row in _assignments(slack)] == ["pending"]
    assert _posts_to(slack, REP_A) == []  # nobody is told a lead is theirs before it is


def test_a_lead_no_rule_places_waits_in_the_queue_and_its_channel_hears_of_it(slack: SlackStack) -> None:
    lead = slack.lead(email="hans@beispiel.de", country="DE")

    reply = _route(slack, lead.id)

    assert "Left in queue triage, unowned" in reply
    assert _owner_of(slack, lead) is None
    (alert,) = _posts_to(slack, "#lead-triage")
    assert f"New lead in queue triage: Lead {lead.id}" in html.unescape(str(alert.params["text"]))


def test_a_queue_without_a_channel_is_announced_in_the_approvals_channel(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_routing(tmp_path, monkeypatch, ROUTING.replace('triage: {channel: "#lead-triage"}', "triage: {}"))
    with running_slack(sqlite_url) as slack:
        lead = slack.lead(country="DE")

        _route(slack, lead.id)

        (alert,) = _posts_to(slack, "#revops-approvals")
        assert f"New lead in queue triage: Lead {lead.id}" in html.unescape(str(alert.params["text"]))


def test_an_owner_without_a_slack_id_is_assigned_without_a_dm(slack: SlackStack) -> None:
    first = slack.lead(email="one@acme.io", country="US")
    second = slack.lead(email="two@acme.io", country="US")
    _route(slack, first.id, name="first")  # OA, by weight

    reply = _route(slack, second.id, name="second")

    assert "Assigned to Bob Rep." in reply
    assert _owner_of(slack, second) == "OB"
    assert len(_posts_to(slack, REP_A)) == 1
    assert [c.params.get("channel") for c in slack.fake.calls_to("chat.postMessage")] == [REP_A]


def test_a_failed_dm_does_not_undo_the_assignment(slack: SlackStack) -> None:
    slack.fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
    lead = slack.lead(email="new@acme.io", country="US")

    reply = _route(slack, lead.id)

    assert "Assigned to Ann Rep." in reply
    assert _owner_of(slack, lead) == "OA"
    assert len(_posts_to(slack, REP_A)) == 1  # tried once, failed, logged


def test_an_unknown_lead_is_named_in_the_answer(slack: SlackStack) -> None:
    reply = _route(slack, "ghost@acme.io")

    assert "no lead with id or email 'ghost@acme.io'" in reply
    assert _assignments(slack) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "give one lead id or email address"),
        ("a@acme.io b@acme.io", "unexpected 'b@acme.io'"),
        ("a@acme.io explain please", "unexpected 'explain please'"),
    ],
)
def test_a_malformed_route_lead_gets_usage_in_the_ack_and_routes_nothing(
    slack: SlackStack, text: str, problem: str
) -> None:
    slack.lead(email="a@acme.io", country="US")

    status, payload = slack.command("/route-lead", text, "U1", name="bad")

    raw = payload.decode()
    ack = html.unescape(str(json.loads(raw).get("text", "")) if raw.startswith("{") else raw)
    assert status == 200
    assert problem in ack
    assert "/route-lead <email or lead id> [explain]" in ack
    assert slack.replies("bad") == []
    assert _assignments(slack) == []


def test_an_email_slack_sent_as_a_mailto_link_is_routed(slack: SlackStack) -> None:
    lead = slack.lead(email="new@acme.io", country="US")

    reply = _route(slack, "<mailto:new@acme.io|new@acme.io> explain")

    assert f"Lead {lead.id}" in reply
    assert _owner_of(slack, lead) == "OA"


def test_the_tick_reminds_the_owner_of_a_lead_not_worked_in_time(slack: SlackStack) -> None:
    lead = slack.lead(email="new@acme.io", country="US")
    _route(slack, lead.id)
    tick = next(job for job in build_jobs(slack.runtime) if job.name == "tick")
    slack.clock.advance(minutes=31)

    tick.run("2026-11-24T09:31:00Z")

    dms = _posts_to(slack, REP_A)
    assert len(dms) == 2
    text = html.unescape(str(dms[1].params["text"]))
    assert "Reminder: a lead routed to you is still waiting" in text
    assert lead.id in text
    assert "|Tue 24 Nov 10:00 UTC> (or it is escalated)" in text
    assert [row.stage for row in _assignments(slack)] == [1]


def test_a_broken_routing_file_gets_an_answer_naming_the_line(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = ROUTING.replace("then: {queue: triage}", "then: {queue: triage, colour: red}")
    _write_routing(tmp_path, monkeypatch, broken)
    with running_slack(sqlite_url) as slack:
        lead = slack.lead(country="US")

        reply = _route(slack, lead.id)

        assert "The routing file" in reply
        assert "has errors, so no lead can be routed" in reply
        assert "line 8: error: unknown key 'colour' in rules.1.then" in reply
        assert "revgate routing check" in reply
        assert _owner_of(slack, lead) is None
