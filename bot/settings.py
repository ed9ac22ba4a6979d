"""Settings from the environment (and an optional ``.env`` file), validated at start-up.

A bad value stops start-up with a message naming the variable. Secrets are
``SecretStr`` so they never print in logs, reprs or Slack messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from email_validator import EmailNotValidError, validate_email
from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from agent.errors import SettingsError
from bot.invite_senders import DEFAULT_INVITES, InviteFolder, SmtpServer, parse_invites

DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "policies" / "default.yaml"
DEFAULT_ROUTING = Path(__file__).resolve().parent.parent / "routing.yaml"
DEFAULT_DATABASE_URL = "sqlite:///.revgate/revgate.db"
DEFAULT_MODEL = "claude-sonnet-5-5"
HUBSPOT_API = "https://api.hubapi.com"
HUBSPOT_APP = "https://app.hubspot.com"
SALESFORCE_LOGIN = "https://login.salesforce.com"
DEFAULT_HYGIENE_CRON = "0 7 * * *"
"""Daily at 07:00, an hour before the default morning summary, so the summary shows today's run."""
DEFAULT_ENRICHMENT_CRON = "15 * * * *"
"""Hourly at a quarter past, clear of the hygiene run on the hour."""
DEFAULT_SUMMARY_TIME = time(8, 0)

_CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]*|[CG][A-Z0-9]{8,})$")
MAX_CHANNEL_CHARS = 72
"""``summary:<channel>`` names the job's claims, in a column of 80 characters."""


@dataclass(frozen=True)
class SummaryChannel:
    """Where a daily summary goes, and when: ``at`` o'clock local time in ``timezone``."""

    channel: str
    timezone: ZoneInfo
    at: time


_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
"""Crontab numbering: 0 (and 7) is Sunday."""
_APS_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab(expr: str, timezone: tzinfo) -> CronTrigger:
    """A trigger for a standard 5-field crontab line, read in ``timezone``.

    Not ``CronTrigger.from_crontab`` as is: APScheduler 3 numbers weekdays from
    Monday = 0 (its docstring and agronholm/apscheduler#286), so ``0 7 * * 1-5``
    would fire Tuesday to Saturday. Numbered weekdays are translated to names
    here (names pass through). As in APScheduler, a day of month and a day of
    week both given must both match (classic cron fires when either does).

    Raises:
        ValueError: the line is not a valid crontab.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"wrong number of fields: got {len(fields)}, expected 5")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekday_names(weekday),
        timezone=timezone,
    )


def _weekday_names(field: str) -> str:
    if not any(char.isdigit() for char in field):
        return field  # "*", or names ("mon-fri") that mean the same to both
    days: set[str] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            first, last = 0, 6
        else:
            start, dash, end = base.partition("-")
            if not start.isdigit() or (dash and not end.isdigit()):
                raise ValueError(f"day of week {part!r}: use numbers 0-7 or names, not both")
            first = int(start)
            last = int(end) if dash else (6 if step else first)
        if not 0 <= first <= last <= 7 or (step and not step.isdigit()) or step == "0":
            raise ValueError(f"day of week {part!r} is out of range 0-7")
        days |= {_CRON_WEEKDAYS[n % 7] for n in range(first, last + 1, int(step or 1))}
    return ",".join(name for name in _APS_WEEKDAYS if name in days)


def validate_crontab(value: str) -> str:
    """A 5-field crontab (``minute hour day month day_of_week``; 0 or 7 is Sunday)."""
    value = " ".join(value.split())
    try:
        crontab(value, ZoneInfo("UTC"))
    except ValueError as error:
        raise ValueError(f"not a 5-field crontab ({error})") from None
    return value


def parse_clock_time(value: str) -> time:
    """``HH:MM`` on a 24-hour clock."""
    match = _CLOCK_TIME.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (24-hour)")
    return time(int(match[1]), int(match[2]))


def parse_summary_channels(value: str, *, timezone: ZoneInfo, at: time) -> tuple[SummaryChannel, ...]:
    """``#a, #b=Europe/Paris@09:00, #c@07:30, #d=Asia/Tokyo``: zone and time default to the arguments."""
    channels: list[SummaryChannel] = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        channel, _, when = entry.partition("=")
        if "@" in channel:  # "#c@07:30": a time without a zone
            channel, _, clock = channel.partition("@")
            zone_name = ""
        else:
            zone_name, _, clock = when.partition("@")
        channel = channel.strip()
        if not _CHANNEL.match(channel) or len(channel) > MAX_CHANNEL_CHARS:
            raise ValueError(f"{entry!r}: a channel is #name (lower case) or a channel id, then =Zone@HH:MM")
        zone = timezone
        if zone_name.strip():
            try:
                zone = ZoneInfo(zone_name.strip())
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{entry!r}: unknown time zone {zone_name.strip()!r}") from None
        local = parse_clock_time(clock) if clock.strip() else at
        if any(known.channel == channel for known in channels):
            raise ValueError(f"{channel} is listed twice")
        channels.append(SummaryChannel(channel, zone, local))
    return tuple(channels)


