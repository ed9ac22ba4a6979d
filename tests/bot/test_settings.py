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


# -- the scheduler's settings ---------------------------------------------------------------


def test_scheduler_defaults_suit_a_morning_routine() -> None:
    from datetime import time
    from zoneinfo import ZoneInfo

    settings = load_settings()

    assert settings.scheduler is True
    assert settings.timezone == ZoneInfo("UTC")
    assert settings.hygiene_cron == "0 7 * * *"  # before the 08:00 summary
    assert settings.enrichment_cron == "15 * * * *"
    assert settings.summary_time == time(8, 0)
    assert settings.summary_channels == ()
    assert (settings.tick_seconds, settings.claim_lease_seconds) == (60, 900)


def test_summary_channels_parse_with_their_own_zone_and_time_or_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import time
    from zoneinfo import ZoneInfo

    from bot.settings import SummaryChannel

    monkeypatch.setenv("REVGATE_TIMEZONE", "America/New_York")
    monkeypatch.setenv("REVGATE_SUMMARY_TIME", "07:45")
    monkeypatch.setenv(
        "REVGATE_SUMMARY_CHANNEL",
        " #revops , #emea=Europe/Paris@09:00,#apac=Asia/Tokyo, #early@6:30, C0123ABCD",
    )

    channels = load_settings().summary_channels

    new_york = ZoneInfo("America/New_York")
    assert channels == (
        SummaryChannel("#revops", new_york, time(7, 45)),
        SummaryChannel("#emea", ZoneInfo("Europe/Paris"), time(9, 0)),
        SummaryChannel("#apac", ZoneInfo("Asia/Tokyo"), time(7, 45)),
        SummaryChannel("#early", new_york, time(6, 30)),
        SummaryChannel("C0123ABCD", new_york, time(7, 45)),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("off", False), ("on", True), ("0", False), ("true", True)],
)
def test_the_scheduler_switch_reads_on_and_off(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("REVGATE_SCHEDULER", value)

    assert load_settings().scheduler is expected


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("REVGATE_SCHEDULER", "sometimes", "boolean"),
        ("REVGATE_TIMEZONE", "Mars/Olympus_Mons", "invalid timezone"),
        ("REVGATE_HYGIENE_CRON", "0 7 * *", "expected 5"),
        ("REVGATE_HYGIENE_CRON", "0 25 * * *", "crontab"),
        ("REVGATE_ENRICHMENT_CRON", "every hour", "crontab"),
        ("REVGATE_ENRICHMENT_CRON", "0 * * * 8", "out of range"),
        ("REVGATE_SUMMARY_CHANNEL", "revops", "#name"),
        ("REVGATE_SUMMARY_CHANNEL", "#revops=Europe/Atlantis@08:00", "unknown time zone"),
        ("REVGATE_SUMMARY_CHANNEL", "#revops@8am", "HH:MM"),
        ("REVGATE_SUMMARY_CHANNEL", "#revops,#revops=UTC", "listed twice"),
        ("REVGATE_SUMMARY_CHANNEL", "#" + "x" * 80, "#name"),
        ("REVGATE_SUMMARY_TIME", "24:00", "HH:MM"),
        ("REVGATE_TICK_SECONDS", "0", "greater than or equal to 1"),
        ("REVGATE_TICK_SECONDS", "soon", "integer"),
        ("REVGATE_CLAIM_LEASE_SECONDS", "10", "greater than or equal to 30"),
    ],
)
def test_a_bad_scheduler_setting_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert f"{variable}:" in str(error.value)
    assert says in str(error.value)


# -- the CRM's credentials ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"REVGATE_CRM": "hubspot"}, ["HUBSPOT_ACCESS_TOKEN", "HUBSPOT_PORTAL_ID"]),
        ({"REVGATE_CRM": "hubspot", "HUBSPOT_PORTAL_ID": "4412345"}, ["HUBSPOT_ACCESS_TOKEN"]),
        (
            {"REVGATE_CRM": "salesforce", "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com"},
            ["SALESFORCE_ACCESS_TOKEN"],
        ),
        (
            {"REVGATE_CRM": "salesforce", "SALESFORCE_USERNAME": "ops@acme.io"},
            ["SALESFORCE_PASSWORD", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET"],
        ),
        ({"REVGATE_CRM": "salesforce"}, ["SALESFORCE_INSTANCE_URL", "SALESFORCE_USERNAME"]),
    ],
)
def test_a_crm_without_its_credentials_stops_start_up_naming_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, str], missing: list[str]
) -> None:
    for variable, value in given.items():
        monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as error:
        load_settings()

    message = str(error.value)
    assert "REVGATE_CRM:" in message
    assert all(variable in message for variable in missing)


def test_hubspot_needs_its_token_and_portal_and_keeps_the_token_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REVGATE_CRM", "hubspot")
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-very-secret")
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", "4412345")

    settings = load_settings()

    assert settings.crm == "hubspot"
    assert settings.hubspot_url == "https://api.hubapi.com"
    assert "very-secret" not in repr(settings)


