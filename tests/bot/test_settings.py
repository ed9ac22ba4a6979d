"""Settings: defaults, validation that names the variable, secrets kept secret."""

from __future__ import annotations

import pytest

from agent.errors import SettingsError
from bot.settings import DEFAULT_DATABASE_URL, DEFAULT_POLICY, load_settings


def test_defaults_need_nothing_set() -> None:
    settings = load_settings()

    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.policy_path == DEFAULT_POLICY
    assert settings.crm == "local"
    assert settings.slack_bot_token is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REVGATE_CRM", "pipedrive"),
        ("DATABASE_URL", "mysql://root@localhost/revgate"),
        ("REVGATE_POLICY", "/nowhere/policy.yaml"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token"),
        ("REVGATE_SLACK_API_URL", "slack.local"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert f"{variable}:" in str(error.value)
    assert "xoxp-user-token" not in str(error.value)


def test_secrets_never_show_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")

    settings = load_settings()

    assert "very-secret" not in repr(settings)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret"


def test_slack_api_url_gets_a_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVGATE_SLACK_API_URL", "http://127.0.0.1:8888/api")

    assert load_settings().slack_api_url == "http://127.0.0.1:8888/api/"
