"""``revgate approvals``: the same service Slack calls, from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.crm.caveats import merge_caveats
from agent.errors import ApprovalNotFoundError
from agent.models import APPROVAL_STATUSES
from bot.cli.common import console, fail, services
from bot.container import Services
from bot.render import approval_panel, approvals_table

app = typer.Typer(help="List, inspect and decide approval requests.", no_args_is_help=True)

UserOption = Annotated[
    str, typer.Option("--as", help="Who is deciding (a Slack user id such as U0APPROVER).")
]


def resolve_id(svc: Services, prefix: str) -> str:
    """Accept a unique prefix of an approval id, as git does for commits."""
    prefix = prefix.strip()
    if not prefix:
        fail("an approval id is required")
    try:
        return svc.approvals.get(prefix).id
    except ApprovalNotFoundError:
        matches = [a.id for a in svc.approvals.recent(limit=100_000) if a.id.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        fail(f"no approval {prefix}")
    fail(f"{prefix} is ambiguous: {', '.join(matches[:5])}")


@app.command("list")
def list_approvals(
    status: Annotated[
        list[str] | None,
        typer.Option("--status", "-s", help="Only these statuses (repeatable); default: pending."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every status.")] = False,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Approval requests, newest first."""
    statuses = None if all_ else (status or ["pending"])
    for name in statuses or []:
        if name not in APPROVAL_STATUSES:
            fail(f"unknown status {name!r}; one of: {', '.join(APPROVAL_STATUSES)}")
    with services() as svc:
        approvals = svc.approvals.recent(statuses, limit=limit)
        if not approvals:
            console().print("No approvals" + (f" with status {', '.join(statuses)}." if statuses else "."))
            return
        console().print(approvals_table(approvals, svc.clock.now()))


@app.command()
def show(approval_id: str) -> None:
    """One approval in full, with its context."""
    with services() as svc:
        approval = svc.approvals.get(resolve_id(svc, approval_id))
        owners = {o.id: o for o in svc.crm.owners()}
        action = approval.action
        caveats = merge_caveats(svc.crm.name, len(action.record_ids)) if action.kind == "merge" else []
        console().print(approval_panel(approval, owners, svc.clock.now(), platform_caveats=caveats))


@app.command()
def approve(
    approval_id: str,
    user: UserOption,
    execute: Annotated[bool, typer.Option(help="Execute right away (else the worker does).")] = True,
) -> None:
    """Approve a request; once enough approvers agree, it executes exactly once."""
    with services() as svc:
        approval = svc.approvals.approve(resolve_id(svc, approval_id), user)
        out = console()
        if approval.status == "pending":
            out.print(
                f"Recorded {user}'s approval of {approval.id}; waiting for more approvers "
                f"({len(approval.approvals)} so far)."
            )
            return
        out.print(f"[green]Approved[/] {approval.id} as {user}.")
        if execute:
            for outcome in svc.worker.drain():
                style = "green" if outcome.outcome in ("executed", "undone") else "red"
                line = f"{outcome.operation} {outcome.approval_id}: [{style}]{outcome.outcome}[/]"
                out.print(f"  {line} {outcome.detail}")


@app.command()
def reject(
    approval_id: str,
    user: UserOption,
    reason: Annotated[str, typer.Option(help="Why not (required; the agent learns from it).")] = "",
) -> None:
    """Reject a request with a reason."""
    if not reason.strip():
        fail("a rejection needs a reason: --reason TEXT")
    with services() as svc:
        approval = svc.approvals.reject(resolve_id(svc, approval_id), user, reason)
        console().print(f"[red]Rejected[/] {approval.id} as {user}: {approval.reason}")


@app.command()
def undo(approval_id: str, user: UserOption) -> None:
    """Undo an executed, reversible action (within the policy's undo window)."""
    with services() as svc:
        svc.approvals.request_undo(resolve_id(svc, approval_id), user)
        for outcome in svc.worker.drain():
            console().print(
                f"  {outcome.operation} {outcome.approval_id}: {outcome.outcome} {outcome.detail}"
            )


@app.command()
def expire() -> None:
    """Expire pending requests whose time is up."""
    with services() as svc:
        expired = svc.approvals.expire_due()
        console().print(f"Expired {len(expired)} approval(s).")


@app.command()
def drain() -> None:
    """Execute approved actions waiting in the outbox."""
    with services() as svc:
        outcomes = svc.worker.drain()
        for outcome in outcomes:
            console().print(
                f"  {outcome.operation} {outcome.approval_id}: {outcome.outcome} {outcome.detail}"
            )
        console().print(f"{len(outcomes)} outbox item(s) processed.")
