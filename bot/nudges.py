"""What a reminder or an escalation says, and where it goes (pure: the card sync posts it)."""

from __future__ import annotations

from dataclasses import dataclass

from agent.models import Approval
from agent.policy import Policy, approval_requirement, expiry_for
from agent.policy_rules import ExpiryRule
from bot.blocks.text import people, slack_date, who


@dataclass(frozen=True)
class Nudge:
    text: str
    channel: str | None = None
    """Post in this channel (with a link to the card); ``None``: in the card's thread."""
    broadcast: bool = False
    """Also show the thread reply in the channel."""


def nudge_for(approval: Approval, policy: Policy) -> Nudge | None:
    """The message the card's thread owes, or ``None`` when it shows every nudge already."""
    if approval.nudges <= approval.slack_nudges:
        return None
    if approval.escalated_at is not None:
        # Reminders stop at the escalation, so once escalated the newest nudge is the escalation.
        return _escalation(approval, expiry_for(policy, approval.action.kind))
    if approval.status != "pending":
        return None  # a reminder for a request already decided helps nobody
    missing = _approvers(approval, policy)
    expires = slack_date(approval.expires_at)
    text = f":bell: Reminder: this is still waiting for a decision. It expires {expires}."
    return Nudge(text=f"{text} {missing}" if missing else text)


def _escalation(approval: Approval, rule: ExpiryRule) -> Nudge:
    target = rule.escalate_to
    if approval.status == "expired":
        text = ":rotating_light: This request expired without a decision; a person should look at it."
    else:
        text = (
            f":rotating_light: Escalated: nobody has decided in time. "
            f"It expires {slack_date(approval.expires_at)}."
        )
    if target is None:
        return Nudge(text=text, broadcast=True)
    if target.startswith("S"):
        return Nudge(text=f"{who(target)} {text}", broadcast=True)
    return Nudge(text=text, channel=target)


def _approvers(approval: Approval, policy: Policy) -> str:
    """Who could still decide, as mentions (those who already approved are left out)."""
    requirement = approval_requirement(policy, approval.verdict.gates)
    named = dict.fromkeys(user for users in requirement.lists for user in users)
    waiting = [user for user in named if user not in approval.approvals and user != approval.requested_by]
    return people(waiting[:10])
