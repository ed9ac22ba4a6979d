"""The App Home tab: what waits for a decision, today's numbers, and recent runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from agent.describe import describe
from agent.models import Approval
from bot import ids
from bot.blocks.approval import votes_text
from bot.blocks.card import CardContext, button, mrkdwn, text_sections
from bot.blocks.limits import FIELD_TEXT_MAX, SECTION_FIELDS_MAX, SECTION_TEXT_MAX
from bot.blocks.text import ELLIPSIS, escape, one_line, slack_date, truncate, who

PENDING_MAX = 50
"""Pending requests listed, whatever ``max_items`` says (a view holds 100 blocks)."""


@dataclass(frozen=True)
class RunSummary:
    """One run of a job, as the Home tab lists it."""

    id: str
    job: str
    """``hygiene``, ``enrichment``, ``route-lead``, …"""
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    """Disposition -> number of proposals (``executed``, ``queued``, ``refused``, …)."""


def build_home(
    viewer: str,
    pending: Sequence[Approval],
    today: Mapping[str, int],
    runs: Sequence[RunSummary],
    ctx: CardContext,
) -> View:
    """The Home tab for ``viewer`` (a Slack user id).

    Args:
        viewer: Who is looking; greeted by mention.
        pending: Requests waiting for a decision, most urgent first.
        today: Counts for today by outcome, e.g. ``{"executed": 12, "rejected": 1}``.
        runs: Recent runs, newest first.
        ctx: Owners, the clock and ``max_items`` (rows per list).
    """
    intro = f"Hi {who(viewer)}. {_count(len(pending), 'request')} waiting for a decision."
    blocks: list[Block] = [
        HeaderBlock(block_id="home_header", text=PlainTextObject(text="revgate")),
        SectionBlock(
            block_id="home_intro",
            text=mrkdwn(intro),
            accessory=ButtonElement(text=PlainTextObject(text="Refresh"), action_id=ids.HOME_REFRESH),
        ),
        _today(today),
        DividerBlock(block_id="home_divider_pending"),
        SectionBlock(block_id="home_pending", text=mrkdwn(f"*Waiting for a decision* ({len(pending)})")),
    ]
    limit = min(ctx.max_items, PENDING_MAX)
    blocks.extend(_pending_row(n, approval, ctx) for n, approval in enumerate(pending[:limit]))
    if len(pending) > limit:
        more = f"{ELLIPSIS} and {len(pending) - limit} more: `/approvals` lists them all."
        blocks.append(ContextBlock(block_id="home_pending_more", elements=[mrkdwn(more)]))
    blocks.append(DividerBlock(block_id="home_divider_runs"))
    lines = ["*Recent runs*", *(_run_line(run) for run in runs[: ctx.max_items])]
    if not runs:
        lines.append("No runs yet. `/hygiene run` starts one.")
    blocks.extend(text_sections("home_runs", lines, max_blocks=3, more="not shown"))
    return View(type="home", blocks=blocks)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _today(today: Mapping[str, int]) -> SectionBlock:
    if not today:
        return SectionBlock(block_id="home_today", text=mrkdwn("*Today:* nothing yet."))
    items = list(today.items())
    shown = items if len(items) <= SECTION_FIELDS_MAX else items[: SECTION_FIELDS_MAX - 1]
    fields = [mrkdwn(truncate(f"*{escape(name)}*\n{count}", FIELD_TEXT_MAX)) for name, count in shown]
    if len(shown) < len(items):
        rest = sum(count for _, count in items[len(shown) :])
        fields.append(mrkdwn(f"*other*\n{rest}"))
    return SectionBlock(block_id="home_today", text=mrkdwn("*Today*"), fields=fields)


def _pending_row(n: int, approval: Approval, ctx: CardContext) -> SectionBlock:
    what = f"*{escape(one_line(describe(approval.action, ctx.owners)))}*"
    details = [approval.action.kind, f"requested by {who(approval.requested_by)}"]
    details.append(f"expires {slack_date(approval.expires_at)}")
    votes = votes_text(approval, ctx)
    if votes:
        details.append(votes)
    text = truncate(f"{what}\n{' · '.join(details)}", SECTION_TEXT_MAX)
    return SectionBlock(
        block_id=f"home_pending_{n}",
        text=mrkdwn(text),
        accessory=button("Details", ids.ACTION_DETAILS, approval),
    )


def _run_line(run: RunSummary) -> str:
    parts = [f"• `{escape(run.id)}` {escape(run.job)} — *{escape(run.status)}*"]
    parts.append(f"started {slack_date(run.started_at)}")
    if run.finished_at is not None:
        parts.append(f"took {_duration((run.finished_at - run.started_at).total_seconds())}")
    parts.extend(f"{escape(name)} {count}" for name, count in run.counts.items() if count)
    return " · ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
