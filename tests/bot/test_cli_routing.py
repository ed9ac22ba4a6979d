"""``revgate route-lead`` and ``revgate routing``, driven as a user would (in-process, real database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from agent.models import Owner, Record
from agent.store.rows import RoutingAssignmentRow, RoutingPoolRow
from bot.cli import build_cli
from bot.container import Services, build_services
from bot.settings import Settings
from tests.support.fakes import FixedClock, sequential_ids
from tests.support.stack import ROOT

ALWAYS = 'hours: "00:00-24:00", days: [mon, tue, wed, thu, fri, sat, sun]'
ROUTING = f"""timezone: UTC
rules:
  - name: north-america
    when: {{field: country, in: [US, CA]}}
    then: {{pool: na}}
  - name: catch-all
    then: {{queue: triage}}
pools:
  na:
    members:
      - {{owner: OA, weight: 2, {ALWAYS}}}
      - {{owner: OB, weight: 1, {ALWAYS}}}
queues:
  triage: {{channel: "#lead-triage"}}
"""


@dataclass
class Cli:
    env: dict[str, str]
    routing: Path

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(build_cli(), list(args), env=self.env, catch_exceptions=False)

    def services(self, clock: FixedClock | None = None) -> Services:
        settings = Settings(DATABASE_URL=self.env["DATABASE_URL"], REVGATE_ROUTING=str(self.routing))  # type: ignore[call-arg]
        return build_services(settings, clock=clock, new_id=sequential_ids("c"))


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING)
    built = Cli(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "REVGATE_ROUTING": str(routing)}, routing
    )
    svc = built.services()
    svc.crm.create_owner(Owner(id="OA", name="Ann Rep", email="ann@acme.io"))
    svc.crm.create_owner(Owner(id="OB", name="Bob Rep", email="bob@acme.io"))
    svc.close()
    return built


def _lead(cli: Cli, owner_id: str | None = None, **fields: object) -> Record:
    svc = cli.services()
    try:
        base: dict[str, object] = {"first_name": "Jane", "last_name": "Doe", "status": "New", "country": "US"}
        return svc.crm.create_record("lead", {**base, **fields}, owner_id=owner_id)  # type: ignore[arg-type]
    finally:
        svc.close()


def _state(cli: Cli, lead: Record) -> tuple[str | None, int, int]:
    """The lead's owner, the assignment rows and the pool rows."""
    svc = cli.services()
    try:
        current = svc.crm.get("lead", lead.id)
        assert current is not None
        with svc.database.reading() as session:
            assignments = session.scalar(select(func.count()).select_from(RoutingAssignmentRow)) or 0
            pools = session.scalar(select(func.count()).select_from(RoutingPoolRow)) or 0
        return current.owner_id, assignments, pools
    finally:
        svc.close()


def test_route_lead_assigns_an_unowned_lead_and_says_by_which_rule(cli: Cli) -> None:
    lead = _lead(cli, email="jane@initech.example")

    result = cli("route-lead", "Jane@Initech.example")

    assert result.exit_code == 0, result.output
    assert f"Lead {lead.id} (Jane Doe <jane@initech.example>)." in result.output
    assert "Rule north-america: Ann Rep from pool na." in result.output
    assert "Assigned to Ann Rep. SLA: work it by" in result.output
    assert _state(cli, lead) == ("OA", 1, 1)


