"""Settings from the environment (and an optional ``.env`` file), validated at start-up.

A bad value stops start-up with a message naming the variable. Secrets are
``SecretStr`` so they never print in logs, reprs or Slack messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.errors import SettingsError

DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "policies" / "default.yaml"
DEFAULT_DATABASE_URL = "sqlite:///.revgate/revgate.db"
DEFAULT_MODEL = "claude-sonnet-5-5"


class Settings(BaseSettings):
    """Every setting revgate reads, each from the environment variable named in its alias.

    Pass overrides by variable name: ``Settings(SLACK_BOT_TOKEN="xoxb-test")``.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=False, frozen=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias=AliasChoices("DATABASE_URL"))
    """SQLAlchemy URL; ``postgresql://`` uses psycopg 3. Default: an embedded SQLite file."""
    policy_path: Path = Field(DEFAULT_POLICY, validation_alias=AliasChoices("REVGATE_POLICY"))
    crm: Literal["local"] = Field("local", validation_alias=AliasChoices("REVGATE_CRM"))
    """Which CRM to use; ``local`` is the embedded CRM (HubSpot and Salesforce come with their adapters)."""
    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    slack_api_url: str | None = Field(None, validation_alias=AliasChoices("REVGATE_SLACK_API_URL"))
    anthropic_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("ANTHROPIC_API_KEY"))
    model: str = Field(DEFAULT_MODEL, min_length=1, validation_alias=AliasChoices("REVGATE_MODEL"))
    """The Claude model the Claude planner asks (a Sonnet-class model by default)."""
    anthropic_url: str | None = Field(None, validation_alias=AliasChoices("REVGATE_ANTHROPIC_URL"))
    """Overrides the Messages API base URL (tests point it at a local fake)."""
    approvals_channel: str | None = Field(None, validation_alias=AliasChoices("REVGATE_APPROVALS_CHANNEL"))
    """Where approval cards go; overrides the policy's ``approvals_channel``."""

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("policy_path")
    @classmethod
    def _policy_exists(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"no policy file at {value}")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("a bot token starts with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp-")
        return value

    @field_validator("slack_api_url", "anthropic_url")
    @classmethod
    def _api_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        if value is not None and not value.endswith("/"):
            value += "/"
        return value


_VARIABLE = {
    name: next(iter(field.validation_alias.choices))  # type: ignore[union-attr]
    for name, field in Settings.model_fields.items()
}


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; raise ``SettingsError`` naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            loc = str(problem["loc"][0]) if problem["loc"] else "?"
            variable = _VARIABLE.get(loc, loc)
            lines.append(f"{variable}: {problem['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


__all__ = ["DEFAULT_DATABASE_URL", "DEFAULT_MODEL", "DEFAULT_POLICY", "Settings", "load_settings"]
