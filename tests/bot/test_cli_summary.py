"""``revgate summary`` driven as a user would: seeded CRM, a hygiene pass, then the summary."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner, Result

from agent.store.rows import QualitySnapshotRow
from bot.cli import build_cli
from tests.support.fake_slack import FakeSlack

Invoke = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    cli = build_cli()
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'revgate.db'}"}

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), env={**base, **(env or {})}, catch_exceptions=False)

    return invoke


@pytest.fixture
def seeded(run: Invoke) -> Invoke:
    assert run("crm", "seed", "--records", "120").exit_code == 0
    assert run("hygiene", "run", "--planner", "offline").exit_code == 0
    return run


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _today(zone: str) -> str:
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date().isoformat()


def test_summary_prints_the_score_the_checks_and_what_waits(seeded: Invoke) -> None:
    result = seeded("summary", "--tz", "Europe/Berlin")

    assert result.exit_code == 0, result.output
    assert f"Data hygiene, {_today('Europe/Berlin')} (Europe/Berlin)" in result.output
    assert re.search(r"Data quality \d+\.\d / 100", result.output)
    assert "exact-email duplicates" in result.output
    assert "Waiting for a decision (" in result.output
    assert "forbidden_actions: delete" in result.output
    waiting = int(re.search(r"(\d+) request\(s\) waiting for a decision", result.output)[1])  # type: ignore[index]
    assert waiting > 0


def test_summary_stores_the_days_score_once(seeded: Invoke, tmp_path: Path) -> None:
    assert seeded("summary").exit_code == 0
    assert seeded("summary").exit_code == 0

    engine = create_engine(f"sqlite:///{tmp_path / 'revgate.db'}")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(QualitySnapshotRow)).scalar_one() == 1
    engine.dispose()


def test_an_old_date_renders_without_a_score(seeded: Invoke) -> None:
    old = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()

    result = seeded("summary", "--date", old)

    assert result.exit_code == 0, result.output
    assert f"Data hygiene, {old} (UTC)" in result.output
    assert "not measured that day" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "2026-02-30"), "--date must be YYYY-MM-DD"),
        (("--date", "yesterday"), "--date must be YYYY-MM-DD"),
        (("--tz", "Mars/Olympus_Mons"), "unknown time zone 'Mars/Olympus_Mons'"),
        (("--tz", "Europe"), "unknown time zone 'Europe'"),
        (("--date", "2999-01-01"), "is after today"),
        (("--post",), "--post needs --channel"),
        (("--channel", "C0SUMMARY"), "--channel is only used with --post"),
    ],
)
def test_bad_input_gets_a_clear_error_and_exit_code_2(
    run: Invoke, args: tuple[str, ...], message: str
) -> None:
    result = run("summary", *args)

    assert result.exit_code == 2
    assert message in result.output


def test_post_without_a_slack_token_is_bad_input(seeded: Invoke) -> None:
    result = seeded("summary", "--post", "--channel", "C0SUMMARY")

    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN" in result.output


def test_post_sends_the_same_summary_to_slack(seeded: Invoke, slack: FakeSlack) -> None:
    env: dict[str, Any] = {"SLACK_BOT_TOKEN": "xoxb-test", "REVGATE_SLACK_API_URL": slack.base_url}

    result = seeded("summary", "--post", "--channel", "C0SUMMARY", env=env)

    assert result.exit_code == 0, result.output
    messages = slack.messages("C0SUMMARY")
    (summary,) = [m for m in messages.values() if not m.get("upload")]
    assert summary["text"] in " ".join(result.output.split()), "the terminal and Slack say the same"
    (chart,) = [m for m in messages.values() if m.get("upload")]
    assert chart["thread_ts"] == summary["ts"]
    assert f"posted to C0SUMMARY at {summary['ts']}, chart {chart['files'][0]['id']}" in result.output
