"""``revgate route-lead`` and ``revgate routing``: route a lead, check a routing file, run the SLA clocks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from agent.errors import CRMNotFoundError, RoutingFileError, SettingsError
from agent.routing import load_routing, sla
from bot.cli.common import EXIT_BAD_INPUT, EXIT_REFUSED, console, fail, services, settings
from bot.container import Services
from bot.messages import route_lines
from bot.routing_notifier import use_slack_for_routing
from bot.runtime import approvals_channel
from bot.slack_client import make_web_client

EXIT_ROUTING_ERRORS = EXIT_BAD_INPUT
"""``routing check`` found at least one error (warnings alone exit 0), as ``policy check``."""

app = typer.Typer(help="Check routing files and run the SLA clocks.", no_args_is_help=True)


def route_lead(
    ref: Annotated[str, typer.Argument(help="The lead's id or email address.")],
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Everything behind the decision: values, accounts, rule path, pool state, skipped members.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and explain; write nothing (not even the pool's turn).")
    ] = False,
    requested_by: Annotated[
        str, typer.Option("--as", help="Who asks (a Slack user id); they may not approve an owner change.")
    ] = "cli",
) -> None:
    """Route one lead by the routing rules (REVGATE_ROUTING), through the policy like any change.

    An unowned lead is assigned at once; taking a lead from its owner waits for
    approval. The new owner gets a Slack DM when SLACK_BOT_TOKEN is set.
    """
    with routing_services() as svc:
        try:
            result = svc.routing().route(ref, requested_by=requested_by, dry_run=dry_run)
        except CRMNotFoundError as missing:
            fail(f"{missing}; try the lead's id or exact email address", EXIT_REFUSED)
        out = console()
        for line in route_lines(result, explain=explain):
            out.print(line, highlight=False, markup=False)


@app.command()
def check(
    path: Annotated[Path | None, typer.Argument(help="Default: REVGATE_ROUTING.")] = None,
) -> None:
    """Report every problem in a routing file (and its territory files), each with its line.

    Errors exit 2 (as ``policy check``); warnings (territories that overlap) are printed and exit 0.
    """
    if path is None:
        path = settings().routing_path
    if not path.is_file():
        fail(f"no such file: {path}")
    out = console()
    try:
        config, problems = load_routing(path)
    except RoutingFileError as error:
        config, problems = None, error.problems
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        out.print(
            f"{path}:{problem.line or 0}: [{style}]{problem.severity}[/]: {escape(problem.message)}",
            highlight=False,
        )
    errors = sum(1 for p in problems if p.severity == "error")
    if config is None:
        out.print(f"[red]{errors} error(s)[/], {len(problems) - errors} warning(s)")
        raise typer.Exit(EXIT_ROUTING_ERRORS)
    out.print(
        f"[green]ok[/]: {path}: {len(config.rules)} rules, {len(config.pools)} pools, "
        f"{len(config.territories)} territories ({len(problems)} warning(s))",
        highlight=False,
    )


@app.command()
def tick() -> None:
    """Move the SLA clocks of routed leads once: reminders, escalations, reassignments."""
    with routing_services() as svc:
        report = sla.tick(svc.routing(), svc.clock.now())
        out = console()
        out.print(
            f"SLA tick: {report.started} started, {report.worked} worked, {report.reminded} reminded, "
            f"{report.escalated} escalated, {len(report.reassigned)} reassigned",
            highlight=False,
        )
        for line in report.reassigned:
            out.print(f"  reassigned {line}", highlight=False, markup=False)


@contextmanager
def routing_services() -> Iterator[Services]:
    """The services, telling owners and channels in Slack when ``SLACK_BOT_TOKEN`` is set.

    A broken routing file stops the command with each problem and its line.
    """
    config = settings()
    with services(config) as svc:
        if config.slack_bot_token is not None:
            try:
                client = make_web_client(config)
            except SettingsError as error:
                fail(str(error))
            use_slack_for_routing(svc, client, channel=approvals_channel(config, svc))
        try:
            yield svc
        except RoutingFileError as error:
            fail(str(error), EXIT_BAD_INPUT)
