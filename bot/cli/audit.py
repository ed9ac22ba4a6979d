"""``revgate audit``: verify the hash chain, show the latest events."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import EXIT_REFUSED, console, error_console, services
from bot.render import audit_lines

app = typer.Typer(help="Inspect the append-only audit log.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Check every link of the audit chain; exit 1 at the first broken one."""
    from agent.errors import AuditChainError

    with services() as svc, svc.database.transaction() as session:
        try:
            report = svc.audit.verify(session)
        except AuditChainError as error:
            error_console().print(f"[bold red]audit chain broken[/]: {error}")
            raise typer.Exit(EXIT_REFUSED) from None
        console().print(f"[green]ok[/]: {report.events} events, head {report.head[:16]}…")


@app.command()
def tail(
    limit: Annotated[int, typer.Option("-n", "--limit", min=1)] = 20,
    subject: Annotated[
        str | None, typer.Option(help="Only events about this approval, run or proposal.")
    ] = None,
) -> None:
    """The latest audit events, oldest first."""
    with services() as svc, svc.database.transaction() as session:
        console().print(audit_lines(svc.audit.tail(session, limit, subject=subject)), end="", soft_wrap=True)
