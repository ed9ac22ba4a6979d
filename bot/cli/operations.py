"""``revgate hygiene`` and ``revgate db``: running passes and looking after the schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from agent.models import ObjectType
from agent.store.database import Database, current_revision, head_revision, upgrade
from bot.cli.common import console, reported_errors, services, settings
from bot.container import PlannerChoice
from bot.render import planner_line, refused_table, run_table

hygiene = typer.Typer(help="CRM hygiene passes.", no_args_is_help=True)
db = typer.Typer(help="The database schema.", no_args_is_help=True)


@hygiene.command("run")
def hygiene_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and classify; write nothing.")] = False,
    planner: Annotated[
        PlannerChoice,
        typer.Option(help="claude, offline, or auto (claude when ANTHROPIC_API_KEY is set)."),
    ] = "auto",
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Check every record, not only those changed since the last completed run."
        ),
    ] = False,
) -> None:
    """One pass: fix the safe, queue the gated, refuse the forbidden.

    Incremental by default: once a run has completed, the next one plans over the
    records changed since (plus the unchanged duplicates of changed leads and the
    accounts of inactive owners). ``--full`` checks everything.
    """
    with services() as svc:
        out = console()
        since = None if full else svc.runner.last_cursor("hygiene")
        with run_progress(out) as progress:
            report = svc.runner.run(
                svc.planner(planner), trigger="cli", dry_run=dry_run, since=since, progress=progress
            )
        scope = "full run" if since is None else f"incremental run: changed since {since.isoformat()}"
        out.print(
            f"{scope}; {report.records_read} records read"
            + (f", {report.context_records} unchanged ones for context" if report.context_records else "")
        )
        out.print(run_table(report))
        line = planner_line(report)
        if line is not None:
            out.print(line)
        if report.count("refused"):
            out.print(refused_table(report))


class BarProgress:
    """A run's progress as rich bars: records read per object type, then proposals gated."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._reading: dict[ObjectType, TaskID] = {}
        self._gate: TaskID | None = None

    def reading(self, object_type: ObjectType, total: int | None) -> None:
        self._reading[object_type] = self._progress.add_task(f"read {object_type}s", total=total)

    def read(self, object_type: ObjectType, count: int) -> None:
        self._progress.advance(self._reading[object_type], count)

    def planned(self, count: int) -> None:
        if self._gate is None:
            self._gate = self._progress.add_task("gate proposals", total=0)
        task = self._progress.tasks[self._gate]
        self._progress.update(self._gate, total=(task.total or 0) + count)

    def gated(self, count: int) -> None:
        if self._gate is not None:
            self._progress.advance(self._gate, count)


@contextmanager
def run_progress(out: Console) -> Iterator[BarProgress | None]:
    """Progress bars on a terminal; nothing when the output is a pipe or a file."""
    if not out.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=out
    ) as progress:
        yield BarProgress(progress)
        # A bulk approval stands for many held-back proposals: once the run is
        # through, every one of them is, so the bars end full.
        for task in progress.tasks:
            if task.total is not None:
                progress.update(task.id, completed=task.total)


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    config = settings()
    with reported_errors():
        upgrade(config.database_url)
        console().print(f"[green]ok[/]: schema at {head_revision(config.database_url)}")


@db.command("current")
def db_current() -> None:
    """Show the schema revision of the database."""
    config = settings()
    with reported_errors():
        database = Database(config.database_url, auto_upgrade=False)
        console().print(
            f"current: {current_revision(database.engine)}  head: {head_revision(config.database_url)}"
        )
        database.dispose()
