"""The daily hygiene summary as a Slack message: readable in 30 seconds, top to bottom.

Order is what a RevOps lead needs first: the data-quality score and its change,
the per-check table, what needs a person (requests waiting, changes the policy
refused, failures), then whose records and which sources are dirtiest, policy
suggestions, and what the model cost. Lists are cut at ``max_items`` with
"and N more"; every text is escaped and kept inside Block Kit's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from agent.summary import CheckLine, DailySummary, PendingItem, RefusedItem, Tally
from bot.blocks.card import Message, mrkdwn, text_sections
from bot.blocks.limits import FIELD_TEXT_MAX, HEADER_TEXT_MAX, SECTION_TEXT_MAX
from bot.blocks.text import ELLIPSIS, escape, one_line, slack_date, truncate

SCORE_GOOD = 90.0
SCORE_FAIR = 75.0
_COLUMNS = ("found", "Δ", "fixed", "waiting", "approved", "rejected", "expired")
_LABEL_MAX = 24
LINE_MAX = 400
"""Longest list line (a pending request, a refusal): seven of them fit one section."""
DESCRIPTION_MAX = 200
"""Of which the description of the change."""


def build_summary_message(summary: DailySummary, *, max_items: int = 5) -> Message:
    """The summary's blocks and its notification text (pure; no I/O)."""
    blocks: list[Block] = [
        HeaderBlock(
            block_id="summary_header",
            text=PlainTextObject(
                text=truncate(
                    f"Data hygiene · {summary.day:%A} {_day(summary.day, long=True)}", HEADER_TEXT_MAX
                )
            ),
        ),
        SectionBlock(block_id="summary_score", text=mrkdwn(score_text(summary))),
        ContextBlock(block_id="summary_window", elements=[mrkdwn(_window_text(summary))]),
        DividerBlock(block_id="summary_divider_checks"),
        SectionBlock(block_id="summary_checks", text=mrkdwn(checks_text(summary.checks))),
        DividerBlock(block_id="summary_divider_attention"),
        *text_sections("summary_pending", pending_lines(summary, max_items), max_blocks=1, more=""),
        *text_sections("summary_refused", refused_lines(summary.refused, max_items), max_blocks=1, more=""),
    ]
    failed = summary.total("failed")
    if failed:
        line = (
            f":warning: *{failed} record(s) in changes that failed*: "
            "`revgate approvals list --status failed` shows them"
        )
        blocks.append(SectionBlock(block_id="summary_failed", text=mrkdwn(line)))
    blocks.append(DividerBlock(block_id="summary_divider_data"))
    blocks.append(
        SectionBlock(
            block_id="summary_dirt",
            text=mrkdwn("*Where the open issues are*"),
            fields=[
                mrkdwn(truncate(_tally_text("By owner", summary.owners, "no owned record"), FIELD_TEXT_MAX)),
                mrkdwn(truncate(_tally_text("By lead source", summary.sources, "no lead"), FIELD_TEXT_MAX)),
            ],
        )
    )
    blocks.extend(
        text_sections("summary_suggestions", suggestion_lines(summary, max_items), max_blocks=1, more="")
    )
    blocks.append(ContextBlock(block_id="summary_usage", elements=[mrkdwn(usage_text(summary))]))
    return Message(text=fallback_text(summary), blocks=blocks)


def score_text(summary: DailySummary) -> str:
    quality = summary.quality
    if quality is None:
        return f"*Data quality:* not measured on {_day(summary.day)} (only today and yesterday can be)."
    dot = (
        ":large_green_circle:"
        if quality.score >= SCORE_GOOD
        else ":large_yellow_circle:"
        if quality.score >= SCORE_FAIR
        else ":red_circle:"
    )
    clean = quality.records - quality.issues
    return (
        f"{dot} *Data quality {quality.score:.1f} / 100*  {_score_change(summary.score_change)}\n"
        f"{clean:,} of {quality.records:,} records have no open issue; {quality.issues:,} need work."
    )


def _score_change(change: float | None) -> str:
    if change is None:
        return "(no score yesterday to compare with)"
    if change > 0:
        return f":arrow_up: +{change:.1f} since yesterday"
    if change < 0:
        return f":arrow_down: {change:.1f} since yesterday"
    return "unchanged since yesterday"


def _window_text(summary: DailySummary) -> str:
    runs = summary.runs
    jobs = ", ".join(f"{escape(job)} {n}" for job, n in runs.by_job.items())
    ran = f"{runs.total} run{'' if runs.total == 1 else 's'}" + (f" ({jobs})" if jobs else "")
    if runs.failed:
        ran += f", {runs.failed} failed"
    return (
        f"{_day(summary.day)}, midnight to midnight {escape(summary.timezone)} · "
        f"policy *{escape(summary.policy)}* · {ran} · the 30-day trend is in the thread"
    )


