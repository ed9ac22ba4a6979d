"""Read-only views of what the agent did: recent runs and today's numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import func, select

from agent.store.database import Database
from agent.store.rows import ApprovalRow, ProposalRow, RunRow


@dataclass(frozen=True)
class RunInfo:
    id: str
    job: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int] = field(default_factory=dict)
    """Proposals by disposition (executed, queued, refused ...)."""


def recent_runs(database: Database, limit: int = 5) -> list[RunInfo]:
    """The latest runs, newest first, with their proposals counted by disposition."""
    with database.reading() as session:
        runs = (
            session.execute(select(RunRow).order_by(RunRow.started_at.desc(), RunRow.id).limit(limit))
            .scalars()
            .all()
        )
        infos = []
        for run in runs:
            counts = session.execute(
                select(ProposalRow.disposition, func.count())
                .where(ProposalRow.run_id == run.id)
                .group_by(ProposalRow.disposition)
            ).all()
            infos.append(
                RunInfo(
                    id=run.id,
                    job=run.job,
                    trigger=run.trigger,
                    status=run.status,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    counts={disposition: int(n) for disposition, n in counts},
                )
            )
        return infos


def today_counts(database: Database, now: datetime) -> dict[str, int]:
    """Since midnight (UTC): proposals by disposition, approvals by how they were decided."""
    midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    counts: Counter[str] = Counter()
    with database.reading() as session:
        for disposition, n in session.execute(
            select(ProposalRow.disposition, func.count())
            .where(ProposalRow.created_at >= midnight)
            .group_by(ProposalRow.disposition)
        ).all():
            counts[disposition] += int(n)
        for status, n in session.execute(
            select(ApprovalRow.status, func.count())
            .where(ApprovalRow.updated_at >= midnight)
            .group_by(ApprovalRow.status)
        ).all():
            counts[f"approvals_{status}"] += int(n)
        pending = session.execute(
            select(func.count()).select_from(ApprovalRow).where(ApprovalRow.status == "pending")
        ).scalar_one()
    counts["pending_now"] = int(pending)
    return dict(counts)
