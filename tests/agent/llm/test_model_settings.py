"""The model settings: a default Sonnet-class model, an overridable API URL, the key kept secret."""

from __future__ import annotations

import pytest

from agent.errors import SettingsError
from bot.settings import DEFAULT_MODEL, load_settings


def test_the_model_defaults_to_a_sonnet_class_model_and_can_be_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().model == DEFAULT_MODEL
    assert DEFAULT_MODEL.startswith("claude-sonnet")
    monkeypatch.setenv("REVGATE_MODEL", "claude-haiku-4-5")
    assert load_settings().model == "claude-haiku-4-5"


def test_the_api_url_must_be_http_and_the_key_never_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("REVGATE_ANTHROPIC_URL", "api.example")

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert "REVGATE_ANTHROPIC_URL:" in str(error.value)
    assert "sk-ant-secret" not in str(error.value)
    monkeypatch.setenv("REVGATE_ANTHROPIC_URL", "http://127.0.0.1:9")
    settings = load_settings()
    assert settings.anthropic_url == "http://127.0.0.1:9/"
    assert "sk-ant-secret" not in repr(settings)
