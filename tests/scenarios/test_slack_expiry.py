"""Undecided requests in Slack: reminders in the card's thread, an escalation, then expiry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.slack_stack import SlackStack, running_slack
from tests.support.stack import merge_action
from tests.support.waiting import eventually


@pytest.fixture
def slack(database_url: str) -> Iterator[SlackStack]:
    with running_slack(database_url) as stack:
        yield stack


def _thread(slack: SlackStack) -> list[dict[str, Any]]:
    return [c.params for c in slack.fake.calls_to("chat.postMessage") if c.params.get("thread_ts")]


def _synced(slack: SlackStack) -> None:
    eventually(lambda: slack.approvals.cards_to_sync() == [], what="the card sync")


def test_an_undecided_merge_is_reminded_escalated_and_expired_on_its_card(slack: SlackStack) -> None:
    approval_id = slack.queue(merge_action(slack.lead(email="a@acme.io"), slack.lead(email="A@acme.io")))
    _synced(slack)
    ticker = slack.services.expiry_ticker()

    slack.later(hours=24)
    assert ticker.tick().reminded == [approval_id]
    _synced(slack)
    (reminder,) = _thread(slack)
    assert reminder["text"].startswith(":bell: Reminder")
    assert "<@U0APPROVER>" in reminder["text"]
    assert "<!subteam^S0REVOPSLEADS>" in reminder["text"]
    assert reminder.get("reply_broadcast") in (None, False, "false", "0")
    card = slack.fake.messages("#revops-approvals")[slack.approvals.get(approval_id).slack_ts or ""]
    assert "Reminded 1x" in str(card["blocks"])

    slack.later(hours=24)
    assert ticker.tick().escalated == [approval_id]
    _synced(slack)
    escalation = _thread(slack)[-1]
    assert escalation["text"].startswith(":rotating_light: Escalated")
    assert escalation.get("reply_broadcast") in (True, "true", "1", "True")

    slack.later(hours=24)
    assert ticker.tick().expired == [approval_id]
    _synced(slack)
    texts = [params["text"] for params in _thread(slack)]
    assert len(texts) == 3  # the expiry says so once; no second escalation or reminder
    assert texts[-1].startswith(":hourglass: Expired")


def test_a_nudge_lost_to_a_slack_outage_is_posted_on_the_next_pass(slack: SlackStack) -> None:
    approval_id = slack.queue(merge_action(slack.lead(email="b@acme.io"), slack.lead(email="B@acme.io")))
    _synced(slack)
    slack.fake.fail_next("chat.update", error="internal_error", status=200, times=2)
    slack.later(hours=24)
    slack.services.expiry_ticker().tick()
    eventually(lambda: slack.approvals.cards_to_sync() == [], timeout=20, what="the retry")
    assert [p["text"][:16] for p in _thread(slack)] == [":bell: Reminder:"]
    assert slack.approvals.get(approval_id).slack_nudges == 1
