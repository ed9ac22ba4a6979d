"""Reminder and escalation messages: what they say and where they go."""

from __future__ import annotations

from datetime import timedelta

from agent.models import Approval
from agent.policy import Policy
from agent.policy_file import load_policy
from agent.policy_rules import ExpiryRule
from bot.nudges import nudge_for
from tests.bot.blocks import approval, merge_of_three
from tests.support.fakes import T0
from tests.support.stack import DEFAULT_POLICY

POLICY = load_policy(DEFAULT_POLICY)


def _approval(**fields: object) -> Approval:
    """A pending merge request (gated by ``merge``) with ``fields`` changed."""
    merge = approval(merge_of_three())
    gated = merge.verdict.model_copy(update={"gates": ("merge",)})
    return merge.model_copy(update={"verdict": gated, "approvals": (), **fields})


def _escalating_to(target: str) -> Policy:
    rule = ExpiryRule(after=timedelta(hours=72), escalate_after=timedelta(hours=48), escalate_to=target)
    return POLICY.model_copy(update={"expiry": {**POLICY.expiry, "merge": rule}})


def test_no_nudge_when_the_thread_shows_every_one_already() -> None:
    assert nudge_for(_approval(), POLICY) is None
    assert nudge_for(_approval(reminders_sent=1, slack_nudges=1), POLICY) is None


def test_a_reminder_names_the_approvers_who_have_not_approved_yet() -> None:
    nudge = nudge_for(_approval(reminders_sent=1, approvals=("U0APPROVER1",)), POLICY)
    assert nudge is not None
    assert nudge.channel is None
    assert nudge.broadcast is False
    assert "<@U0APPROVER>" in nudge.text
    assert "<@U0APPROVER1>" not in nudge.text


def test_a_reminder_for_a_request_decided_meanwhile_is_dropped() -> None:
    assert nudge_for(_approval(status="rejected", reminders_sent=1), POLICY) is None


def test_an_escalation_without_a_target_is_broadcast_from_the_thread() -> None:
    nudge = nudge_for(_approval(reminders_sent=1, slack_nudges=1, escalated_at=T0), POLICY)
    assert nudge is not None
    assert nudge.broadcast is True
    assert nudge.channel is None
    assert nudge.text.startswith(":rotating_light: Escalated")


def test_an_escalation_to_a_user_group_mentions_it() -> None:
    nudge = nudge_for(_approval(escalated_at=T0), _escalating_to("S0LEADS"))
    assert nudge is not None
    assert nudge.text.startswith("<!subteam^S0LEADS>")
    assert nudge.broadcast is True


def test_an_escalation_to_a_channel_is_posted_there() -> None:
    nudge = nudge_for(_approval(escalated_at=T0), _escalating_to("#revops-leads"))
    assert nudge is not None
    assert nudge.channel == "#revops-leads"


def test_an_expired_escalated_request_says_it_expired() -> None:
    nudge = nudge_for(_approval(status="expired", escalated_at=T0), POLICY)
    assert nudge is not None
    assert "expired without a decision" in nudge.text
