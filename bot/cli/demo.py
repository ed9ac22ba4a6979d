"""``revgate demo``: the whole idea on a laptop, with no Slack, no API key and no server."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.rule import Rule

from agent.crm.local import LocalCRM
from agent.crm.seed import seed_crm
from agent.describe import meeting_phrase
from agent.errors import AgentError
from agent.models import Approval
from agent.policy import Policy, approval_requirement
from bot.cli.common import console, fail, services, settings
from bot.container import Services
from bot.render import approval_panel, refused_table, run_table

DEMO_DB = Path(".revgate/demo.db")
DEMO_REP = "O002"
_SHOWCASE_ORDER = ("merge", "change_owner", "assign_owner", "normalize_field")


def demo(
    records: Annotated[int, typer.Option(min=20, help="Sample CRM size.")] = 200,
    seed: Annotated[int, typer.Option(help="Same seed, same CRM.")] = 7,
    database: Annotated[Path, typer.Option(help="The demo's own SQLite file (recreated).")] = DEMO_DB,
) -> None:
    """A fresh embedded CRM, one agent pass, and what to do next."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    # Absolute, so the printed commands work from any directory.
    url = f"sqlite:///{database.resolve()}"
    # The demo always runs on the embedded CRM, whatever REVGATE_CRM says: it writes sample data.
    config = settings().model_copy(update={"database_url": url, "crm": "local"})
    out = console()
    with services(config) as svc:
        if not isinstance(svc.crm, LocalCRM):
            fail(f"the demo runs on the embedded CRM, not {svc.crm.name}")
        report_seed = seed_crm(svc.crm, records=records, seed=seed, now=svc.clock.now())
        out.print(Rule("1. A sample CRM with realistic defects"))
        out.print(f"{report_seed.records_total} records (seed {seed}) in {database}")
        out.print(Rule(f"2. One agent pass under policy '{svc.policy.name}'"))
        report = svc.runner.run(svc.offline_planner(), trigger="demo")
        out.print(run_table(report))
        out.print(
            f"[bold]executed {report.count('executed')}[/] (on {report.records('executed')} records), "
            f"[bold]pending approval {report.count('queued')}[/], [bold]refused {report.count('refused')}[/]"
        )
        if report.count("refused"):
            out.print(refused_table(report, limit=6))
        pending = svc.approvals.recent(["pending"], limit=1000)
        out.print(Rule("3. A pending approval, as an approver sees it"))
        if not pending:
            out.print("Nothing needs approval under this policy.")
        else:
            showcase = _pick(pending)
            owners = {o.id: o for o in svc.crm.owners()}
            out.print(approval_panel(showcase, owners, svc.clock.now()))
            out.print(Rule("4. Act on it"))
            out.print(_next_steps(showcase, svc.policy, url), highlight=False, soft_wrap=True)
        out.print(Rule("5. A meeting for a lead, through the same policy"))
        _book_a_meeting(svc, out)


def _book_a_meeting(svc: Services, out: Console) -> None:
    """Book the first slot with Debra Jones (O002, whose calendar is a demo feed) for one of her leads."""
    lead = next(
        (
            lead
            for lead in svc.crm.iter_records("lead")
            if lead.owner_id == DEMO_REP and lead.get("email") and lead.get("country") == "US"
        ),
        None,
    )
    if lead is None:
        out.print(f"No US lead of {DEMO_REP} with an email address in this sample.")
        return
    try:
        result = svc.meetings().book(lead, requested_by="demo")
    except AgentError as error:
        out.print(f"No meeting: {error}", markup=False)
        return
    plan = result.plan
    if plan is None or result.outcome is None:
        why = result.options.explanation if result.options else None
        out.print(f"No slot for lead {lead.id}: {why or 'none in the horizon'}.", markup=False)
        return
    out.print(f"Lead {lead.id}: {meeting_phrase(plan)}.", markup=False, highlight=False)
    out.print(f"Lead's zone: {plan.lead_zone_note}.", markup=False, highlight=False)
    if result.booking is not None:
        booking = result.booking
        out.print(
            f"[bold]Booked[/] (meeting {booking.id}): recorded in the CRM as activity "
            f"{booking.crm_activity_id}, invite v{booking.sequence} written to {svc.settings.invites}.",
            highlight=False,
        )
        out.print(f"Move or cancel it: revgate meetings move {booking.id} --show", highlight=False)
    else:
        out.print(f"[bold]{result.status}[/]: {result.outcome.verdict.reason}", highlight=False, markup=True)


def _pick(pending: list[Approval]) -> Approval:
    for kind in _SHOWCASE_ORDER:
        for approval in pending:
            if approval.action.kind == kind:
                return approval
    return pending[0]


def _approver(approval: Approval, policy: Policy) -> str:
    requirement = approval_requirement(policy, approval.verdict.gates)
    for approvers in requirement.lists:
        for user in approvers:
            if user.startswith(("U", "W")):
                return user
    return "U0APPROVER"


def _next_steps(approval: Approval, policy: Policy, url: str) -> str:
    exe = shlex.quote(sys.argv[0]) if sys.argv and sys.argv[0].endswith("revgate") else "revgate"
    env = f"export DATABASE_URL={shlex.quote(url)}"
    if os.environ.get("REVGATE_POLICY"):
        env += f" REVGATE_POLICY={shlex.quote(os.environ['REVGATE_POLICY'])}"
    user = _approver(approval, policy)
    lines = [
        env,
        f"{exe} approvals list",
        f"{exe} approvals show {approval.id}",
        f"{exe} approvals approve {approval.id} --as {user}",
        f"{exe} approvals reject {approval.id} --as {user} --reason 'not the same person'",
        f"{exe} audit tail",
        f"{exe} audit verify",
    ]
    return "\n".join(lines)