class Settings(BaseSettings):
    """Every setting revgate reads, each from the environment variable named in its alias.

    Pass overrides by variable name: ``Settings(SLACK_BOT_TOKEN="xoxb-test")``.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=False, frozen=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias=AliasChoices("DATABASE_URL"))
    """SQLAlchemy URL; ``postgresql://`` uses psycopg 3. Default: an embedded SQLite file."""
    policy_path: Path = Field(DEFAULT_POLICY, validation_alias=AliasChoices("REVGATE_POLICY"))
    routing_path: Path = Field(DEFAULT_ROUTING, validation_alias=AliasChoices("REVGATE_ROUTING"))
    """The routing rules, territories, pools and SLA (``routing.yaml``; ``revgate routing check``)."""
    hubspot_access_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("HUBSPOT_ACCESS_TOKEN")
    )
    """A HubSpot private app's access token (``pat-...``)."""
    hubspot_portal_id: str | None = Field(None, validation_alias=AliasChoices("HUBSPOT_PORTAL_ID"))
    """The HubSpot account (hub) id, for links from approval cards to records."""
    hubspot_url: str = Field(HUBSPOT_API, validation_alias=AliasChoices("REVGATE_HUBSPOT_URL"))
    """Overrides the HubSpot API host (tests point it at a local fake)."""
    hubspot_app_url: str = Field(HUBSPOT_APP, validation_alias=AliasChoices("REVGATE_HUBSPOT_APP_URL"))
    """The HubSpot web UI that cards link to (``https://app-eu1.hubspot.com`` for an EU portal)."""
    salesforce_instance_url: str | None = Field(
        None, validation_alias=AliasChoices("SALESFORCE_INSTANCE_URL")
    )
    """``https://yourorg.my.salesforce.com``; with an access token, required."""
    salesforce_access_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SALESFORCE_ACCESS_TOKEN")
    )
    salesforce_username: str | None = Field(None, validation_alias=AliasChoices("SALESFORCE_USERNAME"))
    salesforce_password: SecretStr | None = Field(None, validation_alias=AliasChoices("SALESFORCE_PASSWORD"))
    salesforce_security_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SALESFORCE_SECURITY_TOKEN")
    )
    salesforce_client_id: str | None = Field(None, validation_alias=AliasChoices("SALESFORCE_CLIENT_ID"))
    """The connected app's consumer key (for the username-password login)."""
    salesforce_client_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SALESFORCE_CLIENT_SECRET")
    )
    salesforce_login_url: str = Field(SALESFORCE_LOGIN, validation_alias=AliasChoices("SALESFORCE_LOGIN_URL"))
    """``https://test.salesforce.com`` for a sandbox."""
    salesforce_api_ceiling: float = Field(
        0.9, gt=0, le=1, validation_alias=AliasChoices("REVGATE_SALESFORCE_API_CEILING")
    )
    """The share of the org's daily API requests revgate may use before it stops writing."""
    crm: Literal["local", "hubspot", "salesforce"] = Field(
        "local", validation_alias=AliasChoices("REVGATE_CRM")
    )
    """Which CRM to use: ``local`` (the embedded CRM), ``hubspot`` or ``salesforce``; checked
    after the credentials above, so a missing one is reported against this variable."""
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
    scheduler: bool = Field(True, validation_alias=AliasChoices("REVGATE_SCHEDULER"))
    """Run scheduled jobs in ``revgate serve`` and ``revgate worker`` (on/off)."""
    timezone: ZoneInfo = Field(ZoneInfo("UTC"), validation_alias=AliasChoices("REVGATE_TIMEZONE"))
    """The IANA zone the cron settings and summaries without their own zone are read in."""
    hygiene_cron: str = Field(DEFAULT_HYGIENE_CRON, validation_alias=AliasChoices("REVGATE_HYGIENE_CRON"))
    enrichment_cron: str = Field(
        DEFAULT_ENRICHMENT_CRON, validation_alias=AliasChoices("REVGATE_ENRICHMENT_CRON")
    )
    summary_time: time = Field(DEFAULT_SUMMARY_TIME, validation_alias=AliasChoices("REVGATE_SUMMARY_TIME"))
    """The local time of the daily summary in channels that do not set their own."""
    summary_channels: Annotated[tuple[SummaryChannel, ...], NoDecode] = Field(
        (), validation_alias=AliasChoices("REVGATE_SUMMARY_CHANNEL")
    )
    """``#channel`` or ``#channel=Area/City@HH:MM``, comma-separated; resolved against the defaults."""
    tick_seconds: int = Field(60, ge=1, le=3600, validation_alias=AliasChoices("REVGATE_TICK_SECONDS"))
    """How often approvals are checked for reminders and expiry, and the outbox is nudged."""
    claim_lease_seconds: int = Field(
        900, ge=30, le=86_400, validation_alias=AliasChoices("REVGATE_CLAIM_LEASE_SECONDS")
    )
    """How long a replica's claim on a scheduled run lasts without a heartbeat before another takes over."""
    planner_workers: int = Field(1, ge=0, le=16, validation_alias=AliasChoices("REVGATE_PLANNER_WORKERS"))
    """Processes that match batches of likely duplicates alongside a run's own (0: the run's alone)."""
    worker_id: str | None = Field(
        None, min_length=1, max_length=80, validation_alias=AliasChoices("REVGATE_WORKER_ID")
    )
    """This process's name in claims: stable across its restarts, unique among live processes.
    With it, a restarted worker takes back at once what it held when it died; default host:pid."""
    invite_from: str | None = Field(None, validation_alias=AliasChoices("REVGATE_INVITE_FROM"))
    """The ``From`` address of meeting invites sent by mail; required with an SMTP ``REVGATE_INVITES``."""
    invites: Annotated[InviteFolder | SmtpServer, NoDecode] = Field(
        parse_invites(DEFAULT_INVITES), validation_alias=AliasChoices("REVGATE_INVITES")
    )
    """Where meeting invites go: ``folder:<path>``, ``smtp://[user:pass@]host[:port]`` (STARTTLS
    when offered, required with a password) or ``smtps://...``; the password never shows in reprs.
    Checked after ``REVGATE_INVITE_FROM``, so a missing sender is reported against this variable."""

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

    @field_validator("routing_path")
    @classmethod
    def _routing_exists(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"no routing file at {value}")
        return value

    @field_validator("hubspot_url", "hubspot_app_url", "salesforce_instance_url", "salesforce_login_url")
    @classmethod
    def _crm_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value is not None else None

    @field_validator("crm")
    @classmethod
    def _crm_credentials(cls, value: str, info: ValidationInfo) -> str:
        missing = _crm_credentials_missing(value, info.data)
        if missing:
            raise ValueError(f"{value} needs {' and '.join(missing)}")
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

    @field_validator("hygiene_cron", "enrichment_cron")
    @classmethod
    def _crontab_shape(cls, value: str) -> str:
        return validate_crontab(value)

    @field_validator("invite_from")
    @classmethod
    def _invite_from_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValueError(f"not an email address ({error})") from None

    @field_validator("invites", mode="before")
    @classmethod
    def _invites_shape(cls, value: object) -> object:
        # The message of a bad value never repeats it: an SMTP URL may hold a password.
        return parse_invites(value) if isinstance(value, str) else value

    @field_validator("invites")
    @classmethod
    def _invites_sender(
        cls, value: InviteFolder | SmtpServer, info: ValidationInfo
    ) -> InviteFolder | SmtpServer:
        if isinstance(value, SmtpServer) and not info.data.get("invite_from"):
            raise ValueError("sending invites by mail needs REVGATE_INVITE_FROM (a valid From address)")
        return value

    @field_validator("summary_time", mode="before")
    @classmethod
    def _clock_time(cls, value: object) -> object:
        return parse_clock_time(value) if isinstance(value, str) else value

    @field_validator("summary_channels", mode="before")
    @classmethod
    def _summary_channels(cls, value: object, info: ValidationInfo) -> object:
        # Fields validate in order, so the zone and time defaults are known here
        # (unless they were bad themselves: their own error is reported then).
        if not isinstance(value, str):
            return value
        return parse_summary_channels(
            value,
            timezone=info.data.get("timezone", ZoneInfo("UTC")),
            at=info.data.get("summary_time", DEFAULT_SUMMARY_TIME),
        )