def checks_text(lines: Sequence[CheckLine]) -> str:
    """The per-check table (records) as a monospace block, cut to fit one section."""
    title = "*By check* (records; Δ: found, against yesterday)"
    if not lines:
        return f"{title}\nNo check ran that day."
    rows = [["check", *_COLUMNS]]
    for line in lines:
        counts = line.today
        rows.append(
            [
                one_line(line.label).replace("`", "'")[:_LABEL_MAX],
                str(counts.found),
                _delta(line.found_change),
                str(counts.auto_fixed),
                str(counts.pending),
                str(counts.approved),
                str(counts.rejected),
                str(counts.expired),
            ]
        )
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    # Padded before escaping: Slack shows "&lt;" as one character, so the columns stay aligned.
    rendered = [
        escape(
            "  ".join(
                cell.ljust(widths[0]) if n == 0 else cell.rjust(widths[n]) for n, cell in enumerate(row)
            )
        )
        for row in rows
    ]
    kept = rendered
    more = ""
    while len(f"{title}\n```\n" + "\n".join(kept) + f"\n```{more}") > SECTION_TEXT_MAX:
        kept = kept[:-1]
        more = f"\n{ELLIPSIS} and {len(rendered) - len(kept)} more checks"
    return f"{title}\n```\n" + "\n".join(kept) + f"\n```{more}"


def _day(day: date, *, long: bool = False) -> str:
    # Built by hand: "%-d" (no leading zero) is not portable.
    return f"{day.day} {day:%B %Y}" if long else f"{day.day} {day:%b %Y}"


def _delta(change: int | None) -> str:
    if change is None:
        return ""
    return f"{change:+d}" if change else "="


def _plain(text: str) -> str:
    # Inside a code block: no markup, but Slack still decodes &, < and >.
    return escape(one_line(text).replace("`", "'"))


def pending_lines(summary: DailySummary, max_items: int) -> list[str]:
    pending = summary.pending
    if not pending:
        return ["*Waiting for a decision:* nothing. :tada:"]
    records = sum(item.records for item in pending)
    soon = sum(1 for item in pending if item.expires_at <= summary.generated_at + timedelta(days=1))
    head = (
        f":hourglass_flowing_sand: *{len(pending)} request{'' if len(pending) == 1 else 's'} "
        f"waiting for a decision* ({records:,} records)"
    )
    if soon:
        head += f"; {soon} expire within a day"
    lines = [head, *(_pending_line(item) for item in pending[:max_items])]
    if len(pending) > max_items:
        lines.append(f"{ELLIPSIS} and {len(pending) - max_items} more: `/approvals` lists them all.")
    return lines


def _pending_line(item: PendingItem) -> str:
    what = truncate(escape(one_line(item.description)), DESCRIPTION_MAX)
    return f"• {what} _expires {slack_date(item.expires_at)}_"


def refused_lines(refused: Sequence[RefusedItem], max_items: int) -> list[str]:
    if not refused:
        return ["*Refused by policy:* nothing."]
    lines = [
        f":no_entry: *Refused by policy: {len(refused)} change{'' if len(refused) == 1 else 's'} "
        "for a person to make by hand, if right*"
    ]
    for item in refused[:max_items]:
        what = truncate(escape(one_line(item.description)), DESCRIPTION_MAX)
        why = truncate(f"`{_plain(item.rule)}`: {escape(one_line(item.reason))}", LINE_MAX - DESCRIPTION_MAX)
        lines.append(f"• {what} {why}")
    if len(refused) > max_items:
        lines.append(f"{ELLIPSIS} and {len(refused) - max_items} more.")
    return lines


def _tally_text(title: str, tallies: Sequence[Tally], none: str) -> str:
    if not tallies:
        return f"*{title}*\n{none} with an open issue"
    rows = [f"{n}. {escape(one_line(t.name))}: {t.records:,}" for n, t in enumerate(tallies, 1)]
    return f"*{title}*\n" + "\n".join(rows)


def suggestion_lines(summary: DailySummary, max_items: int) -> list[str]:
    suggestions = summary.suggestions
    if not suggestions:
        return ["*Policy suggestions:* none; approval history shows no clear pattern yet."]
    lines = ["*Policy suggestions* (from approval history; the policy file is yours to change)"]
    lines.extend(f"• {escape(one_line(s.text))}" for s in suggestions[:max_items])
    if len(suggestions) > max_items:
        lines.append(f"{ELLIPSIS} and {len(suggestions) - max_items} more.")
    return lines


def usage_text(summary: DailySummary) -> str:
    usage = summary.usage
    if usage.runs == 0:
        return "Model: not used (the offline rules decided everything)."
    models = ", ".join(escape(m) for m in usage.models) or "no model"
    text = (
        f"Model: {models}, {usage.calls:,} call{'' if usage.calls == 1 else 's'} in {usage.runs} "
        f"run{'' if usage.runs == 1 else 's'}; tokens {usage.input_tokens:,} in "
        f"(+{usage.cache_read_input_tokens:,} cached, {usage.cache_creation_input_tokens:,} cache writes), "
        f"{usage.output_tokens:,} out; about ${usage.cost_usd:.2f}"
    )
    if usage.failed_calls:
        text += f"; {usage.failed_calls} failed call(s)"
    if usage.fallbacks:
        text += f"; fell back to the rules: {escape(one_line('; '.join(usage.fallbacks)))}"
    return truncate(text, SECTION_TEXT_MAX)


def fallback_text(summary: DailySummary) -> str:
    """One line for notifications: the score, then what happened and what waits."""
    quality = summary.quality
    score = "quality not measured" if quality is None else f"quality {quality.score:.1f}/100"
    if quality is not None and summary.score_change is not None:
        score += f" ({summary.score_change:+.1f})"
    return (
        f"Data hygiene {_day(summary.day)}: {score}; {summary.total('found'):,} records found, "
        f"{summary.total('auto_fixed'):,} fixed automatically, {len(summary.pending)} request(s) waiting "
        f"for a decision, {len(summary.refused)} change(s) refused by policy."
    )
