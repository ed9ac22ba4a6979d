"""The daily hygiene summary: what the agent and people did in a day, and how clean the data is.

``gather_summary(database, crm, policy, clock, day=..., tz=...)`` returns a
:class:`DailySummary` (plain data); the Slack builder, the chart and the
terminal render it. Modules: ``models`` (the data), ``window`` (a local day in
UTC), ``activity`` (per-check counts), ``attention`` (pending requests, refused
changes), ``quality`` (the score and its snapshots), ``usage`` (runs and model
cost) and ``gather`` (putting it together).
"""

from agent.summary.gather import CHECK_NAMES, check_name, gather_summary
from agent.summary.models import (
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
from agent.summary.quality import QualityStore, measure, measure_crm, score_of
from agent.summary.window import day_window, local_date

__all__ = [
    "CHECK_NAMES",
    "CheckCounts",
    "CheckLine",
    "DailySummary",
    "ModelUsage",
    "PendingItem",
    "Quality",
    "QualityStore",
    "RefusedItem",
    "RunTally",
    "Tally",
    "TrendPoint",
    "check_name",
    "day_window",
    "gather_summary",
    "local_date",
    "measure",
    "measure_crm",
    "score_of",
]
