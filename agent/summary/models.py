"""What a daily hygiene summary says, as plain frozen data (no I/O, no Slack).

:class:`DailySummary` is built by :func:`agent.summary.gather_summary` and
rendered by the Slack builder (``bot.blocks.summary``), the chart
(``bot.chart``) and the terminal (``revgate summary``). Counts of records are
distinct records: a record flagged by three runs in one day counts once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from agent.planner.suggestions import PolicySuggestion


@dataclass(frozen=True)
class CheckCounts:
    """One hygiene check's records in one day's window."""

    found: int = 0
    """Distinct records the check flagged in the day's runs (refused and re-proposed ones included)."""
    auto_fixed: int = 0
    """Records changed directly, without a person (the policy allowed it)."""
    pending: int = 0
    """Records in requests still waiting for a decision (queued by the end of the day)."""
    approved: int = 0
    """Records in requests a person approved during the day."""
    rejected: int = 0
    expired: int = 0
    """Records in requests that expired during the day without a decision."""
    failed: int = 0
    """Records in changes that failed during the day (execution or validation)."""


@dataclass(frozen=True)
class CheckLine:
    """A row of the per-check table: the day's counts and yesterday's, when there were runs."""

    check: str
    label: str
    """The check in words ("exact-email duplicates")."""
    today: CheckCounts
    yesterday: CheckCounts | None = None
    """``None`` when nothing ran the day before (no change to report)."""
    open_issues: int | None = None
    """Records with this open issue when the day's quality was measured (``None``: not measured)."""

    @property
    def found_change(self) -> int | None:
        """``found`` today minus yesterday, or ``None`` without a yesterday to compare with."""
        return None if self.yesterday is None else self.today.found - self.yesterday.found


@dataclass(frozen=True)
class PendingItem:
    """A request waiting for a person."""

    approval_id: str
    kind: str
    check: str
    description: str
    records: int
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class RefusedItem:
    """A change the policy forbids: a recommendation for a person to make by hand, if right."""

    proposal_id: str
    kind: str
    check: str
    description: str
    records: int
    reason: str
    rule: str


@dataclass(frozen=True)
class Tally:
    """A name and how many records with open issues it has."""

    key: str
    """Owner id or source value as stored ("" for none)."""
    name: str
    """What to show: the owner's name ("(inactive)" marked), the source, "(no source)"."""
    records: int


@dataclass(frozen=True)
class TrendPoint:
    day: date
    score: float | None
    """``None``: no snapshot that day (a gap, never a zero)."""


@dataclass(frozen=True)
class Quality:
    """The data-quality score of a day: the share of records with no open hygiene issue."""

    day: date
    score: float
    """0-100, one decimal."""
    records: int
    issues: int
    """Records with at least one open issue."""
    by_check: dict[str, int]
    """Check -> records with that open issue."""
    owners: dict[str, int]
    """Owner id -> records with an open issue (unowned records are not listed)."""
    sources: dict[str, int]
    """Lead source -> leads with an open issue ("" for leads without a source)."""
    computed_at: datetime


@dataclass(frozen=True)
class ModelUsage:
    """Model calls and their estimated cost over the day's runs."""

    runs: int = 0
    """Runs whose planner consulted a model (or tried to)."""
    calls: int = 0
    failed_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0
    models: tuple[str, ...] = ()
    fallbacks: tuple[str, ...] = ()
    """Why runs finished on the offline rules (budget spent, API down ...), distinct."""


@dataclass(frozen=True)
class RunTally:
    total: int = 0
    failed: int = 0
    by_job: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DailySummary:
    """Everything the daily hygiene summary shows, for one local day in one time zone."""

    day: date
    timezone: str
    start: datetime
    """Local midnight starting the day, in UTC."""
    end: datetime
    """Local midnight ending the day, in UTC (exclusive)."""
    generated_at: datetime
    policy: str
    quality: Quality | None
    """The day's measurement; ``None`` when there is none (a day too old to measure now)."""
    previous_score: float | None
    """The day before's score, when it was measured."""
    trend: tuple[TrendPoint, ...]
    """30 days ending with ``day``, oldest first."""
    checks: tuple[CheckLine, ...]
    pending: tuple[PendingItem, ...]
    """Oldest first."""
    refused: tuple[RefusedItem, ...]
    """Most consequential first (deletes, merges, owner changes ...)."""
    owners: tuple[Tally, ...]
    sources: tuple[Tally, ...]
    suggestions: tuple[PolicySuggestion, ...]
    """Only the ones that suggest a change (``change != "none"``)."""
    usage: ModelUsage
    runs: RunTally

    @property
    def score_change(self) -> float | None:
        if self.quality is None or self.previous_score is None:
            return None
        return round(self.quality.score - self.previous_score, 1)

    def total(self, name: str) -> int:
        """The sum of one :class:`CheckCounts` field over every check (e.g. ``"auto_fixed"``)."""
        return sum(int(getattr(line.today, name)) for line in self.checks)
