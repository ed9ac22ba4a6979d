"""Slash commands, App Home and modals over the real endpoint, and every payload the bot sent."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import ids
from bot.blocks import check_message, check_view
from tests.support.slack_requests import event_body, signed_post
from tests.support.slack_stack import SECRET, SlackStack, running_slack
from tests.support.stack import APPROVER, merge_action
from tests.support.waiting import eventually


@pytest.fixture
def slack(sqlite_url: str) -> Iterator[SlackStack]:
    with running_slack(sqlite_url, leads=("U0LEAD1",)) as stack:
        yield stack


def _ack_text(payload: bytes) -> str:
    """What the ack showed the user (bolt sends plain text, or JSON with blocks)."""
    raw = payload.decode()
    if raw.startswith("{"):
        raw = str(json.loads(raw).get("text", ""))
    return html.unescape(raw)


def test_route_lead_without_an_argument_gets_usage_in_the_ack(slack: SlackStack) -> None:
    status, payload = slack.command("/route-lead", "", "U1")

    assert status == 200
    assert "/route-lead <email or lead id>" in _ack_text(payload)


# Routing itself (pools, explain, approval cards, the assignee's DM): test_slack_routing.py.


def test_hygiene_with_a_bad_option_gets_usage(slack: SlackStack) -> None:
    _, payload = slack.command("/hygiene", "now please", "U1")

    assert "/hygiene [run|status]" in _ack_text(payload)


def test_hygiene_run_then_status(slack: SlackStack) -> None:
    from agent.crm.seed import seed_crm

    seed_crm(slack.crm, records=60, seed=3, now=slack.clock.now())

    _, ack = slack.command("/hygiene", "run", "U1", name="run")
    eventually(lambda: bool(slack.replies("run")), timeout=20, what="the run")
    slack.command("/hygiene", "status", "U1", name="status")
    eventually(lambda: bool(slack.replies("status")), what="the status")

    assert "Starting a hygiene run" in _ack_text(ack)
    assert "executed" in slack.replies("run")[0]
    assert "hygiene (slack:U1) completed" in slack.replies("status")[0]


def test_approvals_lists_what_waits_for_the_caller(slack: SlackStack) -> None:
    survivor = slack.lead(email="dup@acme.io")
    other = slack.lead(email="DUP@acme.io")
    approval_id = slack.queue(merge_action(survivor, other))

    slack.command("/approvals", "", APPROVER, name="mine")
    slack.command("/approvals", "", "U0INTERN", name="theirs")
    eventually(lambda: bool(slack.replies("mine")) and bool(slack.replies("theirs")), what="the answers")

    assert approval_id in slack.replies("mine")[0]
    assert "Nothing is waiting" in slack.replies("theirs")[0]


def test_revgate_help(slack: SlackStack) -> None:
    _, payload = slack.command("/revgate", "help", "U1")

    assert "/route-lead" in _ack_text(payload)


def test_app_home_shows_the_viewers_pending_approvals(slack: SlackStack) -> None:
    survivor = slack.lead(email="dup@acme.io")
    other = slack.lead(email="DUP@acme.io")
    approval_id = slack.queue(merge_action(survivor, other))
    body = event_body({"type": "app_home_opened", "user": APPROVER, "channel": "D1", "tab": "home"})

    status, _, _ = signed_post(
        f"{slack.url}/slack/events", secret=SECRET, body=body, content_type="application/json"
    )
    published = slack.fake.wait_for("views.publish")

    assert status == 200
    assert published[0].params["user_id"] == APPROVER
    assert approval_id in json.dumps(published[0].params["view"])


def test_details_and_edit_open_modals(slack: SlackStack) -> None:
    survivor = slack.lead(email="dup@acme.io")
    other = slack.lead(email="DUP@acme.io", phone="+14155550134")
    approval_id = slack.queue(merge_action(survivor, other))
    eventually(lambda: slack.approvals.get(approval_id).slack_ts is not None, what="the card")

    slack.click(ids.ACTION_DETAILS, approval_id, APPROVER)
    slack.click(ids.ACTION_EDIT, approval_id, APPROVER)
    opened = slack.fake.wait_for("views.open", 2)

    assert {call.params["view"]["callback_id"] for call in opened} == {ids.VIEW_DETAILS, ids.VIEW_EDIT}


def test_every_payload_the_bot_sent_is_valid_block_kit(slack: SlackStack) -> None:
    """Drive the main flows, then check every message and view the fake Slack received."""
    survivor = slack.lead(email="dup@acme.io")
    other = slack.lead(email="DUP@acme.io", phone="+14155550134")
    approval_id = slack.queue(merge_action(survivor, other))
    eventually(lambda: slack.approvals.get(approval_id).slack_ts is not None, what="the card")
    for action_id in (ids.ACTION_DETAILS, ids.ACTION_EDIT, ids.ACTION_REJECT, ids.ACTION_APPROVE):
        slack.click(action_id, approval_id, APPROVER)
    eventually(lambda: slack.approvals.get(approval_id).status == "executed", what="execution")
    eventually(lambda: slack.approvals.cards_to_sync() == [], what="the card update")
    home = event_body({"type": "app_home_opened", "user": APPROVER, "channel": "D1", "tab": "home"})
    signed_post(f"{slack.url}/slack/events", secret=SECRET, body=home, content_type="application/json")
    slack.fake.wait_for("views.publish")

    problems: list[str] = []
    checked = 0
    for call in slack.fake.calls:
        if call.params.get("blocks"):
            blocks = _blocks(call.params["blocks"])
            problems += [
                f"{call.method}: {p}" for p in check_message(blocks, str(call.params.get("text", "")))
            ]
            checked += 1
        if call.params.get("view"):
            view = View(**call.params["view"])
            view.validate_json()
            problems += [f"{call.method}: {p}" for p in check_view(view)]
            checked += 1

    assert problems == []
    assert checked >= 6  # card posted and updated, three modals, the Home tab


def _blocks(raw: Any) -> list[Block]:
    blocks = [Block.parse(b) for b in raw]
    for block in blocks:
        assert block is not None
        block.validate_json()
    return [b for b in blocks if b is not None]
