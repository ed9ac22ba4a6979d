"""``revgate meetings book / list / move / cancel / sync`` on the embedded CRM, with the real clock.

The lead and the rep are both in New York, so a slot inside both parties' hours always exists and
the default policy books it at once; the assertions hold whatever the day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agent.models import Owner
from bot.cli import build_cli
from bot.container import build_services
from bot.settings import Settings

ROUTING = """timezone: America/New_York
rules:
  - {name: everyone, then: {pool: sales}}
  - {name: catch-all, then: {queue: triage}}
pools:
  sales:
    members:
      - {owner: OA, timezone: America/New_York}
queues: {triage: {}}
"""
_ID = re.compile(r"meeting ([0-9a-f]{16})")


@dataclass
class Cli:
    env: dict[str, str]
    invites: Path

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(build_cli(), list(args), env=self.env, catch_exceptions=False)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "routing.yaml").write_text(ROUTING)
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "REVGATE_ROUTING": str(tmp_path / "routing.yaml"),
        "REVGATE_INVITES": f"folder:{tmp_path / 'invites'}",
    }
    svc = build_services(Settings(DATABASE_URL=env["DATABASE_URL"]))  # type: ignore[call-arg]
    try:
        crm = svc.crm
        crm.create_owner(Owner(id="OA", name="Ann Rep", email="ann@acme.io"))  # type: ignore[attr-defined]
        fields = {"first_name": "Jane", "last_name": "Doe", "email": "jane@prospect.io", "state": "NY"}
        crm.create_record("lead", {**fields, "country": "US"}, owner_id="OA", record_id="L1")  # type: ignore[attr-defined]
        crm.create_record(  # type: ignore[attr-defined]
            "lead",
            {**fields, "email": "big@bigco.io", "annual_revenue": 9_000_000},
            owner_id="OA",
            record_id="L2",
        )
    finally:
        svc.close()
    return Cli(env, tmp_path / "invites")


def test_book_list_move_and_cancel_keep_the_invites_in_step(cli: Cli) -> None:
    booked = cli("meetings", "book", "jane@prospect.io")
    assert booked.exit_code == 0, booked.output
    assert "Booked meeting" in booked.output
    match = _ID.search(booked.output)
    assert match is not None
    meeting = match[1]
    assert "America/New_York for Ann Rep" in booked.output

    listed = cli("meetings", "list")
    assert meeting in listed.output
    assert "booked" in listed.output

    moved = cli("meetings", "move", meeting, "--slot", "1")
    assert moved.exit_code == 0, moved.output
    assert f"Moved meeting {meeting}" in moved.output
    assert "invite v1 sent" in moved.output

    cancelled = cli("meetings", "cancel", meeting, "--reason", "the lead asked for next month")
    assert cancelled.exit_code == 0, cancelled.output
    assert "invite v2 sent (cancellation)" in cancelled.output

    again = cli("meetings", "cancel", meeting, "--reason", "twice")
    assert again.exit_code == 1
    assert "is cancelled (the lead asked for next month)" in again.output

    assert sorted(p.name for p in cli.invites.iterdir()) == [
        f"{meeting}@revgate-0-request.ics",
        f"{meeting}@revgate-1-request.ics",
        f"{meeting}@revgate-2-cancel.ics",
    ]
    assert meeting not in cli("meetings", "list").output
    assert meeting in cli("meetings", "list", "--all").output
    assert cli("meetings", "sync").output.startswith("0 meeting(s) out of step")


def test_a_high_value_lead_is_sent_for_approval_and_nothing_is_booked(cli: Cli) -> None:
    result = cli("meetings", "book", "L2")

    assert result.exit_code == 0, result.output
    assert "Sent for approval" in result.output
    assert "high_value_changes.min=1,000,000" in result.output
    assert not cli.invites.exists()
    assert "No meetings." in cli("meetings", "list").output


def test_a_time_outside_the_reps_hours_is_sent_for_approval(cli: Cli) -> None:
    result = cli("meetings", "book", "L1", "--at", "2030-01-07T20:00")  # a Monday, 20:00 New York

    assert result.exit_code == 0, result.output
    assert "Sent for approval" in result.output
    assert "Mon 07 Jan 20:00 America/New_York is outside Ann Rep's working hours" in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("meetings", "book", "L1", "--at", "next tuesday"), 2, "is not a date and time like"),
        (("meetings", "book", "nobody@nowhere.io"), 1, "no lead with id or email"),
        (("meetings", "move", "0000000000000000", "--slot", "1"), 1, "no meeting 0000000000000000"),
        (("meetings", "cancel", "0000000000000000", "--reason", " "), 2, "a cancellation needs a reason"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    cli: Cli, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli(*args)

    assert result.exit_code == code, result.output
    assert message in result.output
    assert "No meetings." in cli("meetings", "list").output
