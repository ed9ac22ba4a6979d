"""Short ephemeral replies: a clicked button that no longer applies, a bad command, help.

Plain mrkdwn strings (``chat.postEphemeral`` / ``respond(text=...)``), one line
where possible, always saying what happened and what, if anything, to do next.
"""

from __future__ import annotations

from bot.blocks.text import escape, who

_ALREADY = {
    "approved": "Already approved{by}; it is being executed.",
    "executing": "Already approved{by}; it is being executed.",
    "executed": "Already executed{approved_by}.",
    "rejected": "Already rejected{by}.",
    "failed": "Already approved{by}, but it failed to execute; see Details.",
    "undone": "Already executed and undone.",
    "superseded": "This request was superseded: the record changed since it was proposed.",
    "expired": "This request expired before anyone decided; nothing was changed.",
    "pending": "This request is still waiting for a decision.",
}


def already_decided(status: str, by: str | None) -> str:
    """The reply to a click on a request someone else has already moved on.

    >>> already_decided("approved", "U123")
    'Already approved by <@U123>; it is being executed.'
    """
    template = _ALREADY.get(status, "This request is {status}; there is nothing left to decide.")
    return template.format(
        by=f" by {who(by)}" if by else "",
        approved_by=f" (approved by {who(by)})" if by else "",
        status=escape(status),
    )


def not_an_approver(reason: str) -> str:
    """The reply when the clicker may not decide this request (``reason`` says why)."""
    return f":no_entry: You can't decide this request: {escape(reason.strip().rstrip('.'))}."


def usage_error(command: str, problem: str, usage: str) -> str:
    """A malformed slash command: what was wrong and the correct form. Nothing was changed."""
    return f"`{escape(command)}`: {escape(problem.strip().rstrip('.'))}. Usage: `{escape(usage)}`"


def help_text() -> str:
    """What revgate's slash commands do."""
    return "\n".join(
        [
            "*revgate* keeps the CRM clean; risky changes come here for approval.",
            "• `/route-lead <email or lead id> [explain]`: route a lead by the routing rules "
            "(`explain`: everything behind the decision)",
            "• `/book-meeting <lead id or email>`: book a meeting with the lead's owner, in both "
            "parties' hours (the unusual ones go to approval)",
            "• `/hygiene run`: start a hygiene run now",
            "• `/hygiene status`: the last hygiene runs and what they did",
            "• `/approvals`: requests waiting for a decision",
            "• `/revgate help`: this message",
        ]
    )
