"""The CRM ``REVGATE_CRM`` names, built from the settings (part of the composition root)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr

from agent.crm.ledger import WriteLedger
from agent.crm.local import LocalCRM
from agent.ports import Clock, CRMClient
from agent.store.database import Database
from bot.settings import Settings


def connect_crm(
    settings: Settings, database: Database, *, clock: Clock, new_id: Callable[[], str]
) -> CRMClient:
    """The embedded CRM, or an adapter for HubSpot or Salesforce with its idempotency keys in ``database``.

    Builds the client without calling the CRM: a bad token shows on the first request, as a
    ``CRMAuthError`` (``revgate crm check`` makes that request on purpose). The remote
    adapters are imported here, not at the top, so the embedded default never loads their SDKs.
    """
    if settings.crm == "hubspot":
        from agent.crm.hubspot import HubSpotCRM

        return HubSpotCRM.connect(
            access_token=_secret(settings.hubspot_access_token),
            portal_id=settings.hubspot_portal_id,
            ledger=WriteLedger(database, crm="hubspot", clock=clock),
            clock=clock,
            host=settings.hubspot_url,
            app_url=settings.hubspot_app_url,
        )
    if settings.crm == "salesforce":
        from agent.crm.salesforce import SalesforceCRM

        return SalesforceCRM.connect(
            ledger=WriteLedger(database, crm="salesforce", clock=clock),
            clock=clock,
            access_token=_optional_secret(settings.salesforce_access_token),
            instance_url=settings.salesforce_instance_url,
            username=settings.salesforce_username,
            password=_optional_secret(settings.salesforce_password),
            security_token=_optional_secret(settings.salesforce_security_token) or "",
            client_id=settings.salesforce_client_id,
            client_secret=_optional_secret(settings.salesforce_client_secret),
            login_url=settings.salesforce_login_url,
            usage_ceiling=settings.salesforce_api_ceiling,
        )
    return LocalCRM(database, clock=clock, new_id=new_id)


def _optional_secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def _secret(value: SecretStr | None) -> str:
    # Settings refuse REVGATE_CRM=hubspot without a token, so a None here is a wiring bug.
    if value is None:
        raise ValueError("the HubSpot access token is not set (HUBSPOT_ACCESS_TOKEN)")
    return value.get_secret_value()
