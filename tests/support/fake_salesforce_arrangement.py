"""The Salesforce adapter wired to the fake Salesforce, and the conformance suites' Arrangement over them.

Test data goes in through the fake org's back door (as another user's edits would); everything
the suite asserts is read back through the adapter. The adapter's ledger lives in a migrated
SQLite file, copied per test from one template (running the migrations is the slow part).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agent.crm.ledger import WriteLedger
from agent.crm.retry import Retrying
from agent.crm.salesforce import SalesforceCRM
from agent.crm.salesforce_fields import SOBJECTS, to_salesforce
from agent.models import FieldValue, ObjectType, Owner, Record
from agent.store.database import Database
from tests.support.fake_salesforce import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    SECURITY_TOKEN,
    USERNAME,
    FakeSalesforce,
)
from tests.support.fake_salesforce_org import Org


class OrgClock:
    """The fake org's clock, as a :class:`~agent.ports.Clock` for the adapter and its ledger."""

    def __init__(self, org: Org) -> None:
        self._org = org

    def now(self) -> datetime:
        return self._org.now


class RecordingSleep:
    """A ``sleep`` that records what it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def connect(
    fake: FakeSalesforce,
    database: Database,
    *,
    sleep: RecordingSleep | None = None,
    password_login: bool = False,
    ledger: WriteLedger | None = None,
    **options: Any,
) -> SalesforceCRM:
    """The adapter as the composition root builds it, pointed at the fake (over its test CA)."""
    clock = OrgClock(fake.org)
    credentials: dict[str, Any]
    if password_login:
        credentials = {
            "username": USERNAME,
            "password": PASSWORD,
            "security_token": SECURITY_TOKEN,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "login_url": fake.instance_url,
        }
    else:
        credentials = {"access_token": fake.token, "instance_url": fake.instance_url}
    return SalesforceCRM.connect(
        ledger=ledger or WriteLedger(database, crm="salesforce", clock=clock),
        clock=clock,
        retrying=Retrying(sleep=sleep or RecordingSleep()),
        session=fake.session(),
        **credentials,
        **options,
    )


class SalesforceArrangement:
    """The conformance suite's Arrangement over the fake org."""

    def __init__(self, fake: FakeSalesforce, crm: SalesforceCRM) -> None:
        self.fake = fake
        self._crm = crm

    @property
    def crm(self) -> SalesforceCRM:
        return self._crm

    def owner(self, owner_id: str, *, active: bool = True) -> Owner:
        user_id = self.fake.org.add_user(
            f"Owner {owner_id}", f"{owner_id.lower()}@example.com", active=active
        )
        owner = self.crm.get_owner(user_id)
        assert owner is not None
        return owner

    def record(
        self, object_type: ObjectType, fields: Mapping[str, FieldValue], *, owner_id: str | None = None
    ) -> Record:
        values = to_salesforce(object_type, fields)
        if owner_id is not None:
            values["OwnerId"] = owner_id
        record_id = self.fake.org.create(SOBJECTS[object_type].name, values)
        return self._read(object_type, record_id)

    def change_behind_our_back(self, record: Record, fields: Mapping[str, FieldValue]) -> Record:
        self.fake.org.edit(record.id, to_salesforce(record.object_type, fields))
        return self._read(record.object_type, record.id)

    def later(self, seconds: float) -> None:
        self.fake.org.later(seconds)

    def unknown_id(self, object_type: ObjectType) -> str:
        return Org.unknown_id(SOBJECTS[object_type].name)

    def unknown_owner_id(self) -> str:
        return Org.unknown_id("User")

    def unknown_meeting_id(self) -> str:
        return Org.unknown_id("Event")

    def foreign_meeting(self, owner_id: str, start: datetime, end: datetime) -> str:
        # As a rep logs one in Salesforce: busy (the picklist's default), on no Who or What.
        return self.fake.org.create(
            "Event",
            {
                "OwnerId": owner_id,
                "Subject": "Lunch with a customer",
                "StartDateTime": start.isoformat(),
                "EndDateTime": end.isoformat(),
                "ShowAs": "Busy",
            },
        )

    def _read(self, object_type: ObjectType, record_id: str) -> Record:
        record = self.crm.get(object_type, record_id)
        assert record is not None, f"{record_id} does not read back"
        return record
