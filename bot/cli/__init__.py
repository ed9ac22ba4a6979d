"""The ``revgate`` command line. Each group lives in its own module."""

from __future__ import annotations

import typer

from bot.cli import approvals, audit, crm, demo, meetings, operations, policy, routing, serve, summary


def build_cli() -> typer.Typer:
    cli = typer.Typer(
        help="revgate: a human-in-the-loop agent for revenue operations.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    cli.command()(demo.demo)
    cli.command()(serve.serve)
    cli.command()(serve.worker)
    cli.command()(summary.summary)
    cli.command("route-lead")(routing.route_lead)
    cli.add_typer(approvals.app, name="approvals")
    cli.add_typer(policy.app, name="policy")
    cli.add_typer(routing.app, name="routing")
    cli.add_typer(meetings.app, name="meetings")
    cli.add_typer(audit.app, name="audit")
    cli.add_typer(operations.hygiene, name="hygiene")
    cli.add_typer(crm.crm, name="crm")
    cli.add_typer(operations.db, name="db")
    return cli


def main() -> None:
    build_cli()()
