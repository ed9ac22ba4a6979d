"""Gathering a :class:`DailySummary` for one local day from the database and the CRM.

Everything comes in as an argument (database, CRM, policy, clock), so the same
day renders the same way in Slack, in the terminal and in a test. The only write
is the day's quality snapshot (see :mod:`agent.summary.quality`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from agent.models import Owner
from agent.planner.draft import CHECK_ORDER
from agent.planner.suggestions import policy_suggestions
from agent.policy import Policy
from agent.ports import Clock, CRMClient
from agent.store.database import Database
from agent.summary.activity import count_by_check, day_decisions, day_proposals
from agent.summary.attention import pending_items, refused_items
from agent.summary.models import CheckCounts, CheckLine, DailySummary, Quality, Tally
from agent.summary.quality import QualityStore, day_quality
from agent.summary.usage import day_runs, model_usage, run_tally
from agent.summary.window import day_window

CHECK_NAMES: dict[str, str] = {
    "normalize_fields": "badly formatted fields",
    "invalid_email": "unusable emails",
    "unowned_lead": "unowned leads",
    "stale_lead": "stale new leads",
    "duplicate_email": "exact-email duplicates",
    "inactive_owner": "high-value, owner left",
    "junk_lead": "junk leads",
    "fuzzy_duplicate": "likely duplicates",
    "duplicate_domain": "accounts on one domain",
    "lead_account_match": "company from account",
    "invalid_picklist": "invalid picklist values",
    "missing_required": "missing required fields",
    "ambiguous_value": "ambiguous places",
    "unowned_record": "unowned records",
    "inactive_owner_record": "inactive owner's records",
    "stale_record": "stale records",
    "lifecycle": "lifecycle mismatches",
    "job_title": "job titles to enrich",
    "bulk": "mixed bulk changes",
    "routing": "lead routing",
}
"""What each check finds, in words."""

TOP = 5
"""Owners and sources listed."""
TREND_DAYS = 30


def check_name(check: str) -> str:
    return CHECK_NAMES.get(check, check.replace("_", " "))


def gather_summary(
    database: Database,
    crm: CRMClient,
    policy: Policy,
    clock: Clock,
    *,
    day: date,
    tz: ZoneInfo,
    suggestion_min_decisions: int = 20,
) -> DailySummary:
    """The summary of ``day`` (local midnight to midnight in ``tz``), measuring its quality if due."""
    start, end = day_window(day, tz)
    previous_start, _ = day_window(day - timedelta(days=1), tz)
    owners = {o.id: o for o in crm.owners()}

    proposals = day_proposals(database, start, end)
    decisions = day_decisions(database, start, end)
    today = count_by_check(
        ((p.disposition, p.action) for p in proposals), ((col, row.action) for col, row in decisions)
    )
    yesterday: dict[str, CheckCounts] | None = None
    if any(not run.dry_run for run in day_runs(database, previous_start, start)):
        # Pending is a state as of now, not yesterday's: only the day's events compare.
        yesterday = count_by_check(
            ((p.disposition, p.action) for p in day_proposals(database, previous_start, start)),
            (
                (col, row.action)
                for col, row in day_decisions(database, previous_start, start)
                if col != "pending"
            ),
        )

    quality = day_quality(database, crm, policy, clock, day=day, start=start, end=end)
    store = QualityStore(database)
    previous = store.get(day - timedelta(days=1))
    runs = day_runs(database, start, end)
    return DailySummary(
        day=day,
        timezone=tz.key,
        start=start,
        end=end,
        generated_at=clock.now(),
        policy=policy.name,
        quality=quality,
        previous_score=previous.score if previous is not None else None,
        trend=store.trend(day, TREND_DAYS),
        checks=tuple(_check_lines(today, yesterday, quality)),
        pending=tuple(pending_items((row for col, row in decisions if col == "pending"), owners)),
        refused=tuple(refused_items(proposals, owners)),
        owners=tuple(_owner_tallies(quality, owners)),
        sources=tuple(_source_tallies(quality)),
        suggestions=tuple(
            s
            for s in policy_suggestions(database, policy, min_decisions=suggestion_min_decisions)
            if s.change != "none"
        ),
        usage=model_usage(run.stats or {} for run in runs),
        runs=run_tally(runs),
    )


def _check_lines(
    today: Mapping[str, CheckCounts], yesterday: Mapping[str, CheckCounts] | None, quality: Quality | None
) -> list[CheckLine]:
    """A line per check seen today, yesterday or open now, in the planner's order, then by name."""
    open_now = quality.by_check if quality is not None else {}
    checks = set(today) | set(yesterday or {}) | set(open_now)
    order = {check: n for n, check in enumerate(CHECK_ORDER)}
    return [
        CheckLine(
            check=check,
            label=check_name(check),
            today=today.get(check, CheckCounts()),
            yesterday=None if yesterday is None else yesterday.get(check, CheckCounts()),
            open_issues=open_now.get(check, 0) if quality is not None else None,
        )
        for check in sorted(checks, key=lambda c: (order.get(c, len(order)), c))
    ]


def _owner_tallies(quality: Quality | None, owners: Mapping[str, Owner]) -> list[Tally]:
    if quality is None:
        return []
    ranked = sorted(quality.owners.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    return [Tally(key=owner_id, name=_owner_name(owner_id, owners), records=n) for owner_id, n in ranked]


def _owner_name(owner_id: str, owners: Mapping[str, Owner]) -> str:
    owner = owners.get(owner_id)
    if owner is None:
        return owner_id
    return owner.name if owner.active else f"{owner.name} (inactive)"


def _source_tallies(quality: Quality | None) -> list[Tally]:
    if quality is None:
        return []
    ranked = sorted(quality.sources.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    return [Tally(key=source, name=source or "(no source)", records=n) for source, n in ranked]
