"""``revgate meetings slots`` on the embedded CRM, seeded as a user would, with a calendar feed per rep.

The command reads the real clock, so the assertions hold whatever the day: the number of rows,
and every lead-local time inside 09:00-17:00 unless the row is flagged.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agent.models import Record
from bot.cli import build_cli
from bot.container import build_services
from bot.settings import Settings
from tests.support.stack import ROOT

ROUTING = """timezone: America/New_York
rules:
  - name: everyone
    then: {{pool: sales}}
  - name: catch-all
    then: {{queue: triage}}
pools:
  sales:
    members:
      - {{owner: O004, timezone: Europe/London{o004}}}
      - {{owner: O002, timezone: America/New_York, calendar: calendars/debra-jones.ics}}
      - {{owner: O005, timezone: Europe/Berlin}}
queues:
  triage: {{channel: "#lead-triage"}}
"""
_TIME = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


@dataclass
class Cli:
    env: dict[str, str]
    routing: Path

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(build_cli(), list(args), env=self.env, catch_exceptions=False)

    def write_routing(self, o004: str = "") -> None:
        self.routing.write_text(ROUTING.format(o004=o004))

    def lead_of(self, owner: str | None) -> Record:
        """The first seeded lead with that owner (``None``: unowned)."""
        settings = Settings(DATABASE_URL=self.env["DATABASE_URL"])  # type: ignore[call-arg]
        svc = build_services(settings)
        try:
            return next(lead for lead in svc.crm.iter_records("lead") if lead.owner_id == owner)
        finally:
            svc.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "calendars").mkdir()
    shutil.copy(ROOT / "calendars" / "debra-jones.ics", tmp_path / "calendars")
    built = Cli(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "REVGATE_ROUTING": str(tmp_path / "routing.yaml"),
        },
        tmp_path / "routing.yaml",
    )
    built.write_routing()
    seeded = built("crm", "seed", "--records", "40")
    assert seeded.exit_code == 0, seeded.output
    return built


def _rows(output: str) -> list[list[str]]:
    """The cells of each body row of the slots table."""
    rows = [line.strip()[1:-1] for line in output.splitlines() if line.startswith("│")]
    return [[cell.strip() for cell in row.split("│")] for row in rows]


def _inside_nine_to_five(cell: str) -> bool:
    match = _TIME.search(cell)
    assert match is not None, cell
    start, end = int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])
    return start >= 9 * 60 and end <= 17 * 60


def test_slots_for_a_lead_show_its_zone_the_rep_and_each_time_in_both_zones(cli: Cli) -> None:
    lead = cli.lead_of("O002")

    result = cli("meetings", "slots", lead.id)

    assert result.exit_code == 0, result.output
    assert f"Lead {lead.id} (" in result.output
    assert re.search(
        r"Lead's zone: \S+ \(from (state|phone|country), (high|medium|low) confidence\): ", result.output
    )
    assert (
        "Rep: Debra Jones (O002), 09:00-17:00 America/New_York (pool sales); calendar feed" in result.output
    )
    assert "rep (America/New_York)" in result.output
    assert "lead (" in result.output
    rows = _rows(result.output)
    assert [row[0] for row in rows] == ["1", "2", "3"]
    for _number, rep, lead_local, utc, note in rows:
        assert _inside_nine_to_five(rep), rep  # the rep's own hours, always
        assert _inside_nine_to_five(lead_local) or note == "outside the lead's business hours"
        assert _TIME.search(utc)


def test_options_change_the_duration_and_the_number_of_slots(cli: Cli) -> None:
    email = cli.lead_of("O002").fields["email"]
    assert isinstance(email, str)

    result = cli("meetings", "slots", email.upper(), "--duration", "45", "--count", "5", "--buffer", "0")

    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert len(rows) == 5
    for row in rows:
        match = _TIME.search(row[1])
        assert match is not None
        minutes = (int(match[3]) * 60 + int(match[4])) - (int(match[1]) * 60 + int(match[2]))
        assert minutes == 45


def test_an_owner_away_for_the_whole_horizon_gives_way_to_the_next_member(cli: Cli) -> None:
    today = date.today()
    cli.write_routing(
        f", out_of_office: [{{from: {today - timedelta(days=1)}, to: {today + timedelta(days=40)}}}]"
    )
    lead = cli.lead_of("O004")

    result = cli("meetings", "slots", lead.id)

    assert result.exit_code == 0, result.output
    assert "Owner Brandon Wells (O004) is out of office until" in result.output
    assert "; proposing Debra Jones (O002) from pool sales." in result.output
    assert len(_rows(result.output)) == 3


def test_an_unowned_lead_must_be_routed_first(cli: Cli) -> None:
    lead = cli.lead_of(None)

    result = cli("meetings", "slots", lead.id)

    assert result.exit_code == 1
    assert f"lead {lead.id} has no owner: route it first" in result.output


def test_an_unknown_lead_is_refused(cli: Cli) -> None:
    result = cli("meetings", "slots", "nobody@nowhere.example")

    assert result.exit_code == 1
    assert "no lead with id or email 'nobody@nowhere.example'" in result.output


def test_an_unreadable_feed_names_the_owner_and_the_file(cli: Cli) -> None:
    (cli.routing.parent / "calendars" / "debra-jones.ics").unlink()

    result = cli("meetings", "slots", cli.lead_of("O002").id)

    assert result.exit_code == 1
    assert "the calendar of O002 (calendars/debra-jones.ics) cannot be read" in result.output
