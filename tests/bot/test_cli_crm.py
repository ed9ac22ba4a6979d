"""``revgate crm``: checking the connection, and seeding only ever the embedded CRM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import build_cli
from tests.support.fake_hubspot import FakeHubSpot


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'revgate.db'}"}


def revgate(*args: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(build_cli(), list(args), env=env, catch_exceptions=False)


def _table_rows(output: str) -> list[list[str]]:
    """The cells of each body row of a rich table (type, id, version, link)."""
    return [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in output.splitlines()
        if line.startswith("│") and not line.startswith("│ type")
    ]


def test_check_of_the_embedded_crm_counts_owners_and_reads_each_type(env: dict[str, str]) -> None:
    assert revgate("crm", "seed", "--records", "40", env=env).exit_code == 0

    result = revgate("crm", "check", "--sample", "2", env=env)

    assert result.exit_code == 0, result.output
    assert "CRM local:" in result.output
    assert "active)" in result.output
    rows = [cells for cells in _table_rows(result.output) if cells[1] != "(none)"]
    assert sorted(cells[0] for cells in rows) == ["account"] * 2 + ["contact"] * 2 + ["lead"] * 2
    assert all(cells[2] for cells in rows), "every record shows its version"
    assert "ok: read access works" in result.output


def test_check_of_an_empty_crm_says_so_per_type(env: dict[str, str]) -> None:
    result = revgate("crm", "check", env=env)

    assert result.exit_code == 0, result.output
    assert result.output.count("(none)") == 3


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as fake:
        yield fake


def _hubspot_env(env: dict[str, str], hubspot: FakeHubSpot) -> dict[str, str]:
    return env | {
        "REVGATE_CRM": "hubspot",
        "HUBSPOT_ACCESS_TOKEN": hubspot.token,
        "HUBSPOT_PORTAL_ID": hubspot.portal_id,
        "REVGATE_HUBSPOT_URL": hubspot.url,
    }


def test_check_of_hubspot_reads_through_the_api_and_links_each_record(
    env: dict[str, str], hubspot: FakeHubSpot
) -> None:
    owner = hubspot.add_owner("Ada", "Lovelace")
    hubspot.add_owner("Old", "Timer", active=False)
    lead = hubspot.add_contact({"email": "jane@acme.io", "lifecyclestage": "lead"}, owner_id=owner)
    company = hubspot.add_company({"name": "Acme", "domain": "acme.io"})

    result = revgate("crm", "check", env=_hubspot_env(env, hubspot))

    assert result.exit_code == 0, result.output
    assert "CRM hubspot: 2 owners (1 active)" in result.output
    rows = {cells[0]: cells for cells in _table_rows(result.output)}
    assert rows["lead"][1] == lead
    assert rows["contact"][1] == "(none)"
    assert rows["account"][1] == company
    portal = hubspot.portal_id
    assert rows["account"][3] == f"https://app.hubspot.com/contacts/{portal}/record/0-2/{company}"
    assert hubspot.writes() == [], "a check never writes"


def test_check_with_a_revoked_token_fails_with_the_crms_reason(
    env: dict[str, str], hubspot: FakeHubSpot
) -> None:
    hubspot.revoke_token()

    result = revgate("crm", "check", env=_hubspot_env(env, hubspot))

    assert result.exit_code == 1
    assert "CRMAuthError" in result.output
    assert "ok: read access works" not in result.output


def test_seeding_refuses_a_remote_crm(env: dict[str, str], hubspot: FakeHubSpot) -> None:
    result = revgate("crm", "seed", env=_hubspot_env(env, hubspot))

    assert result.exit_code != 0
    assert "never writes sample data to hubspot" in result.output
    assert hubspot.requests == []
