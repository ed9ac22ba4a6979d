"""``revgate crm``: checking the connection, and seeding only ever the embedded CRM."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import build_cli


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
