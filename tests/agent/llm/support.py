"""Wiring the Claude planner of a test stack to a local fake Messages API."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import SecretStr

from agent.llm.budget import LLMBudget
from agent.llm.client import RetryPolicy
from agent.planner.claude import ClaudePlanner
from agent.run_report import RunReport
from agent.store.rows import AuditEventRow, RunRow
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.stack import Stack

MODEL = "claude-sonnet-5-5"


class Ticks:
    """A monotonic clock and a sleep that only record: tests never wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def claude_planner(
    stack: Stack,
    fake: FakeAnthropic | None,
    *,
    budget: LLMBudget | None = None,
    retry: RetryPolicy | None = None,
    ticks: Ticks | None = None,
) -> ClaudePlanner:
    """The stack's Claude planner, pointed at ``fake`` (``None``: no key set)."""
    settings = stack.services.settings.model_copy(
        update={
            "anthropic_api_key": SecretStr("sk-test") if fake else None,
            "anthropic_url": f"{fake.base_url}/" if fake else None,
            "model": MODEL,
        }
    )
    services = dataclasses.replace(stack.services, settings=settings)
    ticks = ticks or Ticks()
    return services.claude_planner(budget=budget, retry=retry, sleep=ticks.sleep, monotonic=ticks.monotonic)


def run_stats(stack: Stack, report: RunReport) -> dict[str, Any]:
    with stack.services.database.transaction() as session:
        row = session.get(RunRow, report.run_id)
        assert row is not None
        return dict(row.stats)


def audit_events(stack: Stack, event: str) -> list[AuditEventRow]:
    from sqlalchemy import select

    with stack.services.database.transaction() as session:
        rows = session.execute(
            select(AuditEventRow).where(AuditEventRow.event == event).order_by(AuditEventRow.seq)
        )
        found = list(rows.scalars())
        session.expunge_all()
        return found


def duplicate_pair(stack: Stack, **second: object) -> tuple[Any, Any]:
    """Two leads blocking puts together (same phone and surname, a typo in the first name, another
    company: a job change, or a colleague's line?): the engine is unsure (0.9 to 0.99), so the
    rules leave them to the model."""
    first = stack.lead(
        first_name="Jonathan",
        last_name="Smith",
        company="Globex",
        email="jsmith@globex.com",
        phone="+14155550100",
    )
    fields: dict[str, object] = {
        "first_name": "Jonathon",
        "last_name": "Smith",
        "company": "Initech",
        "email": "jonathan@globex.com",
        "phone": "+14155550100",
    }
    fields.update(second)
    return first, stack.lead(**fields)


def refs(*records: Any) -> list[dict[str, str]]:
    return [{"record_id": r.id, "version": r.version} for r in records]


def targets(*records: Any, **changes: object) -> list[dict[str, object]]:
    return [{"record_id": r.id, "version": r.version, "changes": dict(changes)} for r in records]


def versions(stack: Stack) -> dict[str, str]:
    """Every live record's version: any write, merge or delete changes this."""
    return {
        r.id: r.version
        for kind in ("lead", "contact", "account")
        for r in stack.crm.iter_records(kind)  # type: ignore[arg-type]
    }