def test_route_lead_dry_run_explains_and_writes_nothing(cli: Cli) -> None:
    lead = _lead(cli, email="jane@initech.example")

    result = cli("route-lead", lead.id, "--explain", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "Rule path: north-america: matched (country in [US, CA]: 'US')" in result.output
    assert "Pool na credits before the pick: OA 0, OB 0" in result.output
    assert "Dry run: it would go to Ann Rep; nothing was written." in result.output
    assert _state(cli, lead) == (None, 0, 0)  # no owner, no assignment, not even the pool's turn


def test_route_lead_for_an_owned_lead_waits_for_approval(cli: Cli) -> None:
    svc = cli.services()
    svc.crm.create_owner(Owner(id="O1", name="Olga One", email="o1@acme.io"))
    svc.close()
    lead = _lead(cli, email="jane@initech.example", owner_id="O1")

    result = cli("route-lead", lead.id, "--as", "U0ASKER")

    assert result.exit_code == 0, result.output
    assert "Needs approval (requires_approval: change_owner)" in result.output
    assert "from Olga One to Ann Rep" in result.output
    assert _state(cli, lead)[0] == "O1"


def test_route_lead_for_an_unknown_lead_exits_1_naming_it(cli: Cli) -> None:
    result = cli("route-lead", "ghost@acme.io")

    assert result.exit_code == 1
    assert "no lead with id or email 'ghost@acme.io'" in result.output


def test_route_lead_with_a_broken_routing_file_names_the_line(cli: Cli) -> None:
    lead = _lead(cli, email="jane@initech.example")
    cli.routing.write_text(ROUTING.replace("weight: 2,", "weight: 0,"))

    result = cli("route-lead", lead.id)

    assert result.exit_code == 2
    assert "line 11: error: pools.na.members.0.weight" in result.output
    assert _state(cli, lead) == (None, 0, 0)


def test_routing_check_accepts_the_shipped_routing_file(cli: Cli) -> None:
    result = cli("routing", "check", str(ROOT / "routing.yaml"))

    assert result.exit_code == 0, result.output
    assert "ok:" in result.output
    assert "6 rules, 3 pools" in result.output


def test_routing_check_defaults_to_the_configured_file(cli: Cli) -> None:
    result = cli("routing", "check")

    assert result.exit_code == 0, result.output
    assert f"ok: {cli.routing}: 2 rules, 1 pools, 0 territories (0 warning(s))" in result.output


def test_routing_check_names_each_error_line_and_exits_2(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        ROUTING.replace("then: {pool: na}", "then: {pool: na, colour: red}").replace(
            'hours: "00:00-24:00", days', 'hours: "9 to 5", days', 1
        )
    )

    result = cli("routing", "check", str(broken))

    assert result.exit_code == 2
    assert f"{broken}:5: error: unknown key 'colour' in rules.0.then" in result.output
    assert f"{broken}:11: error: pools.na.members.0.hours" in result.output
    assert "2 error(s), 0 warning(s)" in result.output


def test_routing_check_warns_about_overlapping_territories_and_exits_0(cli: Cli, tmp_path: Path) -> None:
    overlapping = tmp_path / "overlap.yaml"
    overlapping.write_text(
        ROUTING
        + "territories:\n"
        + "  - {name: usa, team: na, country: [US]}\n"
        + "  - {name: americas, team: na, country: [US, CA]}\n"
    )

    result = cli("routing", "check", str(overlapping))

    assert result.exit_code == 0, result.output
    assert f"{overlapping}:17: warning: territories usa and americas" in result.output
    assert "(1 warning(s))" in result.output


def test_routing_check_of_a_missing_file_says_so(cli: Cli, tmp_path: Path) -> None:
    result = cli("routing", "check", str(tmp_path / "nope.yaml"))

    assert result.exit_code == 2
    assert "no such file" in result.output


def test_routing_tick_reminds_the_owner_of_a_lead_not_worked_in_time(cli: Cli) -> None:
    lead = _lead(cli, email="jane@initech.example")
    routed_at = datetime.now(UTC) - timedelta(hours=1)
    svc = cli.services(clock=FixedClock(routed_at))
    svc.routing().route(lead.id, requested_by="U1")
    svc.close()

    first = cli("routing", "tick")
    second = cli("routing", "tick")

    assert first.exit_code == 0, first.output
    assert "SLA tick: 0 started, 0 worked, 1 reminded, 0 escalated, 0 reassigned" in first.output
    assert "0 reminded, 1 escalated" in second.output  # 60 working minutes have passed too
