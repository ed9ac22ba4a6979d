"""``revgate hygiene``, ``revgate crm`` and ``revgate db``: running passes and looking after data."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.crm.seed import seed_crm
from agent.store.database import Database, current_revision, head_revision, upgrade
from bot.cli.common import console, fail, reported_errors, services, settings
from bot.container import PlannerChoice
from bot.render import planner_line, refused_table, run_table

hygiene = typer.Typer(help="CRM hygiene passes.", no_args_is_help=True)
crm = typer.Typer(help="The embedded CRM.", no_args_is_help=True)
db = typer.Typer(help="The database schema.", no_args_is_help=True)


@hygiene.command("run")
def hygiene_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and classify; write nothing.")] = False,
    planner: Annotated[
        PlannerChoice,
        typer.Option(help="claude, offline, or auto (claude when ANTHROPIC_API_KEY is set)."),
    ] = "auto",
) -> None:
    """One pass: fix the safe, queue the gated, refuse the forbidden."""
    with services() as svc:
        report = svc.runner.run(svc.planner(planner), trigger="cli", dry_run=dry_run)
        out = console()
        out.print(run_table(report))
        line = planner_line(report)
        if line is not None:
            out.print(line)
        if report.count("refused"):
            out.print(refused_table(report))


@crm.command("seed")
def crm_seed(
    records: Annotated[int, typer.Option(min=1, help="Leads + contacts + accounts.")] = 200,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 7,
) -> None:
    """Fill the embedded CRM with realistic sample data and planted defects."""
    with services() as svc:
        if any(svc.crm.count(t) for t in ("lead", "contact", "account")):
            fail("the embedded CRM already has records; use a fresh DATABASE_URL to seed again")
        report = seed_crm(svc.crm, records=records, seed=seed, now=svc.clock.now())
        console().print(f"Seeded {report.records_total} records: {report}")


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
