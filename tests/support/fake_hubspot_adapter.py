"""The HubSpot adapter wired to the fake HubSpot, for the conformance and failure tests.

:func:`connect` builds the adapter the way the composition root does (``HubSpotCRM.connect``
with a host), with a :class:`~agent.crm.retry.Retrying` whose sleep only records;
:class:`HubSpotArrangement` is the conformance suites' way into the fake's back door (the
CRM suite's and the meetings suite's).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from agent.crm.hubspot import HubSpotCRM
from agent.crm.hubspot_mapping import hubspot_type, to_properties
from agent.crm.hubspot_meetings import hubspot_time
from agent.crm.ledger import WriteLedger
from agent.crm.retry import Retrying
from agent.models import FieldValue, ObjectType, Owner, Record
from agent.store.database import Database
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fakes import FixedClock

STAGE_OF: Mapping[ObjectType, str] = {"lead": "lead", "contact": "customer"}
"""The ``lifecyclestage`` a seeded record of each people type gets."""

UNKNOWN_ID = "987654321"
UNKNOWN_OWNER_ID = "99999999"


def new_ledger(database: Database, clock: FixedClock) -> WriteLedger:
    return WriteLedger(database, crm="hubspot", clock=clock)


def connect(fake: FakeHubSpot, ledger: WriteLedger, sleeps: list[float], *, attempts: int = 4) -> HubSpotCRM:
    """The adapter on the fake, its clock the fake's, its waits recorded in ``sleeps``."""
    return HubSpotCRM.connect(
        access_token=fake.token,
        portal_id=fake.portal_id,
        ledger=ledger,
        clock=fake.clock,
        retrying=Retrying(attempts=attempts, sleep=sleeps.append),
        host=fake.url,
    )


def seed_properties(
    object_type: ObjectType, fields: Mapping[str, FieldValue], owner_id: str | None = None
) -> dict[str, str | None]:
    """Canonical fields as the HubSpot properties of a seeded record of ``object_type``."""
    properties: dict[str, str | None] = dict(to_properties(object_type, fields))
    if object_type in STAGE_OF:
        properties["lifecyclestage"] = STAGE_OF[object_type]
    if owner_id is not None:
        properties["hubspot_owner_id"] = owner_id
    return properties


class HubSpotArrangement:
    """Test data goes in over the fake's back door; the adapter reads it over HTTP."""

    def __init__(self, fake: FakeHubSpot, crm: HubSpotCRM) -> None:
        self._fake = fake
        self._crm = crm

    @property
    def crm(self) -> HubSpotCRM:
        return self._crm

    def owner(self, owner_id: str, *, active: bool = True) -> Owner:
        # HubSpot numbers its owners itself; owner_id only names them apart.
        created = self._fake.add_owner("Owner", owner_id, f"{owner_id.lower()}@acme.io", active=active)
        found = self._crm.get_owner(created)
        assert found is not None, f"owner {created} does not read back"
        return found

    def record(
        self, object_type: ObjectType, fields: Mapping[str, FieldValue], *, owner_id: str | None = None
    ) -> Record:
        created = self._fake.add_object(
            hubspot_type(object_type), seed_properties(object_type, fields, owner_id)
        )
        return self._read(object_type, created)

    def change_behind_our_back(self, record: Record, fields: Mapping[str, FieldValue]) -> Record:
        self._fake.edit(
            hubspot_type(record.object_type), record.id, to_properties(record.object_type, fields)
        )
        return self._read(record.object_type, record.id)

    def later(self, seconds: float) -> None:
        self._fake.later(seconds)

    def unknown_id(self, object_type: ObjectType) -> str:
        return UNKNOWN_ID

    def unknown_owner_id(self) -> str:
        return UNKNOWN_OWNER_ID

    def unknown_meeting_id(self) -> str:
        return UNKNOWN_ID

    def foreign_meeting(self, owner_id: str, start: datetime, end: datetime) -> str:
        # As HubSpot's "Log meeting" leaves it: no outcome, no internal notes, no association.
        return self._fake.add_object(
            "meetings",
            {
                "hs_timestamp": hubspot_time(start),
                "hs_meeting_title": "Lunch with a customer",
                "hs_meeting_start_time": hubspot_time(start),
                "hs_meeting_end_time": hubspot_time(end),
                "hubspot_owner_id": owner_id,
            },
        )

    def _read(self, object_type: ObjectType, record_id: str) -> Record:
        found = self._crm.get(object_type, record_id)
        assert found is not None, f"{object_type} {record_id} does not read back"
        return found
