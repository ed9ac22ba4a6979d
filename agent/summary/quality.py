"""The data-quality score: measured by the offline checks, stored once per day, read back as a trend.

The score is the share of live records (leads, contacts, accounts) with no open
hygiene issue, where an open issue is anything the offline planner would propose
for the record right now, minus what a person already rejected on the record as
it stands (a "not the same person" is a judgement, not dirt). Measuring runs the
planner's checks over the CRM, read in chunks as a run reads it, and writes nothing.

One row per local day in ``quality_snapshots``. A day's row is refreshed by every
measurement until it holds one taken after the day ended; from then on it is
final and never rewritten, so history does not drift. A day is measured only
while it is today or yesterday: today's data says nothing about last month.

``by_check`` holds ``{"checks": {check: records}, "owners": {owner_id: records},
"sources": {lead_source: records}}``, so a past day renders from its row alone.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from agent.memory import RejectionIndex, RejectionMemory
from agent.models import ObjectType, ProposedAction, Record
from agent.planner.base import CRMSnapshot, SnapshotReader
from agent.planner.offline import OfflinePlanner
from agent.policy import Policy
from agent.ports import Clock, CRMClient
from agent.runner import DEFAULT_CHUNK
from agent.store.database import Database
from agent.store.rows import QualitySnapshotRow
from agent.summary.models import Quality, TrendPoint
from agent.summary.window import trend_days

_INSERTS: dict[str, Callable[..., postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}
"""INSERT constructors with ``ON CONFLICT``, by dialect (both speak the same upsert)."""

MEASURABLE_FOR = timedelta(days=1)
"""How long after a day ends it may still be measured (a morning summary of yesterday)."""

RecordKey = tuple[ObjectType, str]


def offline_checks(policy: Policy, now: Callable[[], datetime]) -> OfflinePlanner:
    """The offline planner configured from the policy, as a run would use it; its ids are throwaway."""
    high_value = policy.high_value_changes
    counter = itertools.count(1)
    return OfflinePlanner(
        new_id=lambda: f"quality-{next(counter)}",
        now=now,
        high_value_field=high_value.field if high_value else "annual_revenue",
        high_value_min=high_value.min if high_value else float("inf"),
    )


def score_of(records: int, issues: int) -> float:
    """0-100 with one decimal; an empty CRM is clean."""
    return 100.0 if records == 0 else round(100.0 * (records - issues) / records, 1)


def measure(
    snapshot: CRMSnapshot,
    actions: Iterable[ProposedAction],
    *,
    day: date,
    computed_at: datetime,
    suppressed: Callable[[ProposedAction], bool] = lambda _action: False,
) -> Quality:
    """The quality of ``snapshot`` given what the checks propose for it (pure)."""
    tally = _Tally()
    tally.add(snapshot, [a for a in actions if not suppressed(a)], counts_records=True)
    return tally.quality(day=day, computed_at=computed_at)


def measure_crm(database: Database, crm: CRMClient, policy: Policy, clock: Clock, *, day: date) -> Quality:
    """Read the CRM in chunks as a run does, run the offline checks read-only, drop what people
    rejected, score it. Memory holds one chunk and the keys of the records with an issue."""
    reader = SnapshotReader(crm, chunk_size=DEFAULT_CHUNK, read_notes=False)
    planner = offline_checks(policy, clock.now)
    memory = RejectionMemory(database)
    tally = _Tally()
    for snapshot in reader.snapshots():
        actions = planner.plan(snapshot)
        reader.claim(snapshot, actions)
        indexes: dict[str, RejectionIndex] = {}
        for object_type in sorted({a.object_type for a in actions}):
            ids = {rid for a in actions if a.object_type == object_type for rid in a.record_ids}
            indexes[object_type] = RejectionIndex(memory.for_records(object_type, ids))
        kept = [a for a in actions if indexes[a.object_type].suppressing(a) is None]
        # A batch of likely duplicates holds records its chunk counts again.
        tally.add(snapshot, kept, counts_records=snapshot.duplicates != "only")
    return tally.quality(day=day, computed_at=clock.now())


class _Tally:
    """Records seen and the records with an issue, by check, owner and lead source."""

    def __init__(self) -> None:
        self.records = 0
        self.flagged: dict[str, set[RecordKey]] = defaultdict(set)
        self.dirty: set[RecordKey] = set()
        self.owners: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()

    def add(self, snapshot: CRMSnapshot, actions: Iterable[ProposedAction], *, counts_records: bool) -> None:
        by_key: dict[RecordKey, Record] = {(r.object_type, r.id): r for r in snapshot.records()}
        if counts_records:
            self.records += len(by_key)
        for action in actions:
            keys = {(action.object_type, rid) for rid in action.record_ids}
            self.flagged[action.check].update(keys)
            for key in sorted(keys - self.dirty):
                record = by_key.get(key)
                if record is None:
                    continue
                self.dirty.add(key)
                if record.owner_id:
                    self.owners[record.owner_id] += 1
                if record.object_type == "lead":
                    source = record.fields.get("lead_source")
                    self.sources[str(source).strip() if source not in (None, "") else ""] += 1

    def quality(self, *, day: date, computed_at: datetime) -> Quality:
        return Quality(
            day=day,
            score=score_of(self.records, len(self.dirty)),
            records=self.records,
            issues=len(self.dirty),
            by_check={check: len(keys) for check, keys in sorted(self.flagged.items())},
            owners=dict(sorted(self.owners.items())),
            sources=dict(sorted(self.sources.items())),
            computed_at=computed_at,
        )


class QualityStore:
    """Reads and writes ``quality_snapshots``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, day: date) -> Quality | None:
        with self._db.reading() as session:
            row = session.get(QualitySnapshotRow, day)
            return None if row is None else _from_row(row)

    def save(self, quality: Quality, *, final_after: datetime) -> None:
        """Insert the day's row, or replace it unless it is final (computed at or after ``final_after``).

        One statement (``INSERT … ON CONFLICT DO UPDATE … WHERE``), so replicas
        measuring the same day at once leave one row and never fail.
        """
        values: dict[str, Any] = {
            "day": quality.day,
            "score": quality.score,
            "records": quality.records,
            "issues": quality.issues,
            "by_check": {"checks": quality.by_check, "owners": quality.owners, "sources": quality.sources},
            "computed_at": quality.computed_at,
        }
        dialect = self._db.dialect
        if dialect not in _INSERTS:  # pragma: no cover - settings only accept the two
            raise ValueError(f"no upsert for the {dialect} dialect")
        insert = _INSERTS[dialect](QualitySnapshotRow).values(**values)
        upsert = insert.on_conflict_do_update(
            index_elements=[QualitySnapshotRow.day],
            set_={k: insert.excluded[k] for k in values if k != "day"},
            where=QualitySnapshotRow.computed_at < final_after,
        )
        with self._db.transaction() as session:
            session.execute(upsert)

    def trend(self, day: date, days: int = 30) -> tuple[TrendPoint, ...]:
        """``days`` points ending with ``day``; a day without a row is a gap (``score=None``)."""
        wanted = trend_days(day, days)
        with self._db.reading() as session:
            rows = session.execute(
                select(QualitySnapshotRow.day, QualitySnapshotRow.score).where(
                    QualitySnapshotRow.day >= wanted[0], QualitySnapshotRow.day <= wanted[-1]
                )
            ).all()
        scores = {d: float(s) for d, s in rows}
        return tuple(TrendPoint(d, scores.get(d)) for d in wanted)


