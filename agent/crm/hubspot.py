"""The CRM port on HubSpot (hubspot-api-client, a private-app access token).

Connect with :meth:`HubSpotCRM.connect`. What maps to what (object types, properties,
picklists) is in :mod:`agent.crm.hubspot_mapping`; the requests and how their outcomes
become errors in :mod:`agent.crm.hubspot_transport`; paging in
:mod:`agent.crm.hubspot_search`; merging in :mod:`agent.crm.hubspot_merge`; meetings on a
contact's timeline (:class:`~agent.ports.MeetingActivities`, HubSpot's meetings engagement)
in :mod:`agent.crm.hubspot_meetings`.

How the port's contract is kept on a platform that offers neither conditional writes
nor idempotency keys:

- **Versions** are ``content_version(hs_lastmodifieddate, owner, mapped fields)``, so
  every write revgate can see changes the version even inside one millisecond.
- **Compare-and-set** is read, compare, then write (PATCH). Race window: an edit made
  by someone else between our GET and our PATCH (tens of milliseconds) is not seen;
  the PATCH only sends the fields revgate changes, so that edit survives unless it
  touched the same fields, which then end up with revgate's values.
- **Idempotency** is kept in revgate's database (:class:`~agent.crm.ledger.WriteLedger`):
  a replayed key writes nothing and returns the record (or note) as it is now. An
  entry left ``started`` (a crash, or a 5xx after the request left) is resolved by
  looking at HubSpot: an update is applied when the record holds the changes, a delete
  when the record is gone, a note when the record has a note with the same body, a
  merge by following the ids (see :mod:`agent.crm.hubspot_merge`), a meeting when one of
  the contact's meetings carries its uid, a meeting's move or cancel when the meeting holds it.
- **Merged-away ids** read as ``None``: HubSpot answers a merged-away id with the
  merged object (under its new id); the adapter only accepts an answer carrying the
  id it asked for.
- **Reads** are retried (429 and 5xx) by the injected :class:`~agent.crm.retry.Retrying`;
  writes only on 429; a write that met a 5xx is not re-sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import hubspot
from urllib3.util.retry import Retry

from agent.crm.hubspot_mapping import (
    DEFAULT_LEAD_STAGES,
    NOTE_ASSOCIATION_TYPE,
    NOTES,
    OWNER_PROPERTY,
    PROPERTIES,
    STAMP_PROPERTY,
    Classifier,
    check_writable,
    epoch_millis,
    hubspot_type,
    parse_time,
    picklist_of,
    read_properties,
    to_properties,
    to_record,
)
from agent.crm.hubspot_meetings import HubSpotMeetings
from agent.crm.hubspot_merge import HubSpotMerge
from agent.crm.hubspot_search import filter_, scan, type_groups
from agent.crm.hubspot_transport import HubSpotObject, HubSpotTransport
from agent.crm.ledger import WriteLedger
from agent.crm.remote_meetings import DelegatedMeetings
from agent.crm.retry import Retrying
from agent.errors import CRMConflictError, CRMError, CRMNotFoundError, CRMValidationError
from agent.models import (
    OWNER_FIELD,
    FieldValue,
    Note,
    ObjectType,
    Owner,
    Record,
)
from agent.ports import Clock

_T = TypeVar("_T")

DEFAULT_APP_URL = "https://app.hubspot.com"
_OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2"}
_NOTE_PROPERTIES = ("hs_note_body", "hs_timestamp", "hs_createdate")


class HubSpotCRM(DelegatedMeetings):
    """A :class:`~agent.ports.CRMClient` and :class:`~agent.ports.RecordLinks` over HubSpot.

    Also :class:`~agent.ports.MeetingActivities`, as meeting engagements (:mod:`agent.crm.hubspot_meetings`).
    """

    name = "hubspot"

    def __init__(
        self,
        transport: HubSpotTransport,
        *,
        ledger: WriteLedger,
        clock: Clock,
        portal_id: str,
        lead_stages: Sequence[str] = DEFAULT_LEAD_STAGES,
        app_url: str = DEFAULT_APP_URL,
    ) -> None:
        self._transport = transport
        self._ledger = ledger
        self._clock = clock
        self._portal_id = portal_id
        self._lead_stages = tuple(lead_stages)
        self._classifier = Classifier(frozenset(lead_stages))
        self._app_url = app_url.rstrip("/")
        self._merge = HubSpotMerge(self, transport, ledger)
        self._meetings = HubSpotMeetings(self, transport, ledger)

    @classmethod
    def connect(
        cls,
        *,
        access_token: str,
        portal_id: str | None,
        ledger: WriteLedger,
        clock: Clock,
        retrying: Retrying | None = None,
        host: str | None = None,
        lead_stages: Sequence[str] = DEFAULT_LEAD_STAGES,
        app_url: str = DEFAULT_APP_URL,
        timeout: float = 30.0,
    ) -> HubSpotCRM:
        """The adapter for one portal, from plain settings values.

        Args:
            access_token: a private app's access token (``HUBSPOT_ACCESS_TOKEN``).
            portal_id: the HubSpot account (Hub) id, for record links (``HUBSPOT_PORTAL_ID``);
                ``None`` raises ``ValueError`` (settings refuse a missing one, so it is a wiring bug).
            ledger: the idempotency ledger, ``WriteLedger(database, crm="hubspot", clock=...)``.
            clock: where ``hs_timestamp`` of new notes comes from.
            retrying: how reads and rate-limited writes are retried (``Retrying()`` if None).
            host: the API root, ``https://api.hubapi.com`` if None (tests pass a local server).
            lead_stages: ``lifecyclestage`` values that make a contact a lead.
            app_url: the web UI root for record links (``https://app-eu1.hubspot.com`` for EU portals).
            timeout: seconds to wait for an answer to one request.
        """
        if not portal_id:
            raise ValueError("the HubSpot portal id is not set (HUBSPOT_PORTAL_ID); record links need it")
        settings: dict[str, Any] = {"access_token": access_token, "retry": Retry(total=0, redirect=0)}
        if host is not None:
            # Client.create passes every keyword to each API's Configuration: one host for all of them.
            settings["host"] = host.rstrip("/")
        client = hubspot.Client.create(**settings)
        transport = HubSpotTransport(client, retrying=retrying or Retrying(), timeout=timeout)
        return cls(
            transport,
            ledger=ledger,
            clock=clock,
            portal_id=portal_id,
            lead_stages=lead_stages,
            app_url=app_url,
        )

    def record_url(self, object_type: ObjectType, record_id: str) -> str:
        type_id = _OBJECT_TYPE_IDS[hubspot_type(object_type)]
        return f"{self._app_url}/contacts/{self._portal_id}/record/{type_id}/{record_id}"

    # -- reads -------------------------------------------------------------------------

    def _record(self, object_type: ObjectType, found: HubSpotObject, wanted: str) -> Record | None:
        """``found`` as a record if it is ``wanted`` itself (not a redirect) and of the type."""
        if found.id != wanted:
            return None
        if self._classifier.type_of(hubspot_type(object_type), found.properties) != object_type:
            return None
        return to_record(object_type, found.id, found.properties)

    def get(self, object_type: ObjectType, record_id: str) -> Record | None:
        if not record_id.isdigit():  # HubSpot ids are numbers; anything else names no record
            return None
        found = self._transport.get(hubspot_type(object_type), record_id, read_properties(object_type))
        return None if found is None else self._record(object_type, found, record_id)

    def get_many(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        wanted = [rid for rid in dict.fromkeys(record_ids) if rid.isdigit()]
        if not wanted:
            return {}
        found = self._transport.batch_read(hubspot_type(object_type), wanted, read_properties(object_type))
        asked = set(wanted)
        records = (self._record(object_type, obj, obj.id) for obj in found if obj.id in asked)
        return {record.id: record for record in records if record is not None}

    def iter_records(
        self, object_type: ObjectType, *, changed_since: datetime | None = None, batch_size: int = 1000
    ) -> Iterator[Record]:
        """Every record of the type in id order (numeric), by keyset pages of at most 200."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        extra = [] if changed_since is None else [filter_(STAMP_PROPERTY, "GTE", epoch_millis(changed_since))]
        yield from self._scan(object_type, extra, batch_size)

    def _scan(
        self, object_type: ObjectType, extra: list[dict[str, Any]], batch_size: int
    ) -> Iterator[Record]:
        groups = type_groups(object_type, self._lead_stages)
        objects = scan(
            self._transport,
            hubspot_type(object_type),
            groups,
            extra,
            read_properties(object_type),
            page_size=batch_size,
        )
        for found in objects:
            record = self._record(object_type, found, found.id)
            if record is not None:
                yield record

    def search(self, object_type: ObjectType, field: str, value: FieldValue) -> list[Record]:
        """Exact matches: HubSpot's EQ ignores case, so its answers are filtered again here."""
        if field == OWNER_FIELD:
            name = OWNER_PROPERTY
        elif field in PROPERTIES[object_type]:
            name = PROPERTIES[object_type][field]
        else:
            raise CRMValidationError(f"{object_type} has no field {field}")
        if value is None:
            condition = filter_(name, "NOT_HAS_PROPERTY")
        else:
            encoded = to_properties(object_type, {field: value})[name]
            picklist = picklist_of(object_type, field)
            if picklist is not None and isinstance(value, str):
                condition = filter_(name, "IN", values=picklist.raw_values_of(value))
            else:
                condition = filter_(name, "EQ", encoded)
        return [r for r in self._scan(object_type, [condition], 200) if r.get(field) == value]

    def notes(self, object_type: ObjectType, record_id: str) -> list[Note]:
        if not record_id.isdigit():
            return []
        source = hubspot_type(object_type)
        note_ids = self._transport.associated_ids(source, record_id, NOTES)
        found = self._transport.batch_read(NOTES, note_ids, _NOTE_PROPERTIES) if note_ids else []
        notes = [self._note(object_type, record_id, obj) for obj in found]
        return sorted(notes, key=lambda n: (n.created_at, int(n.id) if n.id.isdigit() else 0, n.id))

    def _note(self, object_type: ObjectType, record_id: str, found: HubSpotObject) -> Note:
        props = found.properties
        stamp = props.get("hs_createdate") or props.get("hs_timestamp")
        return Note(
            id=found.id,
            object_type=object_type,
            record_id=record_id,
            body=str(props.get("hs_note_body") or ""),
            created_at=parse_time(str(stamp)) if stamp else self._clock.now(),
        )

    def owners(self) -> list[Owner]:
        listed = [*self._transport.owners(archived=False), *self._transport.owners(archived=True)]
        owners = {owner.id: owner for owner in map(_owner, listed)}
        return sorted(owners.values(), key=lambda o: o.id)

    def get_owner(self, owner_id: str) -> Owner | None:
        if not owner_id.isdigit():
            return None
        for archived in (False, True):
            found = self._transport.owner(owner_id, archived=archived)
            if found is not None:
                return _owner(found)
        return None

    def check_owner(self, changes: Mapping[str, FieldValue]) -> None:
        """An owner being set must be an active HubSpot owner (HubSpot refuses others)."""
        if changes.get(OWNER_FIELD) is None:
            return
        owner = self.get_owner(str(changes[OWNER_FIELD]))
        if owner is None or not owner.active:
            raise CRMValidationError(f"{changes[OWNER_FIELD]} is not an active HubSpot owner")

    # -- writes ------------------------------------------------------------------------

    def update(
        self,
        object_type: ObjectType,
        record_id: str,
        changes: Mapping[str, FieldValue],
        *,
        expected_version: str,
        idempotency_key: str,
    ) -> Record:
        check_writable(object_type, changes)
        properties = to_properties(object_type, changes)
        entry = self._ledger.claim(idempotency_key, "update", record_id)
        if entry is not None and entry.done:
            return self.existing(object_type, record_id)
        try:
            current = self.existing(object_type, record_id)
            if entry is not None and all(current.get(k) == v for k, v in changes.items()):
                self._ledger.finish(idempotency_key)  # the attempt of unknown outcome was applied
                return current
            if current.version != expected_version:
                raise CRMConflictError(record_id, expected_version, current.version)
            self.check_owner(changes)
        except CRMError:
            self._ledger.release(idempotency_key)
            raise
        self.send_write(
            idempotency_key, lambda: self._transport.update(hubspot_type(object_type), record_id, properties)
        )
        self._ledger.finish(idempotency_key)
        return self.existing(object_type, record_id)

    def merge(
        self,
        object_type: ObjectType,
        survivor_id: str,
        merged_ids: Sequence[str],
        field_plan: Mapping[str, FieldValue],
        *,
        expected_versions: Mapping[str, str],
        idempotency_key: str,
    ) -> Record:
        """Chained two-record merges into the survivor; see :mod:`agent.crm.hubspot_merge`.

        The returned record carries HubSpot's new id for the merged record.
        """
        return self._merge.run(
            object_type,
            survivor_id,
            merged_ids,
            field_plan,
            expected_versions=expected_versions,
            idempotency_key=idempotency_key,
        )

    def delete(
        self, object_type: ObjectType, record_id: str, *, expected_version: str, idempotency_key: str
    ) -> None:
        """Archive the record (HubSpot keeps archived records restorable for 90 days)."""
        entry = self._ledger.claim(idempotency_key, "delete", record_id)
        if entry is not None and entry.done:
            return
        try:
            current = self.get(object_type, record_id)
            if current is None and entry is not None:
                self._ledger.finish(idempotency_key)  # the attempt of unknown outcome archived it
                return
            if current is None:
                raise CRMNotFoundError(f"no {object_type} {record_id} in HubSpot")
            if current.version != expected_version:
                raise CRMConflictError(record_id, expected_version, current.version)
        except CRMError:
            self._ledger.release(idempotency_key)
            raise
        self.send_write(
            idempotency_key, lambda: self._transport.archive(hubspot_type(object_type), record_id)
        )
        self._ledger.finish(idempotency_key)

    def add_note(self, object_type: ObjectType, record_id: str, body: str, *, idempotency_key: str) -> Note:
        """A note object associated to the record (HubSpot-defined note association type)."""
        entry = self._ledger.claim(idempotency_key, "add_note", record_id)
        if entry is not None and entry.done:
            found = self._transport.get(NOTES, entry.result_ref or "", _NOTE_PROPERTIES)
            if found is None:
                raise CRMError(f"note {entry.result_ref} of idempotency key {idempotency_key!r} is gone")
            return self._note(object_type, record_id, found)
        try:
            self.existing(object_type, record_id)
            if entry is not None:
                same = [note for note in self.notes(object_type, record_id) if note.body == body]
                if same:  # the attempt of unknown outcome created it
                    self._ledger.finish(idempotency_key, same[-1].id)
                    return same[-1]
        except CRMError:
            self._ledger.release(idempotency_key)
            raise
        source = hubspot_type(object_type)
        request = {
            "properties": {"hs_note_body": body, "hs_timestamp": self._clock.now().isoformat()},
            "associations": [
                {
                    "to": {"id": record_id},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": NOTE_ASSOCIATION_TYPE[source],
                        }
                    ],
                }
            ],
        }
        created = self.send_write(idempotency_key, lambda: self._transport.create(NOTES, request))
        self._ledger.finish(idempotency_key, created.id)
        return self._note(object_type, record_id, created)

    # -- helpers -----------------------------------------------------------------------

    def existing(self, object_type: ObjectType, record_id: str) -> Record:
        record = self.get(object_type, record_id)
        if record is None:
            raise CRMNotFoundError(f"no {object_type} {record_id} in HubSpot")
        return record

    def send_write(self, key: str, request: Callable[[], _T]) -> _T:
        """Send one write under :meth:`WriteLedger.sending` (refused: key freed; 5xx: kept ``started``)."""
        with self._ledger.sending(key):
            return request()


def _owner(raw: Mapping[str, Any]) -> Owner:
    first, last = raw.get("first_name") or "", raw.get("last_name") or ""
    email = str(raw.get("email") or "")
    teams = raw.get("teams") or []
    primary = next((t for t in teams if t.get("primary")), teams[0] if teams else None)
    return Owner(
        id=str(raw["id"]),
        name=f"{first} {last}".strip() or email,
        email=email,
        active=not raw.get("archived", False),
        team=None if primary is None else str(primary.get("name")),
    )
