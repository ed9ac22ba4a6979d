from __future__ import annotations

from datetime import timedelta

from slack_sdk.models.blocks import ContextBlock, SectionBlock

from bot import ids
from bot.blocks import RunSummary, build_home
from tests.bot.blocks import (
    NOW,
    action_ids,
    approval,
    assert_valid_view,
    block,
    block_ids,
    buttons,
    context,
    merge_of_three,
    owner_change,
    text_of,
)


def run(n: int, finished: bool = True) -> RunSummary:
    return RunSummary(
        id=f"run-{n}",
        job="hygiene",
        status="finished" if finished else "running",
        started_at=NOW - timedelta(hours=n),
        finished_at=NOW - timedelta(hours=n) + timedelta(seconds=42) if finished else None,
        counts={"executed": 12, "queued": 2, "refused": 0},
    )


def test_empty_home_is_valid_and_says_so() -> None:
    view = build_home("U0VIEWER", [], {}, [], context())
    assert_valid_view(view)
    assert view.type == "home"
    assert text_of(view.blocks or [], "home_intro") == "Hi <@U0VIEWER>. 0 requests waiting for a decision."
    assert text_of(view.blocks or [], "home_today") == "*Today:* nothing yet."
    assert "No runs yet." in text_of(view.blocks or [], "home_runs")


def test_home_lists_pending_requests_with_details_buttons() -> None:
    pending = [approval(owner_change()), approval(merge_of_three(), id="apr_0002")]
    view = build_home("U0VIEWER", pending, {"executed": 3}, [run(1)], context())
    assert_valid_view(view)
    blocks = view.blocks or []
    assert "Move lead Acme Corp from Ada Lovelace to Grace Hopper." in text_of(blocks, "home_pending_0")
    assert "expires <!date^" in text_of(blocks, "home_pending_0")
    details = [b for b in buttons(blocks) if b.action_id == ids.ACTION_DETAILS]
    assert [b.value for b in details] == ["apr_0001", "apr_0002"]
    assert ids.HOME_REFRESH in action_ids(blocks)


def test_home_shows_votes_on_requests_needing_several_approvals() -> None:
    view = build_home(
        "U0VIEWER", [approval(approvals=("U1",))], {}, [], context(approvals_needed=lambda a: 2)
    )
    assert "1 of 2 approvals: <@U1>" in text_of(view.blocks or [], "home_pending_0")


def test_home_caps_the_pending_list_and_says_how_many_more() -> None:
    pending = [approval(id=f"apr_{n:04d}") for n in range(130)]
    view = build_home("U0VIEWER", pending, {}, [], context(max_items=500))
    payload = assert_valid_view(view)
    assert len(payload["blocks"]) <= 100
    more = block(view.blocks or [], "home_pending_more")
    assert isinstance(more, ContextBlock)
    assert "and 80 more" in str(more.elements[0].text)  # type: ignore[union-attr]
    small = build_home("U0VIEWER", pending, {}, [], context())
    assert sum(1 for b in block_ids(small.blocks or []) if b.startswith("home_pending_")) == 11


def test_today_counts_are_fields_and_never_more_than_ten() -> None:
    today = {f"outcome_{n}": n for n in range(14)}
    view = build_home("U0VIEWER", [], today, [], context())
    assert_valid_view(view)
    section = block(view.blocks or [], "home_today")
    assert isinstance(section, SectionBlock)
    assert len(section.fields) == 10
    assert str(section.fields[-1].text) == "*other*\n" + str(9 + 10 + 11 + 12 + 13)


def test_recent_runs_show_job_status_duration_and_counts() -> None:
    view = build_home("U0VIEWER", [], {}, [run(1), run(2, finished=False)], context())
    assert_valid_view(view)
    runs = text_of(view.blocks or [], "home_runs")
    assert "• `run-1` hygiene — *finished* · started <!date^" in runs
    assert "took 42 s · executed 12 · queued 2" in runs
    assert "refused" not in runs
    assert "• `run-2` hygiene — *running*" in runs


def test_many_runs_fit() -> None:
    view = build_home("U0VIEWER", [], {}, [run(n) for n in range(300)], context(max_items=300))
    assert_valid_view(view)
