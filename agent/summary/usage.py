"""The day's runs and what their planners spent on a model (``runs.stats["planner"]``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from agent.store.database import Database
from agent.store.rows import RunRow
from agent.summary.models import ModelUsage, RunTally

_TOKEN_FIELDS = (
    "calls",
    "failed_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def day_runs(database: Database, start: datetime, end: datetime) -> list[RunRow]:
    """Runs started in ``[start, end)``, dry runs included (a model call costs the same), oldest first."""
    with database.reading() as session:
        return list(
            session.execute(
                select(RunRow)
                .where(RunRow.started_at >= start, RunRow.started_at < end)
                .order_by(RunRow.started_at, RunRow.id)
            )
            .scalars()
            .all()
        )


def run_tally(runs: Iterable[RunRow]) -> RunTally:
    jobs: Counter[str] = Counter()
    total = failed = 0
    for run in runs:
        total += 1
        failed += run.status == "failed"
        jobs[run.job] += 1
    return RunTally(total=total, failed=failed, by_job=dict(sorted(jobs.items())))


def model_usage(stats: Iterable[dict[str, Any]]) -> ModelUsage:
    """Sums the planner stats of the day's runs (pure); runs without planner stats are skipped."""
    totals: Counter[str] = Counter()
    cost = 0.0
    runs = 0
    models: set[str] = set()
    fallbacks: dict[str, None] = {}
    for run_stats in stats:
        planner = run_stats.get("planner")
        if not isinstance(planner, dict):
            continue
        runs += 1
        for name in _TOKEN_FIELDS:
            totals[name] += int(planner.get(name) or 0)
        cost += float(planner.get("cost_usd") or 0.0)
        if planner.get("model"):
            models.add(str(planner["model"]))
        if planner.get("fallback"):
            fallbacks[str(planner["fallback"])] = None
    return ModelUsage(
        runs=runs,
        cost_usd=round(cost, 4),
        models=tuple(sorted(models)),
        fallbacks=tuple(fallbacks),
        **{name: totals[name] for name in _TOKEN_FIELDS},
    )
