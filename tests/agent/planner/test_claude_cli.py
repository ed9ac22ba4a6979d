"""``revgate hygiene run --planner claude|offline|auto``, driven as a user would, against a local fake API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import build_cli
from bot.container import build_services
from bot.settings import Settings
from tests.support.fake_anthropic import FakeAnthropic, tool_use, turn


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def _invoke(*args: str, env: dict[str, str]) -> str:
    result = CliRunner().invoke(
        build_cli(), list(args), env={"COLUMNS": "200", **env}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_claude_planner_reports_its_calls_under_the_run_table(
    tmp_path: Path, fake: FakeAnthropic
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    _invoke("crm", "seed", "--records", "120", env=env)
    _add_a_case_for_the_model(env["DATABASE_URL"])
    fake.default = turn(tool_use("skip_cases", {"case_ids": [f"c{n}" for n in range(1, 40)]}))
    env |= {
        "ANTHROPIC_API_KEY": "sk-test",
        "REVGATE_ANTHROPIC_URL": fake.base_url,
        "REVGATE_MODEL": "claude-haiku-4-5",
    }

    output = _invoke("hygiene", "run", "--planner", "claude", env=env)

    assert len(fake.requests) >= 1
    assert fake.requests[0].body["model"] == "claude-haiku-4-5"
    assert "Model: claude-haiku-4-5, " in output
    assert "call(s) on" in output


def _add_a_case_for_the_model(url: str) -> None:
    """A title the keyword table cannot place: the seed's own defects are all the rules' to fix."""
    services = build_services(Settings(DATABASE_URL=url))
    try:
        person = {"first_name": "Rain", "last_name": "Maker", "email": "rain@maker.io", "title": "Rainmaker"}
        services.crm.create_record("lead", person)
    finally:
        services.close()


def test_auto_without_a_key_is_the_offline_planner(tmp_path: Path, fake: FakeAnthropic) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "REVGATE_ANTHROPIC_URL": fake.base_url}
    _invoke("crm", "seed", "--records", "60", env=env)

    output = _invoke("hygiene", "run", env=env)

    assert fake.requests == []
    assert "Model:" not in output


def test_claude_without_a_key_finishes_on_the_rules_and_says_so(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    _invoke("crm", "seed", "--records", "60", env=env)
    _add_a_case_for_the_model(env["DATABASE_URL"])

    output = _invoke("hygiene", "run", "--planner", "claude", "--dry-run", env=env)

    assert "finished on the offline rules: no ANTHROPIC_API_KEY is set" in output


def test_an_unknown_planner_is_bad_input(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    result = CliRunner().invoke(build_cli(), ["hygiene", "run", "--planner", "gpt"], env=env)

    assert result.exit_code == 2
