"""The HubSpot adapter passes the CRM conformance suite against the fake HubSpot (all three objects)."""

from __future__ import annotations

import pytest

from agent.store.database import Database
from tests.crm.conformance import Arrangement, CRMConformance
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fake_hubspot_adapter import HubSpotArrangement, connect, new_ledger


class TestHubSpotConformance(CRMConformance):
    @pytest.fixture
    def arranged(self, hubspot: FakeHubSpot, database: Database) -> Arrangement:
        return HubSpotArrangement(hubspot, connect(hubspot, new_ledger(database, hubspot.clock), sleeps=[]))
