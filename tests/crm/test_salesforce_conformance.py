"""The Salesforce adapter passes the CRM conformance suite against the fake Salesforce (all three objects)."""

from __future__ import annotations

import pytest

from agent.store.database import Database
from tests.crm.conformance import Arrangement, CRMConformance
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.fake_salesforce_arrangement import SalesforceArrangement, connect


class TestSalesforceConformance(CRMConformance):
    @pytest.fixture
    def arranged(self, salesforce: FakeSalesforce, database: Database) -> Arrangement:
        return SalesforceArrangement(salesforce, connect(salesforce, database))
