"""How revgate's records map onto HubSpot: types, picklists, times and record links."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.crm.hubspot import HubSpotCRM
from agent.crm.hubspot_mapping import (
    COMPANY_INDUSTRY,
    DEFAULT_LEAD_STAGES,
    LEAD_SOURCE,
    LEAD_STATUS,
    Classifier,
    Picklist,
    check_writable,
    decode,
    encode,
    epoch_millis,
    parse_time,
)
from agent.crm.ledger import WriteLedger
from agent.errors import CRMValidationError
from agent.models import ObjectType
from tests.support.fakes import FixedClock
from tests.support.ledger_db import ledger_database


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[HubSpotCRM]:
    database = ledger_database(tmp_path)
    clock = FixedClock()
    # Building the adapter makes no request, so no server is needed for its links.
    yield HubSpotCRM.connect(
        access_token="pat-na1-test",
        portal_id="4412345",
        ledger=WriteLedger(database, crm="hubspot", clock=clock),
        clock=clock,
    )
    database.dispose()


@pytest.mark.parametrize(
    ("object_type", "type_id"), [("lead", "0-1"), ("contact", "0-1"), ("account", "0-2")]
)
def test_record_url_is_the_records_page_in_the_hubspot_web_ui(
    crm: HubSpotCRM, object_type: ObjectType, type_id: str
) -> None:
    assert (
        crm.record_url(object_type, "512") == f"https://app.hubspot.com/contacts/4412345/record/{type_id}/512"
    )


def test_connect_refuses_a_missing_portal_id(tmp_path: Path) -> None:
    database = ledger_database(tmp_path)
    clock = FixedClock()

    with pytest.raises(ValueError, match="HUBSPOT_PORTAL_ID"):
        HubSpotCRM.connect(
            access_token="pat-na1-test",
            portal_id=None,
            ledger=WriteLedger(database, crm="hubspot", clock=clock),
            clock=clock,
        )
    database.dispose()


@pytest.mark.parametrize(
    ("object_type", "field", "picklist"),
    [
        ("lead", "status", LEAD_STATUS),
        ("lead", "lead_source", LEAD_SOURCE),
        ("account", "industry", COMPANY_INDUSTRY),
    ],
)
def test_every_picklist_value_written_reads_back_as_written(
    object_type: ObjectType, field: str, picklist: Picklist
) -> None:
    for value in picklist.to_hubspot:
        assert decode(object_type, field, encode(object_type, field, value)) == value


def test_a_hubspot_value_with_no_revgate_counterpart_reads_as_itself() -> None:
    assert decode("lead", "status", "SOME_CUSTOM_STATUS") == "SOME_CUSTOM_STATUS"
    assert decode("lead", "status", "CONNECTED") == "Working"


def test_a_contact_with_no_stage_or_a_lead_stage_is_a_lead_and_any_other_stage_a_contact() -> None:
    classify = Classifier(frozenset(DEFAULT_LEAD_STAGES))

    assert classify.type_of("contacts", {}) == "lead"
    assert classify.type_of("contacts", {"lifecyclestage": "marketingqualifiedlead"}) == "lead"
    assert classify.type_of("contacts", {"lifecyclestage": "customer"}) == "contact"
    assert classify.type_of("contacts", {"lifecyclestage": "1234567"}) == "contact"  # a custom stage
    assert classify.type_of("companies", {"lifecyclestage": "lead"}) == "account"


def test_epoch_millis_is_exact_at_every_millisecond() -> None:
    start = datetime(2026, 11, 24, 9, 0, 0, 123000, tzinfo=UTC)
    for step in range(1000):
        moment = start + timedelta(milliseconds=step)
        assert parse_time(epoch_millis(moment)) == moment


def test_a_field_the_type_lacks_or_hubspot_calculates_is_refused_before_any_request() -> None:
    with pytest.raises(CRMValidationError, match="no field"):
        check_writable("account", ["first_name"])
    with pytest.raises(CRMValidationError, match="calculates"):
        check_writable("lead", ["last_activity_at"])
