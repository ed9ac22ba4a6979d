"""What the Salesforce adapter does beyond the port's contract: record links, the "no owner" user,
converted Leads, and the settings it refuses."""

from __future__ import annotations

import pytest

from agent.crm.ledger import WriteLedger
from agent.crm.salesforce import SalesforceCRM
from agent.errors import CRMValidationError
from agent.ports import RecordLinks
from agent.store.database import Database
from tests.crm.conformance import sample
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.fake_salesforce_arrangement import (
    OrgClock,
    SalesforceArrangement,
    connect,
)


@pytest.fixture
def arranged(salesforce: FakeSalesforce, database: Database) -> SalesforceArrangement:
    return SalesforceArrangement(salesforce, connect(salesforce, database))


def test_record_url_is_the_records_lightning_page(arranged: SalesforceArrangement) -> None:
    account = arranged.record("account", sample("account", 1))

    assert isinstance(arranged.crm, RecordLinks)
    assert arranged.crm.record_url("account", account.id) == (
        f"{arranged.fake.instance_url}/lightning/r/Account/{account.id}/view"
    )
    assert arranged.crm.record_url("lead", "00Q8c0000000009AAA").endswith(
        "/lightning/r/Lead/00Q8c0000000009AAA/view"
    )


def test_the_integration_user_stands_for_no_owner_and_is_not_listed_as_one(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    ada = arranged.owner("CO1")
    unowned = arranged.record("contact", sample("contact", 1))
    owned = arranged.record("contact", sample("contact", 2), owner_id=ada.id)

    row = salesforce.org.row(unowned.id)
    assert row is not None
    assert row["OwnerId"] == salesforce.org.integration_user_id
    assert unowned.owner_id is None
    assert [r.id for r in arranged.crm.search("contact", "owner_id", None)] == [unowned.id]
    assert [r.id for r in arranged.crm.search("contact", "owner_id", ada.id)] == [owned.id]
    assert [o.id for o in arranged.crm.owners()] == [ada.id]
    assert arranged.crm.get_owner(salesforce.org.integration_user_id) is None


def test_a_configured_unassigned_user_is_the_owner_a_cleared_record_gets(
    salesforce: FakeSalesforce, database: Database
) -> None:
    queue_user = salesforce.org.add_user("Unassigned", "unassigned@example.com")
    crm = connect(salesforce, database, unassigned_owner_id=queue_user)
    arranged = SalesforceArrangement(salesforce, crm)
    ada = arranged.owner("CO1")
    lead = arranged.record("lead", sample("lead", 1), owner_id=ada.id)

    cleared = crm.update(
        "lead", lead.id, {"owner_id": None}, expected_version=lead.version, idempotency_key="o-1"
    )

    row = salesforce.org.row(lead.id)
    assert row is not None
    assert row["OwnerId"] == queue_user
    assert cleared.owner_id is None
    assert {o.id for o in crm.owners()} == {ada.id, salesforce.org.integration_user_id}


def test_a_converted_lead_is_no_longer_a_lead(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    kept = arranged.record("lead", sample("lead", 1))
    converted = arranged.record("lead", sample("lead", 2))
    with salesforce.org.lock:
        salesforce.org.live(converted.id, "Lead")["IsConverted"] = True

    assert arranged.crm.get("lead", converted.id) is None
    assert [r.id for r in arranged.crm.iter_records("lead")] == [kept.id]


def test_a_read_only_field_is_refused_before_any_request(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    contact = arranged.record("contact", sample("contact", 1))
    sent = len(salesforce.requests)

    with pytest.raises(CRMValidationError, match="read-only"):
        arranged.crm.update(
            "contact",
            contact.id,
            {"last_activity_at": "2026-11-01"},
            expected_version=contact.version,
            idempotency_key="ro-1",
        )

    assert len(salesforce.requests) == sent


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({}, "access token and instance URL, or a password login"),
        ({"username": "revgate@example.com"}, "needs password, client_id and client_secret"),
        (
            {"access_token": "t", "instance_url": "https://x.my.salesforce.com", "usage_ceiling": 1.5},
            "usage_ceiling",
        ),
    ],
)
def test_connect_refuses_settings_it_cannot_use(
    database: Database, salesforce: FakeSalesforce, settings: dict[str, object], problem: str
) -> None:
    clock = OrgClock(salesforce.org)

    with pytest.raises(ValueError, match=problem):
        SalesforceCRM.connect(
            ledger=WriteLedger(database, crm="salesforce", clock=clock),
            clock=clock,
            **settings,  # type: ignore[arg-type]
        )
