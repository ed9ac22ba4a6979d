"""The CRM ``REVGATE_CRM`` names, built from the settings (part of the composition root)."""

from __future__ import annotations

from collections.abc import Callable

from agent.crm.local import LocalCRM
from agent.ports import Clock, CRMClient
from agent.store.database import Database
from bot.settings import Settings


def connect_crm(
    settings: Settings, database: Database, *, clock: Clock, new_id: Callable[[], str]
) -> CRMClient:
    """The embedded CRM, or an adapter for HubSpot or Salesforce with its idempotency keys in ``database``.

    Builds the client without calling the CRM: a bad token shows on the first request, as a
    ``CRMAuthError`` (``revgate crm check`` makes that request on purpose).
    """
    if settings.crm == "local":
        return LocalCRM(database, clock=clock, new_id=new_id)
    raise NotImplementedError(settings.crm)
