"""The composition root builds the CRM ``REVGATE_CRM`` names from the settings alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.crm.hubspot import HubSpotCRM
from agent.crm.local import LocalCRM
from agent.crm.salesforce import SalesforceCRM
from agent.errors import CRMAuthError
from agent.ports import CRMClient
from agent.store.database import Database
from bot.crm_connect import connect_crm
from bot.settings import Settings, load_settings
from tests.support import fake_salesforce
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.fakes import FixedClock, sequential_ids


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'revgate.db'}")  # the embedded file migrates itself
    yield db
    db.dispose()


@pytest.fixture
def salesforce(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSalesforce]:
    # How an operator makes revgate trust a private CA: requests reads REQUESTS_CA_BUNDLE.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(FakeSalesforce.ca_file()))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with FakeSalesforce() as fake:
        yield fake


def _connect(settings: Settings, database: Database) -> CRMClient:
    return connect_crm(settings, database, clock=FixedClock(), new_id=sequential_ids())


def _settings(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> Settings:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def test_the_default_is_the_embedded_crm(database: Database) -> None:
    assert isinstance(_connect(load_settings(), database), LocalCRM)


def test_hubspot_is_reached_with_the_token_at_the_configured_host(
    monkeypatch: pytest.MonkeyPatch, database: Database
) -> None:
    with FakeHubSpot() as hubspot:
        owner = hubspot.add_owner("Ada", "Lovelace")
        settings = _settings(
            monkeypatch,
            {
                "REVGATE_CRM": "hubspot",
                "HUBSPOT_ACCESS_TOKEN": hubspot.token,
                "HUBSPOT_PORTAL_ID": hubspot.portal_id,
                "REVGATE_HUBSPOT_URL": hubspot.url,
            },
        )
        crm = _connect(settings, database)

        assert isinstance(crm, HubSpotCRM)
        assert [o.id for o in crm.owners()] == [owner]


def test_hubspot_with_another_token_is_refused_with_an_auth_error(
    monkeypatch: pytest.MonkeyPatch, database: Database
) -> None:
    with FakeHubSpot() as hubspot:
        settings = _settings(
            monkeypatch,
            {
                "REVGATE_CRM": "hubspot",
                "HUBSPOT_ACCESS_TOKEN": "pat-na1-not-the-one",
                "HUBSPOT_PORTAL_ID": hubspot.portal_id,
                "REVGATE_HUBSPOT_URL": hubspot.url,
            },
        )
        crm = _connect(settings, database)

        with pytest.raises(CRMAuthError, match="HUBSPOT_ACCESS_TOKEN"):
            crm.owners()


def test_salesforce_is_reached_with_an_access_token(
    monkeypatch: pytest.MonkeyPatch, database: Database, salesforce: FakeSalesforce
) -> None:
    user = salesforce.org.add_user("Ada Lovelace", "ada@acme.io")
    settings = _settings(
        monkeypatch,
        {
            "REVGATE_CRM": "salesforce",
            "SALESFORCE_INSTANCE_URL": salesforce.instance_url,
            "SALESFORCE_ACCESS_TOKEN": salesforce.token,
        },
    )
    crm = _connect(settings, database)

    assert isinstance(crm, SalesforceCRM)
    assert user in {o.id for o in crm.owners()}


def test_salesforce_logs_in_with_the_connected_apps_password_flow(
    monkeypatch: pytest.MonkeyPatch, database: Database, salesforce: FakeSalesforce
) -> None:
    user = salesforce.org.add_user("Ada Lovelace", "ada@acme.io")
    settings = _settings(
        monkeypatch,
        {
            "REVGATE_CRM": "salesforce",
            "SALESFORCE_USERNAME": fake_salesforce.USERNAME,
            "SALESFORCE_PASSWORD": fake_salesforce.PASSWORD,
            "SALESFORCE_SECURITY_TOKEN": fake_salesforce.SECURITY_TOKEN,
            "SALESFORCE_CLIENT_ID": fake_salesforce.CLIENT_ID,
            "SALESFORCE_CLIENT_SECRET": fake_salesforce.CLIENT_SECRET,
            "SALESFORCE_LOGIN_URL": salesforce.instance_url,
        },
    )
    crm = _connect(settings, database)

    assert isinstance(crm, SalesforceCRM)
    assert user in {o.id for o in crm.owners()}
    assert len(salesforce.requests_to("POST", "/services/oauth2/token")) == 1


def test_an_eu_portals_cards_link_to_the_eu_web_ui(
    monkeypatch: pytest.MonkeyPatch, database: Database
) -> None:
    settings = _settings(
        monkeypatch,
        {
            "REVGATE_CRM": "hubspot",
            "HUBSPOT_ACCESS_TOKEN": "pat-eu1-token",
            "HUBSPOT_PORTAL_ID": "26000001",
            "REVGATE_HUBSPOT_APP_URL": "https://app-eu1.hubspot.com/",
        },
    )
    crm = _connect(settings, database)

    assert isinstance(crm, HubSpotCRM)
    assert crm.record_url("lead", "501") == "https://app-eu1.hubspot.com/contacts/26000001/record/0-1/501"
