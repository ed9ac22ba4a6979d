"""The data of the fake Salesforce: an org's Leads, Contacts, Accounts, Notes, Events and Users.

Written from Salesforce's public object reference, independent of the adapter's mapping:
ids are 18 characters with the object's key prefix; every write stamps ``SystemModstamp``
(and ``LastModifiedDate``) from the org's clock in whole seconds; deleted and merged-away
records stay in the recycle bin (``IsDeleted``) where ``query`` never shows them and a GET
answers ``ENTITY_IS_DELETED``; a merge re-parents the victims' Notes and Events to the master.

Events: ``StartDateTime`` and ``EndDateTime`` are required, are kept in whole seconds in
Salesforce's own shape (``2026-11-24T09:00:00.000+0000``) whatever ISO 8601 form was sent,
and the end may not be before the start (``FIELD_INTEGRITY_EXCEPTION``); ``WhoId`` must name a
live Lead (not converted) or Contact and ``WhatId`` an Account (``INVALID_CROSS_REFERENCE_KEY``);
``ShowAs`` is the restricted picklist Busy / OutOfOffice / Free.

Errors are :class:`OrgError` with Salesforce's status code and ``errorCode``; the server turns
them into ``[{"message", "errorCode", "fields"}]`` (REST) or a failed ``MergeResult`` (SOAP).
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Row = dict[str, Any]

ORG_ID = "00D8c0000000001AAA"
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.000+0000"
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

PREFIXES = {"Account": "001", "Contact": "003", "Lead": "00Q", "Note": "002", "User": "005", "Event": "00U"}
_PERSON = ("FirstName", "LastName", "Email", "Phone", "Title", "Job_Function__c", "Seniority__c")
WRITABLE: Mapping[str, frozenset[str]] = {
    "Lead": frozenset(
        (
            *_PERSON,
            "Company",
            "Status",
            "Country",
            "State",
            "City",
            "PostalCode",
            "Website",
            "Industry",
            "LeadSource",
            "AnnualRevenue",
            "NumberOfEmployees",
            "OwnerId",
        )
    ),
    "Contact": frozenset((*_PERSON, "AccountId", "MailingCountry", "MailingState", "OwnerId")),
    "Account": frozenset(
        (
            "Name",
            "Domain__c",
            "Website",
            "Phone",
            "Industry",
            "AnnualRevenue",
            "NumberOfEmployees",
            "BillingCountry",
            "BillingState",
            "BillingCity",
            "OwnerId",
        )
    ),
    "Note": frozenset(("ParentId", "Title", "Body", "OwnerId")),
    "Event": frozenset(
        (
            "Subject",
            "StartDateTime",
            "EndDateTime",
            "OwnerId",
            "WhoId",
            "WhatId",
            "Description",
            "ShowAs",
            "Location",
        )
    ),
}
"""Fields the API may set on each object."""
READ_ONLY = frozenset(
    {
        "Id",
        "CreatedDate",
        "SystemModstamp",
        "LastModifiedDate",
        "IsDeleted",
        "LastActivityDate",
        "MasterRecordId",
    }
)
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "Lead": ("LastName", "Company"),
    "Contact": ("LastName",),
    "Account": ("Name",),
    "Note": ("ParentId", "Title"),
    "Event": ("StartDateTime", "EndDateTime"),
}
MERGEABLE = frozenset({"Lead", "Contact", "Account"})
NUMBERS: Mapping[str, type] = {"AnnualRevenue": float, "NumberOfEmployees": int}
"""Fields that are numbers (SOAP sends every value as text)."""
_SYSTEM = ("Id", "OwnerId", "CreatedDate", "SystemModstamp", "LastModifiedDate", "IsDeleted")
READABLE: Mapping[str, frozenset[str]] = {
    "Lead": WRITABLE["Lead"] | {*_SYSTEM, "IsConverted", "LastActivityDate", "MasterRecordId"},
    "Contact": WRITABLE["Contact"] | {*_SYSTEM, "LastActivityDate", "MasterRecordId"},
    "Account": WRITABLE["Account"] | {*_SYSTEM, "MasterRecordId"},
    "Note": WRITABLE["Note"] | set(_SYSTEM),
    "Event": WRITABLE["Event"] | set(_SYSTEM),
    "User": frozenset({"Id", "Name", "Email", "IsActive", "UserType", "CreatedDate", "SystemModstamp"}),
}
"""Fields a query or retrieve may name."""
EVENT_TIMES = ("StartDateTime", "EndDateTime")
SHOW_AS = frozenset({"Busy", "OutOfOffice", "Free"})


class OrgError(Exception):
    """A request Salesforce refuses: HTTP ``status``, ``error_code``, message and fields."""

    def __init__(self, status: int, error_code: str, message: str, fields: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields)

    def body(self) -> list[dict[str, Any]]:
        return [{"message": self.message, "errorCode": self.error_code, "fields": self.fields}]


@dataclass
class Merged:
    """What one merge did (the parts of a ``MergeResult``)."""

    master_id: str
    merged_ids: list[str]
    updated_related_ids: list[str] = field(default_factory=list)


class Org:
    """One org's records, thread-safe; every public method is one atomic change or read."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self.lock = threading.RLock()
        self._serial = itertools.count(1)
        self._rows: dict[str, Row] = {}
        self.integration_user_id = self.add_user("revgate integration", "revgate@example.com")

    # -- clock and ids -------------------------------------------------------------------

    def later(self, seconds: float) -> None:
        with self.lock:
            self.now += timedelta(seconds=seconds)

    def stamp(self) -> str:
        return self.now.astimezone(UTC).strftime(STAMP_FORMAT)

    def new_id(self, sobject: str) -> str:
        # 15 significant characters, then a 3-character suffix: string order is creation order.
        return f"{PREFIXES[sobject]}8c{next(self._serial):010d}AAA"

    @staticmethod
    def unknown_id(sobject: str) -> str:
        return f"{PREFIXES[sobject]}8c9999999999AAA"

    # -- back door (tests) ---------------------------------------------------------------

    def add_user(self, name: str, email: str, *, active: bool = True) -> str:
        with self.lock:
            user_id = self.new_id("User")
            self._rows[user_id] = {
                "attributes": {"type": "User"},
                "Id": user_id,
                "Name": name,
                "Email": email,
                "IsActive": active,
                "UserType": "Standard",
                "CreatedDate": self.stamp(),
                "SystemModstamp": self.stamp(),
            }
            return user_id

    def seed(self, sobject: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Insert many rows at once, unvalidated (fast, for pagination tests)."""
        with self.lock:
            ids = []
            for values in rows:
                row = self._new_row(sobject, values)
                self._rows[row["Id"]] = row
                ids.append(row["Id"])
            return ids

    def edit(self, record_id: str, values: Mapping[str, Any]) -> None:
        """Another user's edit: validated like an API update, stamped now."""
        self.update(record_id, values, unmodified_since=None)

    def row(self, record_id: str) -> Row | None:
        with self.lock:
            found = self._rows.get(record_id)
            return copy.deepcopy(found) if found is not None else None

    # -- the API's operations ------------------------------------------------------------

    def create(self, sobject: str, values: Mapping[str, Any]) -> str:
        with self.lock:
            self._check_values(sobject, values, creating=True)
            if sobject == "Note":
                self.live(str(values["ParentId"]), None)
            if sobject == "Event":
                values = self._event_values(values, {})
            row = self._new_row(sobject, values)
            self._rows[row["Id"]] = row
            return str(row["Id"])

    def live(self, record_id: str, sobject: str | None) -> Row:
        """The live row, or 404 ``NOT_FOUND`` / ``ENTITY_IS_DELETED``."""
        row = self._rows.get(record_id)
        if row is None or (sobject is not None and row["attributes"]["type"] != sobject):
            raise OrgError(404, "NOT_FOUND", "The requested resource does not exist")
        if row.get("IsDeleted"):
            raise OrgError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return row

    def read(self, sobject: str, record_id: str) -> Row:
        with self.lock:
            return copy.deepcopy(self.live(record_id, sobject))

    def update(
        self,
        record_id: str,
        values: Mapping[str, Any],
        *,
        unmodified_since: datetime | None,
        sobject: str | None = None,
    ) -> None:
        with self.lock:
            row = self.live(record_id, sobject)
            # Salesforce compares If-Unmodified-Since with the record's LastModifiedDate.
            if unmodified_since is not None and _parse_stamp(row["LastModifiedDate"]) > unmodified_since:
                raise OrgError(412, "PRECONDITION_FAILED", "The requested record was modified since")
            self._check_values(row["attributes"]["type"], values, creating=False)
            if row["attributes"]["type"] == "Event":
                values = self._event_values(values, row)
            row.update(values)
            self._touch(row)

    def delete(self, sobject: str, record_id: str) -> None:
        with self.lock:
            row = self.live(record_id, sobject)
            row["IsDeleted"] = True
            self._touch(row)

    def query(self, sobject: str) -> list[Row]:
        """Every live row of an object (``query`` filters and orders them)."""
        with self.lock:
            return [
                copy.deepcopy(row)
                for row in self._rows.values()
                if row["attributes"]["type"] == sobject and not row.get("IsDeleted")
            ]

    def merge(
        self,
        sobject: str,
        master_id: str,
        victim_ids: list[str],
        values: Mapping[str, Any],
        to_null: list[str],
    ) -> Merged:
        """One merge request, all or nothing (Salesforce runs each in one transaction)."""
        with self.lock:
            if sobject not in MERGEABLE:
                raise OrgError(400, "INVALID_TYPE", f"merge does not support {sobject}")
            if not 1 <= len(victim_ids) <= 2:
                raise OrgError(400, "LIMIT_EXCEEDED", "up to three records can be merged in one request")
            master = self._mergeable(master_id, sobject)
            victims = [self._mergeable(victim_id, sobject) for victim_id in victim_ids]
            if master_id in victim_ids:
                raise OrgError(400, "INVALID_ID_FIELD", "the master record cannot be merged into itself")
            self._check_values(sobject, {**values, **dict.fromkeys(to_null)}, creating=False)
            # A master field left blank takes a victim's value unless the request clears it.
            for victim in victims:
                for name in WRITABLE[sobject]:
                    if master.get(name) in (None, "") and victim.get(name) not in (None, ""):
                        master[name] = victim[name]
            master.update(values)
            master.update(dict.fromkeys(to_null))
            self._touch(master)
            moved = []
            for victim in victims:
                victim["IsDeleted"] = True
                victim["MasterRecordId"] = master_id
                self._touch(victim)
                for row in self._rows.values():
                    for link in ("ParentId", "WhoId", "WhatId"):  # Notes, and Events' Who/What
                        if row.get(link) == victim["Id"] and not row.get("IsDeleted"):
                            row[link] = master_id
                            self._touch(row)
                            moved.append(str(row["Id"]))
            return Merged(master_id, [str(v["Id"]) for v in victims], moved)

    # -- internals -----------------------------------------------------------------------

    def _mergeable(self, record_id: str, sobject: str) -> Row:
        row = self._rows.get(record_id)
        if row is None or row["attributes"]["type"] != sobject:
            raise OrgError(400, "INVALID_ID_FIELD", f"invalid id: {record_id}")
        if row.get("IsDeleted"):
            raise OrgError(400, "ENTITY_IS_DELETED", f"entity is deleted: {record_id}")
        return row

    def _new_row(self, sobject: str, values: Mapping[str, Any]) -> Row:
        record_id = self.new_id(sobject)
        row: Row = {
            "attributes": {"type": sobject, "url": f"/services/data/v59.0/sobjects/{sobject}/{record_id}"},
            "Id": record_id,
            "OwnerId": self.integration_user_id,
            "IsDeleted": False,
            "CreatedDate": self.stamp(),
            "SystemModstamp": self.stamp(),
            "LastModifiedDate": self.stamp(),
        }
        if sobject == "Lead":
            row["IsConverted"] = False
        row.update({k: v for k, v in values.items() if v is not None})
        return row

    def _touch(self, row: Row) -> None:
        row["SystemModstamp"] = row["LastModifiedDate"] = self.stamp()

    def _check_values(self, sobject: str, values: Mapping[str, Any], *, creating: bool) -> None:
        for name, value in values.items():
            if name in READ_ONLY:
                raise OrgError(
                    400, "INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {name}", [name]
                )
            if name not in WRITABLE[sobject]:
                raise OrgError(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}", [name]
                )
            if name == "OwnerId":
                self._check_owner(value)
        if creating:
            missing = [name for name in REQUIRED[sobject] if values.get(name) in (None, "")]
        else:
            missing = [name for name in REQUIRED[sobject] if name in values and values[name] in (None, "")]
        if missing:
            raise OrgError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: {missing}", missing)

    def _event_values(self, values: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
        """An Event's values with its times in Salesforce's shape, or the error Salesforce answers."""
        checked = dict(values)
        for name in EVENT_TIMES:
            if checked.get(name) is not None:
                checked[name] = _event_time(name, checked[name])
        start, end = (checked.get(name, row.get(name)) for name in EVENT_TIMES)
        if start is not None and end is not None and _parse_stamp(end) < _parse_stamp(start):
            raise OrgError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "End Date Time cannot be before Start Date Time",
                ["EndDateTime"],
            )
        if checked.get("ShowAs") is not None and checked["ShowAs"] not in SHOW_AS:
            raise OrgError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Show Time As: bad value: {checked['ShowAs']}",
            )
        for name, allowed in (("WhoId", ("Lead", "Contact")), ("WhatId", ("Account",))):
            if checked.get(name) is not None and not self._event_target(str(checked[name]), allowed):
                raise OrgError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name])
        return checked

    def _event_target(self, record_id: str, allowed: tuple[str, ...]) -> bool:
        target = self._rows.get(record_id)
        return (
            target is not None
            and target["attributes"]["type"] in allowed
            and not target.get("IsDeleted")
            and not target.get("IsConverted")
        )

    def _check_owner(self, owner_id: Any) -> None:
        user = self._rows.get(str(owner_id))
        if user is None or user["attributes"]["type"] != "User":
            raise OrgError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["OwnerId"])
        if not user["IsActive"]:
            raise OrgError(
                400, "INACTIVE_OWNER_OR_USER", "operation performed with inactive user", ["OwnerId"]
            )


def _parse_stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _event_time(name: str, value: Any) -> str:
    """An ISO 8601 datetime as Salesforce stores an Event's: UTC, whole seconds."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise OrgError(
            400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of datetime from {value!r}", [name]
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(STAMP_FORMAT)
