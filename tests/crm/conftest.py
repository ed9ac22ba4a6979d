"""The fake CRM servers and the adapters' ledger database, shared by the adapter tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.store.database import Database
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.ledger_db import ledger_database


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as fake:
        yield fake


@pytest.fixture
def salesforce() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as fake:
        yield fake


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """The adapter's ledger database (SQLite, migrated)."""
    built = ledger_database(tmp_path)
    yield built
    built.dispose()
