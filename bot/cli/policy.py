"""``revgate policy``: check a policy file, explain a verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from agent.facts import gather_facts
from agent.models import ProposedAction, Record
from agent.policy import evaluate
from agent.policy_file import check_policy_file, load_policy
from agent.store.database import Database
from bot.cli.common import EXIT_BAD_INPUT, console, fail, reported_errors, settings
from bot.container import build_services

app = typer.Typer(help="Check policy files and explain verdicts.", no_args_is_help=True)


@app.command()
def check(path: Path) -> None:
    """Report every problem in a policy file, each with its line."""
    if not path.is_file():
        fail(f"no such file: {path}")
    problems = check_policy_file(path)
    out = console()
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        out.print(
            f"{path}:{problem.line or 0}: [{style}]{problem.severity}[/]: {problem.message}", highlight=False
        )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        out.print(f"[red]{len(errors)} error(s)[/], {len(problems) - len(errors)} warning(s)")
        raise typer.Exit(EXIT_BAD_INPUT)
    out.print(f"[green]ok[/]: {path} ({len(problems)} warning(s))")


@app.command()
def explain(
    action_file: Annotated[Path, typer.Argument(help="A ProposedAction as JSON.")],
    policy_path: Annotated[Path | None, typer.Option("--policy", help="Default: REVGATE_POLICY.")] = None,
) -> None:
    """Print the verdict for an action, its reason and its rule.

    The facts (owner, values, record count) come from the CRM when the records are
    in it; otherwise from the ``before`` values in the file, and the output says so.
    """
    if not action_file.is_file():
        fail(f"no such file: {action_file}")
    try:
        action = ProposedAction.model_validate(json.loads(action_file.read_text()))
    except json.JSONDecodeError as error:
        fail(f"{action_file}: not JSON: {error}")
    except ValidationError as error:
        fail(f"{action_file}: not a valid action:\n{error}")
    config = settings()
    with reported_errors():
        policy = load_policy(policy_path or config.policy_path)
        records: dict[str, Record] = {}
        source = "the action's before values (records not in the CRM)"
        database = Database(config.database_url, auto_upgrade=False)
        has_crm = database.is_current()
        database.dispose()
        if has_crm:
            svc = build_services(config, policy=policy)
            records = svc.crm.get_many(action.object_type, action.record_ids)
            svc.close()
            if records:
                source = f"the CRM ({len(records)} of {len(action.targets)} records found)"
        if not records:
            records = _records_from_action(action)
        verdict = evaluate(policy, action, gather_facts(action, records, policy))
    out = console()
    style = {"allow": "green", "require_approval": "yellow", "deny": "red"}[verdict.outcome]
    out.print(f"verdict: [{style}]{verdict.outcome}[/]")
    out.print(f"reason:  {verdict.reason}")
    out.print(f"rule:    {verdict.rule}")
    if verdict.gates:
        out.print(f"gates:   {', '.join(verdict.gates)}")
    out.print(f"policy:  {policy.name}; facts from {source}", style="dim")


def _records_from_action(action: ProposedAction) -> dict[str, Record]:
    from datetime import UTC, datetime

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    records = {}
    for target in action.targets:
        fields = {name: change.before for name, change in target.changes.items() if name != "owner_id"}
        owner = target.changes["owner_id"].before if "owner_id" in target.changes else None
        records[target.record_id] = Record(
            object_type=action.object_type,
            id=target.record_id,
            version=target.version,
            owner_id=str(owner) if owner else None,
            fields=fields,
            created_at=epoch,
            updated_at=epoch,
        )
    return records
