"""The daily summary message: a snapshot of its blocks from the seeded CRM, and its limits.

The snapshot (``snapshots/summary_seeded.json``) is the message built from the
seeded CRM after two realistic days (see ``tests/agent/test_summary.py``), with a
fixed clock and sequential ids, on SQLite and on PostgreSQL alike. When a change
to the summary is intended, regenerate it and review the diff::

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/bot/blocks/test_summary_blocks.py

(the variable is not ``REVGATE_``-prefixed: the suite clears those for every test).
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, SectionBlock

from agent.planner.suggestions import PolicySuggestion
from agent.summary import (
    CheckCounts,
    CheckLine,
    DailySummary,
    ModelUsage,
    PendingItem,
    Quality,
    RefusedItem,
    RunTally,
    Tally,
    TrendPoint,
)
from bot.blocks.summary import build_summary_message
from tests.agent.test_summary import DAY_TWO, seeded_two_days, summarise
from tests.bot.blocks import assert_valid_message, block, text_of
from tests.support.stack import Stack

SNAPSHOT = Path(__file__).parent / "snapshots" / "summary_seeded.json"
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_the_summary_of_the_seeded_crm_matches_its_snapshot(stack: Stack) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    seeded_two_days(stack, tz=berlin)

    message = build_summary_message(summarise(stack, DAY_TWO, berlin))

    payload = assert_valid_message(message)
    rendered = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert SNAPSHOT.exists(), "no snapshot yet: run with UPDATE_SNAPSHOTS=1 and review it"
    assert rendered == SNAPSHOT.read_text(encoding="utf-8")


def test_the_score_and_its_change_come_first() -> None:
    message = build_summary_message(summary())

    assert isinstance(message.blocks[0], HeaderBlock)
    assert message.blocks[0].text.text == "Data hygiene · Tuesday 24 November 2026"
    assert message.blocks[1].block_id == "summary_score"
    score = text_of(message.blocks, "summary_score")
    assert score.startswith(
        ":large_yellow_circle: *Data quality 87.5 / 100*  :arrow_up: +2.5 since yesterday"
    )
    assert "175 of 200 records have no open issue; 25 need work." in score
    assert message.text.startswith("Data hygiene 24 Nov 2026: quality 87.5/100 (+2.5); 40 records found")


def test_the_order_is_score_checks_people_data_suggestions_usage() -> None:
    ids = [b.block_id for b in build_summary_message(summary()).blocks]

    wanted = ["summary_score", "summary_checks", "summary_pending", "summary_refused", "summary_dirt"]
    wanted += ["summary_suggestions", "summary_usage"]
    assert [i for i in ids if i in wanted] == wanted


def test_the_check_table_lines_up_counts_and_the_change_since_yesterday() -> None:
    table = text_of(build_summary_message(summary()).blocks, "summary_checks")

    rows = table.split("```")[1].strip("\n").splitlines()
    assert rows[0].split() == ["check", "found", "Δ", "fixed", "waiting", "approved", "rejected", "expired"]
    assert rows[1].split() == ["format", "fixes", "30", "+5", "20", "10", "0", "0", "3"]
    assert rows[2].split() == ["duplicates", "10", "=", "0", "4", "2", "2", "0"]
    assert rows[3].split() == ["junk", "&lt;leads&gt;", "0", "0", "0", "0", "0", "0"], "no yesterday: no Δ"
    shown = [html.unescape(row) for row in rows]  # as Slack displays the code block
    assert len({len(row) for row in shown}) == 1, "a monospace table: every row as wide"


def test_long_lists_end_with_and_n_more_and_stay_within_block_kit_limits() -> None:
    many = summary(
        pending=tuple(pending(n, "Merge " + "very long name " * 60) for n in range(40)),
        refused=tuple(refused(n, "Delete lead " + "x" * 900) for n in range(40)),
        checks=tuple(line(f"check_{n}", f"check number {n} " * 5, found=n) for n in range(300)),
        suggestions=tuple(suggestion(n) for n in range(12)),
    )

    message = build_summary_message(many, max_items=5)

    assert_valid_message(message)
    blocks = message.blocks
    assert "… and 35 more: `/approvals` lists them all." in text_of(blocks, "summary_pending")
    assert "… and 35 more." in text_of(blocks, "summary_refused")
    assert "… and 7 more." in text_of(blocks, "summary_suggestions")
    checks = text_of(blocks, "summary_checks")
    assert checks.count("```") == 2, "the code block is closed even when rows are cut"
    assert checks.endswith("more checks")
    assert len(checks) <= 3000


def test_text_from_the_crm_cannot_ping_or_break_the_message() -> None:
    nasty = summary(
        pending=(pending(1, "Merge <!channel> & <@U0BOSS> *now*"),),
        owners=(Tally("O1", "<!here> Eve", 3),),
    )

    message = build_summary_message(nasty)

    assert_valid_message(message)
    rendered = json.dumps(message.to_dict())
    assert "<!channel>" not in rendered
    assert "<!here>" not in rendered
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in text_of(message.blocks, "summary_pending")


def test_a_day_without_a_score_or_activity_still_renders_and_says_so() -> None:
    empty = summary(
        quality=None, previous_score=None, checks=(), pending=(), refused=(), owners=(), sources=()
    )

    message = build_summary_message(empty)

    assert_valid_message(message)
    assert "not measured on 24 Nov 2026" in text_of(message.blocks, "summary_score")
    assert "No check ran that day." in text_of(message.blocks, "summary_checks")
    assert "nothing. :tada:" in text_of(message.blocks, "summary_pending")
    assert message.text.startswith("Data hygiene 24 Nov 2026: quality not measured; 0 records found")


def test_model_usage_and_failures_are_reported() -> None:
    usage = ModelUsage(
        runs=2,
        calls=14,
        input_tokens=12_345,
        output_tokens=2_345,
        cache_read_input_tokens=40_000,
        cost_usd=0.1234,
        models=("claude-sonnet-5-5",),
        fallbacks=("budget exhausted: calls",),
    )
    failing = replace(line("normalize_fields", "format fixes", found=3), today=CheckCounts(found=3, failed=2))

    message = build_summary_message(summary(usage=usage, checks=(failing,)))

    assert_valid_message(message)
    context = block(message.blocks, "summary_usage")
    assert isinstance(context, ContextBlock)
    text = str(context.elements[0].text)  # type: ignore[union-attr]
    assert "Model: claude-sonnet-5-5, 14 calls in 2 runs; tokens 12,345 in (+40,000 cached" in text
    assert "about $0.12; fell back to the rules: budget exhausted: calls" in text
    assert "2 record(s) in changes that failed" in text_of(message.blocks, "summary_failed")


def test_owners_and_sources_are_two_fields_side_by_side() -> None:
    dirt = block(build_summary_message(summary()).blocks, "summary_dirt")

    assert isinstance(dirt, SectionBlock)
    assert [str(f.text) for f in dirt.fields] == [
        "*By owner*\n1. Ada Lovelace: 9\n2. Old Timer (inactive): 4",
        "*By lead source*\n1. Web: 12\n2. (no source): 3",
    ]


# -- building summaries by hand -------------------------------------------------------


def line(check: str, label: str, *, found: int, yesterday: int | None = None, **counts: int) -> CheckLine:
    return CheckLine(
        check=check,
        label=label,
        today=CheckCounts(found=found, **counts),
        yesterday=None if yesterday is None else CheckCounts(found=yesterday),
    )


def pending(n: int, description: str) -> PendingItem:
    return PendingItem(
        approval_id=f"apr_{n:04d}",
        kind="merge",
        check="duplicate_email",
        description=description,
        records=2,
        created_at=NOW - timedelta(hours=n),
        expires_at=NOW + timedelta(hours=48 - n),
    )


def refused(n: int, description: str) -> RefusedItem:
    return RefusedItem(
        proposal_id=f"prop_{n:04d}",
        kind="delete",
        check="junk_lead",
        description=description,
        records=1,
        reason="delete is in forbidden_actions",
        rule="forbidden_actions: delete",
    )


def suggestion(n: int) -> PolicySuggestion:
    return PolicySuggestion(
        kind="merge",
        check=f"check_{n}",
        approved=40,
        rejected=0,
        change="allow",
        text=f"merge {n}: 40 approved",
    )


def summary(**overrides: Any) -> DailySummary:
    day = date(2026, 11, 24)
    values: dict[str, Any] = {
        "day": day,
        "timezone": "Europe/Berlin",
        "start": datetime(2026, 11, 23, 23, tzinfo=UTC),
        "end": datetime(2026, 11, 24, 23, tzinfo=UTC),
        "generated_at": NOW,
        "policy": "default",
        "quality": Quality(
            day=day,
            score=87.5,
            records=200,
            issues=25,
            by_check={"normalize_fields": 20},
            owners={"O1": 9},
            sources={"Web": 12},
            computed_at=NOW,
        ),
        "previous_score": 85.0,
        "trend": tuple(TrendPoint(day - timedelta(days=n), 80.0 + n) for n in range(29, -1, -1)),
        "checks": (
            line(
                "normalize_fields",
                "format fixes",
                found=30,
                yesterday=25,
                auto_fixed=20,
                pending=10,
                expired=3,
            ),
            line("duplicate_email", "duplicates", found=10, yesterday=10, pending=4, approved=2, rejected=2),
            line("junk_lead", "junk <leads>", found=0),
        ),
        "pending": (pending(1, "Merge 1 duplicate lead into Jane Doe (L1)."),),
        "refused": (refused(1, "Delete lead test test."),),
        "owners": (Tally("O1", "Ada Lovelace", 9), Tally("O3", "Old Timer (inactive)", 4)),
        "sources": (Tally("Web", "Web", 12), Tally("", "(no source)", 3)),
        "suggestions": (),
        "usage": ModelUsage(),
        "runs": RunTally(total=2, failed=0, by_job={"hygiene": 2}),
    }
    values.update(overrides)
    return DailySummary(**values)