def is_measurable(existing: Quality | None, *, start: datetime, end: datetime, now: datetime) -> bool:
    """Whether to measure the day ``[start, end)`` now (see the module docstring)."""
    if existing is not None and existing.computed_at >= end:
        return False
    return start <= now < end + MEASURABLE_FOR


def day_quality(
    database: Database,
    crm: CRMClient,
    policy: Policy,
    clock: Clock,
    *,
    day: date,
    start: datetime,
    end: datetime,
) -> Quality | None:
    """The day's quality: measured and stored now when it may be, else as stored (or ``None``)."""
    store = QualityStore(database)
    existing = store.get(day)
    if not is_measurable(existing, start=start, end=end, now=clock.now()):
        return existing
    store.save(measure_crm(database, crm, policy, clock, day=day), final_after=end)
    return store.get(day)


def _from_row(row: QualitySnapshotRow) -> Quality:
    stored = row.by_check or {}
    return Quality(
        day=row.day,
        score=float(row.score),
        records=row.records,
        issues=row.issues,
        by_check={str(k): int(v) for k, v in (stored.get("checks") or {}).items()},
        owners={str(k): int(v) for k, v in (stored.get("owners") or {}).items()},
        sources={str(k): int(v) for k, v in (stored.get("sources") or {}).items()},
        computed_at=row.computed_at,
    )