def _crm_credentials_missing(crm: str, given: dict[str, Any]) -> list[str]:
    """The variables ``crm`` still needs, given the settings validated so far."""
    if crm == "hubspot":
        needed = {"HUBSPOT_ACCESS_TOKEN": "hubspot_access_token", "HUBSPOT_PORTAL_ID": "hubspot_portal_id"}
        return [variable for variable, name in needed.items() if not given.get(name)]
    if crm != "salesforce":
        return []
    if not given.get("salesforce_instance_url") and not given.get("salesforce_username"):
        return ["SALESFORCE_INSTANCE_URL and SALESFORCE_ACCESS_TOKEN (or SALESFORCE_USERNAME ...)"]
    if given.get("salesforce_username"):
        needed = {
            "SALESFORCE_PASSWORD": "salesforce_password",
            "SALESFORCE_CLIENT_ID": "salesforce_client_id",
            "SALESFORCE_CLIENT_SECRET": "salesforce_client_secret",
        }
    else:
        needed = {"SALESFORCE_ACCESS_TOKEN": "salesforce_access_token"}
    return [variable for variable, name in needed.items() if not given.get(name)]


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


__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_ENRICHMENT_CRON",
    "DEFAULT_HYGIENE_CRON",
    "DEFAULT_MODEL",
    "DEFAULT_POLICY",
    "DEFAULT_SUMMARY_TIME",
    "Settings",
    "SummaryChannel",
    "crontab",
    "load_settings",
]
