"""The daily summary's numbers, from a realistic two days on the seeded CRM (SQLite and PostgreSQL).

Day one: the seeded CRM gets a hygiene pass. Day two: a person approves one
merge and rejects another, the 24-hour requests expire, the approved merge is
executed, and a second pass runs. Every expected number below is derived from
what the runs reported and what the approvals say, not typed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from agent.crm.seed import seed_crm
from agent.models import Approval, Owner, ProposedAction, Record, Target
from agent.planner.base import CRMSnapshot, snapshot_from
from agent.run_report import RunReport
from agent.store.rows import QualitySnapshotRow, RunRow
from agent.summary import DailySummary, QualityStore, day_window, gather_summary, measure
from agent.summary.activity import check_of
from agent.summary.quality import offline_checks
from agent.summary.usage import model_usage
from tests.support.fakes import T0
from tests.support.stack import APPROVER, Stack

UTC_ZONE = ZoneInfo("UTC")
DAY_ONE = (T0 - timedelta(days=1)).date()
DAY_TWO = T0.date()


@dataclass
class TwoDays:
    first: RunReport
    second: RunReport
    approved: Approval
    rejected: Approval
    expired: list[Approval]
    day_one: DailySummary | None
    """The summary of day one, gathered on day one (as the scheduler's post would)."""


@pytest.fixture
def sqlite_stack(sqlite_url: str) -> Iterator[Stack]:
    """For what only reads what other tests already check on both databases: SQLite alone, faster."""
    built = Stack(sqlite_url)
    yield built
    built.close()


def seeded_two_days(stack: Stack, *, tz: ZoneInfo = UTC_ZONE, summarise_day_one: bool = True) -> TwoDays:
    """Seed, run, decide, expire, run again; leaves the clock on day two at 09:00 UTC."""
    services = stack.services
    stack.clock.current = T0 - timedelta(days=1)
    seed_crm(stack.crm, records=200, seed=7, now=stack.clock.now())
    first = services.runner.run(services.offline_planner(), trigger="schedule")
    day_one = summarise(stack, DAY_ONE, tz) if summarise_day_one else None
    stack.later(days=1)
    merges = sorted(
        (a for a in services.approvals.recent(["pending"]) if a.action.check == "duplicate_email"), key=_id
    )
    approved = services.approvals.approve(merges[0].id, APPROVER)
    rejected = services.approvals.reject(merges[1].id, APPROVER, "not the same person")
    expired = services.approvals.expire_due()
    services.worker.drain()
    second = services.runner.run(services.offline_planner(), trigger="schedule")
    return TwoDays(first, second, approved, rejected, expired, day_one)


def summarise(stack: Stack, day: date, tz: ZoneInfo = UTC_ZONE, **kw: int) -> DailySummary:
    s = stack.services
    return gather_summary(s.database, s.crm, s.policy, s.clock, day=day, tz=tz, **kw)


def _id(approval: Approval) -> str:
    return approval.id


def _records(report: RunReport, check: str, *dispositions: str) -> set[str]:
    return {
        rid
        for o in report.outcomes
        if check_of(o.action.model_dump(mode="json")) == check and o.disposition in dispositions
        for rid in o.action.record_ids
    }


def _approval_records(approvals: list[Approval], check: str) -> int:
    return sum(
        len(a.action.targets) for a in approvals if check_of(a.action.model_dump(mode="json")) == check
    )


def test_counts_per_check_come_from_the_days_runs_and_decisions(stack: Stack) -> None:
    days = seeded_two_days(stack)

    summary = summarise(stack, DAY_TWO)

    lines = {line.check: line for line in summary.checks}
    found_dispositions = ("executed", "queued", "refused", "failed", "superseded", "duplicate")
    reported = {check_of(o.action.model_dump(mode="json")) for o in days.second.outcomes}
    assert reported <= set(lines), "every check that ran has a line"
    for check, line in lines.items():
        assert line.today.found == len(_records(days.second, check, *found_dispositions)), check
        assert line.today.auto_fixed == len(_records(days.second, check, "executed")), check
        assert line.today.expired == _approval_records(days.expired, check), check
    merges = lines["duplicate_email"].today
    assert merges.approved == len(days.approved.action.targets) == 2
    assert merges.rejected == len(days.rejected.action.targets) == 2
    pending = stack.services.approvals.recent(["pending"])
    assert merges.pending == _approval_records(pending, "duplicate_email")
    assert summary.total("pending") == sum(len(a.action.targets) for a in pending)
    assert len(summary.pending) == len(pending)
    assert summary.total("expired") > 0, "the 24-hour requests of day one expire on day two"
    assert {line.check for line in summary.checks} >= {"normalize_fields", "duplicate_email", "junk_lead"}
    # A bundle of one check's changes counts under that check; only a bundle mixing
    # checks (notes from several quality checks, say) gets a line of its own.
    assert "bulk" not in lines or lines["bulk"].label == "mixed bulk changes"
    assert summary.runs.total == 1
    assert summary.usage.runs == 0


def test_change_since_yesterday_compares_each_check_and_the_score(stack: Stack) -> None:
    days = seeded_two_days(stack)
    first = days.day_one
    assert first is not None

    second = summarise(stack, DAY_TWO)

    assert all(line.yesterday is None for line in first.checks), "nothing ran the day before day one"
    assert first.score_change is None
    stale = next(line for line in second.checks if line.check == "stale_lead")
    assert stale.yesterday is not None
    assert stale.yesterday.found == len(_records(days.first, "stale_lead", "executed")) > 0
    assert stale.found_change == stale.today.found - stale.yesterday.found < 0, "fixed on day one"
    assert first.quality is not None
    assert second.quality is not None
    assert second.previous_score == first.quality.score
    assert second.score_change == round(second.quality.score - first.quality.score, 1)
    assert second.score_change > 0, "day two's merges and fixes leave fewer open issues"


def test_the_score_is_stored_once_per_day_and_recomputed_idempotently(stack: Stack) -> None:
    seeded_two_days(stack, summarise_day_one=False)
    store = QualityStore(stack.services.database)

    once = summarise(stack, DAY_TWO)
    twice = summarise(stack, DAY_TWO)

    assert _snapshot_days(stack) == [DAY_TWO]
    assert once.quality is not None
    assert once.quality == twice.quality
    clean = next(r for r in stack.crm.iter_records("lead") if r.id not in _flagged(stack))
    broken = stack.crm.update(
        "lead", clean.id, {"email": "not an email"}, expected_version=clean.version, idempotency_key="k"
    )
    stack.later(hours=1)
    changed = summarise(stack, DAY_TWO)
    assert _snapshot_days(stack) == [DAY_TWO], "the same day: the row is replaced, not added"
    assert changed.quality is not None
    assert changed.quality.issues == once.quality.issues + 1
    assert changed.quality.computed_at == stack.clock.now()

    stack.clock.current = datetime.combine(DAY_TWO + timedelta(days=1), time(8), UTC)
    final = summarise(stack, DAY_TWO)
    assert final.quality is not None
    assert final.quality.computed_at == stack.clock.now()
    stack.later(hours=2)
    stack.crm.update(
        "lead", clean.id, {"email": "fixed@example.com"}, expected_version=broken.version, idempotency_key="f"
    )
    again = summarise(stack, DAY_TWO)
    assert again.quality == final.quality, "a day measured after it ended is final"
    assert store.get(DAY_TWO) == final.quality
    assert _snapshot_days(stack) == [DAY_TWO]


def test_a_day_too_old_to_measure_has_no_score_and_writes_nothing(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    seeded_two_days(stack, summarise_day_one=False)

    old = summarise(stack, DAY_TWO - timedelta(days=5))

    assert old.quality is None
    assert old.score_change is None
    assert _snapshot_days(stack) == []
    assert all(point.score is None for point in old.trend)


def test_the_trend_has_thirty_days_with_gaps_where_nothing_was_measured(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    seeded_two_days(stack)

    summary = summarise(stack, DAY_TWO)

    assert [p.day for p in summary.trend] == [DAY_TWO - timedelta(days=n) for n in range(29, -1, -1)]
    measured = {p.day: p.score for p in summary.trend if p.score is not None}
    assert summary.quality is not None
    assert set(measured) == {DAY_ONE, DAY_TWO}
    assert measured[DAY_TWO] == summary.quality.score


def test_refused_changes_are_listed_once_each_with_reason_and_rule(stack: Stack) -> None:
    days = seeded_two_days(stack)
    again = stack.services.runner.run(stack.services.offline_planner(), trigger="schedule")

    summary = summarise(stack, DAY_TWO)

    refused = _records(days.second, "junk_lead", "refused")
    assert refused == _records(again, "junk_lead", "refused") != set(), "both runs refused the same deletes"
    assert len(summary.refused) == len(refused), "one line per change, however many runs refused it"
    assert len({item.description for item in summary.refused}) == len(refused)
    assert {item.rule for item in summary.refused} == {"forbidden_actions: delete"}
    assert all(item.kind == "delete" and "forbidden_actions" in item.reason for item in summary.refused)


def test_dry_runs_change_nothing_and_count_for_nothing(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    stack.clock.current = T0
    seed_crm(stack.crm, records=200, seed=7, now=stack.clock.now())
    stack.services.runner.run(stack.services.offline_planner(), dry_run=True)

    summary = summarise(stack, DAY_TWO)

    assert summary.total("found") == 0
    assert summary.runs.total == 1
    assert summary.quality is not None
    assert summary.quality.issues > 0, "the data is dirty all the same"


def test_a_rejected_merge_no_longer_counts_as_an_open_issue(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    days = seeded_two_days(stack)

    summary = summarise(stack, DAY_TWO)

    rejected = set(days.rejected.action.record_ids)
    assert rejected <= _flagged(stack, "duplicate_email"), "the rules still propose it"
    assert summary.quality is not None
    pending = _approval_records(stack.services.approvals.recent(["pending"]), "duplicate_email")
    assert (
        summary.quality.by_check["duplicate_email"]
        == pending
        == len(_flagged(stack, "duplicate_email") - rejected)
    )


def test_policy_suggestions_appear_when_history_suggests_a_change(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    seeded_two_days(stack)  # one exact-email merge approved, one rejected
    merge = next(
        a for a in stack.services.approvals.recent(["pending"]) if a.action.check == "duplicate_email"
    )
    stack.services.approvals.reject(merge.id, APPROVER, "different people")

    quiet = summarise(stack, DAY_TWO)
    eager = summarise(stack, DAY_TWO, suggestion_min_decisions=3)

    assert quiet.suggestions == (), "three decisions are too few by default"
    assert [(s.kind, s.check, s.approved, s.rejected, s.change) for s in eager.suggestions] == [
        ("merge", "duplicate_email", 1, 2, "review_check")
    ]


def test_model_usage_sums_what_the_days_planners_spent(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    seeded_two_days(stack)
    planner = {
        "model": "claude-sonnet-5-5",
        "calls": 3,
        "failed_calls": 1,
        "input_tokens": 1200,
        "output_tokens": 300,
        "cache_read_input_tokens": 5000,
        "cache_creation_input_tokens": 700,
        "cost_usd": 0.0123,
        "fallback": "budget exhausted: calls",
    }
    with stack.services.database.transaction() as session:
        session.execute(update(RunRow).values(stats={"planner": planner}))

    summary = summarise(stack, DAY_TWO)

    usage = summary.usage
    assert (usage.runs, usage.calls, usage.failed_calls) == (1, 3, 1)
    assert (usage.input_tokens, usage.output_tokens) == (1200, 300)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (5000, 700)
    assert usage.cost_usd == 0.0123
    assert usage.models == ("claude-sonnet-5-5",)
    assert usage.fallbacks == ("budget exhausted: calls",)


def test_model_usage_adds_up_runs_and_skips_runs_without_a_model() -> None:
    usage = model_usage(
        [
            {"planner": {"model": "claude-haiku-4", "calls": 2, "input_tokens": 10, "cost_usd": 0.5}},
            {"planner": {"model": "claude-sonnet-5-5", "calls": 1, "input_tokens": 5, "cost_usd": 0.25}},
            {"normalize_field": {"executed": 3}},
        ]
    )

    assert (usage.runs, usage.calls, usage.input_tokens, usage.cost_usd) == (2, 3, 15, 0.75)
    assert usage.models == ("claude-haiku-4", "claude-sonnet-5-5")


def test_the_score_is_the_share_of_records_with_no_open_issue() -> None:
    at = datetime(2026, 11, 24, tzinfo=UTC)
    records = [
        Record(
            object_type="lead",
            id=f"L{n}",
            version="1",
            owner_id=owner,
            fields=fields,
            created_at=at,
            updated_at=at,
        )
        for n, (owner, fields) in enumerate(
            [("O1", {"lead_source": "Web"}), ("O1", {"lead_source": "Event"}), (None, {}), ("O2", {})]
        )
    ]
    snapshot = CRMSnapshot(leads=records, owners=[Owner(id="O1", name="Ada", email="ada@x.io")])
    planner_actions = _actions_on(records, ["L0", "L2"], check="normalize_fields") + _actions_on(
        records, ["L1"], check="junk_lead"
    )

    quality = measure(
        snapshot,
        planner_actions,
        day=at.date(),
        computed_at=at,
        suppressed=lambda a: a.check == "junk_lead",
    )

    assert (quality.records, quality.issues, quality.score) == (4, 2, 50.0)
    assert quality.by_check == {"normalize_fields": 2}
    assert quality.owners == {"O1": 1}, "unowned records are not an owner's"
    assert quality.sources == {"Web": 1, "": 1}


def test_an_empty_crm_scores_a_clean_hundred() -> None:
    at = datetime(2026, 11, 24, tzinfo=UTC)
    assert measure(CRMSnapshot(), [], day=at.date(), computed_at=at).score == 100.0


def test_a_local_day_runs_midnight_to_midnight_and_daylight_saving_days_are_shorter() -> None:
    berlin = ZoneInfo("Europe/Berlin")

    start, end = day_window(date(2026, 11, 24), berlin)
    spring_start, spring_end = day_window(date(2026, 3, 29), berlin)

    assert (start, end) == (datetime(2026, 11, 23, 23, tzinfo=UTC), datetime(2026, 11, 24, 23, tzinfo=UTC))
    assert spring_end - spring_start == timedelta(hours=23)
    assert day_window(date(2026, 3, 30), berlin)[0] == spring_end


def _actions_on(records: list[Record], ids: list[str], *, check: str) -> list[ProposedAction]:
    return [
        ProposedAction(
            id=f"{check}-{rid}",
            kind="add_note",
            object_type="lead",
            targets=[Target(record_id=rid, version="1", note="x")],
            rationale="test",
            check=check,
        )
        for rid in ids
    ]


def _flagged(stack: Stack, check: str | None = None) -> set[str]:
    """Record ids the offline rules propose something for now (of one check, or any)."""
    s = stack.services
    # As the score counts: a note already on a record does not make it clean.
    snapshot = dataclasses.replace(snapshot_from(s.crm), noted=frozenset())
    actions = offline_checks(s.policy, s.clock.now).plan(snapshot)
    return {rid for a in actions if check is None or a.check == check for rid in a.record_ids}


def _snapshot_days(stack: Stack) -> list[date]:
    with stack.services.database.reading() as session:
        count = session.execute(select(func.count()).select_from(QualitySnapshotRow)).scalar_one()
        days = list(
            session.execute(select(QualitySnapshotRow.day).order_by(QualitySnapshotRow.day)).scalars()
        )
    assert count == len(days)
    return days
