"""The revgate command line, driven as a user would (in-process, real database)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from bot.cli import build_cli
from tests.support.stack import ROOT, STRICT_POLICY


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    cli = build_cli()

    def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def _demo_env(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}


def _counts(output: str) -> tuple[int, int, int]:
    match = re.search(r"executed (\d+) .*pending approval (\d+), refused (\d+)", output)
    assert match, output
    return int(match[1]), int(match[2]), int(match[3])


def test_demo_shows_executed_pending_and_refused_work(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("demo", "--database", str(tmp_path / "demo.db"))

    assert result.exit_code == 0, result.output
    executed, pending, refused = _counts(result.output)
    assert executed > 0
    assert pending > 0
    assert refused > 0
    assert "Blast radius" in result.output
    assert re.search(r"approvals approve [0-9a-f]{16} --as U0APPROVER", result.output)


def test_demo_under_the_strict_policy_refuses_merges_and_owner_changes(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("demo", "--database", str(tmp_path / "demo.db"), env={"REVGATE_POLICY": str(STRICT_POLICY)})

    assert result.exit_code == 0, result.output
    assert "policy 'strict'" in result.output
    table = _run_table(result.output)
    for kind in ("merge", "change_owner"):
        assert table[kind].get("queued", 0) == 0
        assert table[kind]["refused"] > 0
    assert "forbidden_actions: merge" in result.output


def _run_table(output: str) -> dict[str, dict[str, int]]:
    """The demo's 'action kind' table as {kind: {column: count}}."""
    header = next(line for line in output.splitlines() if "action kind" in line)
    columns = [c.strip() for c in re.split(r"[┃│]", header) if c.strip()][1:]
    table: dict[str, dict[str, int]] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[┃│]", line) if c.strip()]
        if len(cells) == len(columns) + 1 and cells[1:][0].isdigit():
            table[cells[0]] = dict(zip(columns, map(int, cells[1:]), strict=True))
    return table


def test_the_printed_commands_approve_and_execute_exactly_once(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    demo = run("demo", "--database", str(tmp_path / "demo.db"))
    approval_id = re.search(r"approvals approve ([0-9a-f]{16})", demo.output)[1]  # type: ignore[index]
    env = _demo_env(tmp_path)

    first = run("approvals", "approve", approval_id, "--as", "U0APPROVER", env=env)
    second = run("approvals", "approve", approval_id, "--as", "U0APPROVER", env=env)
    shown = run("approvals", "show", approval_id[:8], env=env)

    assert first.exit_code == 0, first.output
    assert "executed" in first.output
    assert second.exit_code == 1
    assert "already executed by U0APPROVER" in second.output
    assert "Status: executed" in shown.output


def test_a_rejection_without_a_reason_is_refused_and_changes_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    demo = run("demo", "--database", str(tmp_path / "demo.db"))
    approval_id = re.search(r"approvals approve ([0-9a-f]{16})", demo.output)[1]  # type: ignore[index]
    env = _demo_env(tmp_path)

    refused = run("approvals", "reject", approval_id, "--as", "U0APPROVER", env=env)
    still = run("approvals", "show", approval_id, env=env)
    rejected = run(
        "approvals", "reject", approval_id, "--as", "U0APPROVER", "--reason", "two people", env=env
    )

    assert refused.exit_code == 2
    assert "needs a reason" in refused.output
    assert "Status: pending" in still.output
    assert rejected.exit_code == 0
    assert "two people" in rejected.output


def test_someone_not_an_approver_is_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    demo = run("demo", "--database", str(tmp_path / "demo.db"))
    approval_id = re.search(r"approvals approve ([0-9a-f]{16})", demo.output)[1]  # type: ignore[index]

    result = run("approvals", "approve", approval_id, "--as", "U0INTERN", env=_demo_env(tmp_path))

    assert result.exit_code == 1
    assert "not an approver" in result.output


def test_audit_verify_catches_a_row_edited_by_hand(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("demo", "--database", str(tmp_path / "demo.db"))
    env = _demo_env(tmp_path)
    assert run("audit", "verify", env=env).exit_code == 0
    engine = create_engine(env["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET actor = 'U_MALLORY' WHERE seq = 3"))
    engine.dispose()

    result = run("audit", "verify", env=env)

    assert result.exit_code == 1
    assert "audit event 3" in result.output


def test_policy_check_names_each_error_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "allowed_actions: [add_note]\nforbidden_actions: [delet]\nbulk_operations: {max_records: -1}\n"
    )

    result = run("policy", "check", str(bad))

    assert result.exit_code == 2
    assert f"{bad}:2:" in result.output
    assert "did you mean 'delete'" in result.output
    assert f"{bad}:3:" in result.output


@pytest.mark.parametrize("name", ["default.yaml", "strict.yaml"])
def test_policy_check_accepts_the_shipped_policies(run, name: str) -> None:  # type: ignore[no-untyped-def]
    result = run("policy", "check", str(ROOT / "policies" / name))

    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_policy_explain_prints_verdict_reason_and_rule(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    action = {
        "id": "a1",
        "kind": "delete",
        "object_type": "lead",
        "targets": [{"record_id": "L1", "version": "1"}],
        "rationale": "junk",
    }
    path = tmp_path / "action.json"
    path.write_text(json.dumps(action))

    result = run("policy", "explain", str(path))

    assert result.exit_code == 0, result.output
    assert "verdict: deny" in result.output
    assert "rule:    forbidden_actions: delete" in result.output


def test_policy_explain_rejects_a_malformed_action(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "action.json"
    path.write_text(
        json.dumps(
            {
                "id": "a1",
                "kind": "update_lead_status",
                "object_type": "lead",
                "targets": [
                    {
                        "record_id": "L1",
                        "version": "1",
                        "changes": {"owner_id": {"before": None, "after": "O1"}},
                    }
                ],
                "rationale": "sneaky",
            }
        )
    )

    result = run("policy", "explain", str(path))

    assert result.exit_code == 2
    assert "may change only 'status'" in result.output


def test_a_bad_setting_stops_with_the_variable_name(run) -> None:  # type: ignore[no-untyped-def]
    result = run("approvals", "list", env={"REVGATE_CRM": "pipedrive"})

    assert result.exit_code == 2
    assert "REVGATE_CRM" in result.output


def test_a_broken_policy_file_stops_start_up_with_its_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.yaml"
    broken.write_text("allowed_actions: [add_note\n")

    result = run("approvals", "list", env={"REVGATE_POLICY": str(broken)})

    assert result.exit_code == 2
    assert "line" in result.output


def test_hygiene_dry_run_plans_without_writing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = _demo_env(tmp_path)
    assert run("crm", "seed", "--records", "80", env=env).exit_code == 0

    result = run("hygiene", "run", "--dry-run", env=env)
    listed = run("approvals", "list", env=env)

    assert result.exit_code == 0, result.output
    assert "(dry run)" in result.output
    assert "planned" in result.output
    assert "No approvals" in listed.output


def test_seeding_a_crm_that_has_data_is_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = _demo_env(tmp_path)
    run("crm", "seed", "--records", "30", env=env)

    again = run("crm", "seed", "--records", "30", env=env)

    assert again.exit_code == 2
    assert "already has records" in again.output


def test_db_upgrade_brings_a_new_database_to_head(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}

    upgraded = run("db", "upgrade", env=env)
    current = run("db", "current", env=env)

    assert upgraded.exit_code == 0, upgraded.output
    head = re.search(r"head: (\w+)", current.output)
    assert head
    assert f"current: {head[1]}" in current.output