def test_salesforce_takes_an_access_token_or_a_username_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVGATE_CRM", "salesforce")
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", "https://acme.my.salesforce.com/")
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00D-very-secret")
    with_token = load_settings()
    monkeypatch.delenv("SALESFORCE_ACCESS_TOKEN")
    for variable, value in {
        "SALESFORCE_USERNAME": "ops@acme.io",
        "SALESFORCE_PASSWORD": "hunter2",
        "SALESFORCE_CLIENT_ID": "3MVG9",
        "SALESFORCE_CLIENT_SECRET": "shh",
    }.items():
        monkeypatch.setenv(variable, value)
    with_login = load_settings()

    assert with_token.salesforce_instance_url == "https://acme.my.salesforce.com"
    assert with_login.salesforce_username == "ops@acme.io"
    assert with_login.salesforce_login_url == "https://login.salesforce.com"
    assert "very-secret" not in repr(with_token)
    assert "hunter2" not in repr(with_login)


@pytest.mark.parametrize("value", ["0", "1.5"])
def test_the_salesforce_api_ceiling_is_a_share_of_the_daily_limit(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("REVGATE_SALESFORCE_API_CEILING", value)

    with pytest.raises(SettingsError, match="REVGATE_SALESFORCE_API_CEILING:"):
        load_settings()


# -- where meeting invites go ----------------------------------------------------------------


def test_invites_default_to_a_folder_and_need_no_sender() -> None:
    from pathlib import Path

    from bot.invite_senders import InviteFolder

    settings = load_settings()

    assert settings.invites == InviteFolder(Path(".revgate/invites"))
    assert settings.invite_from is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("folder:/var/spool/revgate", ("folder", "/var/spool/revgate")),
        ("smtp://mail.acme.io", ("smtp", "mail.acme.io", 587, False, None)),
        ("smtp://relay.acme.io:2525", ("smtp", "relay.acme.io", 2525, False, None)),
        ("smtps://ops:hunter2@mail.acme.io", ("smtp", "mail.acme.io", 465, True, "ops")),
        ("smtp://ops%40acme.io:p%3Ass@[::1]:587", ("smtp", "::1", 587, False, "ops@acme.io")),
    ],
)
def test_invites_take_a_folder_or_an_smtp_url(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: tuple[object, ...]
) -> None:
    from bot.invite_senders import InviteFolder

    monkeypatch.setenv("REVGATE_INVITES", value)
    monkeypatch.setenv("REVGATE_INVITE_FROM", "Meetings@Acme.io")

    settings = load_settings()

    target = settings.invites
    if isinstance(target, InviteFolder):
        assert ("folder", str(target.path)) == expected
    else:
        assert ("smtp", target.host, target.port, target.implicit_tls, target.username) == expected
    assert settings.invite_from == "Meetings@acme.io"


def test_the_invite_password_never_shows_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVGATE_INVITES", "smtps://ops:p%40ss-very-secret@mail.acme.io")
    monkeypatch.setenv("REVGATE_INVITE_FROM", "meetings@acme.io")

    settings = load_settings()

    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.invites)
    assert str(settings.invites) == "smtps://ops:***@mail.acme.io:465"
    assert settings.invites.password is not None  # type: ignore[union-attr]
    assert settings.invites.password.get_secret_value() == "p@ss-very-secret"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("variables", "named", "says"),
    [
        (
            {"REVGATE_INVITES": "smtp://ops:very-secret@mail.acme.io"},
            "REVGATE_INVITES",
            "REVGATE_INVITE_FROM",
        ),
        ({"REVGATE_INVITES": "imap://ops:very-secret@mail.acme.io"}, "REVGATE_INVITES", "folder:<path>"),
        ({"REVGATE_INVITES": "smtp://ops:very-secret@mail.acme.io:http"}, "REVGATE_INVITES", "port"),
        ({"REVGATE_INVITES": "smtp://ops:very-secret@mail.acme.io:0"}, "REVGATE_INVITES", "port"),
        ({"REVGATE_INVITES": "smtp://ops:very-secret@"}, "REVGATE_INVITES", "host"),
        ({"REVGATE_INVITES": "smtp://ops@mail.acme.io"}, "REVGATE_INVITES", "user and a password"),
        ({"REVGATE_INVITES": "smtp://ops:very-secret@mail.acme.io/inbox"}, "REVGATE_INVITES", "follow"),
        ({"REVGATE_INVITES": "folder:"}, "REVGATE_INVITES", "needs a path"),
        ({"REVGATE_INVITES": ".revgate/invites"}, "REVGATE_INVITES", "folder:<path>"),
        ({"REVGATE_INVITE_FROM": "meetings"}, "REVGATE_INVITE_FROM", "not an email address"),
        ({"REVGATE_INVITE_FROM": "meetings@localhost"}, "REVGATE_INVITE_FROM", "not an email address"),
    ],
)
def test_a_bad_invite_setting_stops_start_up_without_repeating_the_password(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str, says: str
) -> None:
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert f"{named}:" in str(error.value)
    assert says in str(error.value)
    assert "very-secret" not in str(error.value)
