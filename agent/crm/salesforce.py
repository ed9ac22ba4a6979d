"""Salesforce behind the CRM port: Lead, Contact, Account and User on simple-salesforce.

revgate's ``lead`` is a Lead that is not converted (``IsConverted = false``; deleted rows
never show in ``query``), ``contact`` a Contact, ``account`` an Account; field names map as in
:mod:`agent.crm.salesforce_fields`. Connect with :meth:`SalesforceCRM.connect`. Meetings on a
record's timeline (:class:`~agent.ports.MeetingActivities`) are Events, recorded, moved and
cancelled as :mod:`agent.crm.salesforce_meetings` describes.

How the contract's hard points are met on Salesforce:

- **Versions** are ``content_version(SystemModstamp, OwnerId, mapped fields)``: the stamp has
  whole seconds only, so the digest of what revgate reads tells apart two writes in one second.
- **Compare-and-set**: an update reads the record, compares the version, then sends the PATCH
  with ``If-Unmodified-Since: <SystemModstamp>``; Salesforce answers 412 (nothing written) when
  the record's ``LastModifiedDate`` (never later than ``SystemModstamp``) is in a later second.
  The race left open is another write landing in the *same* second as the stamp we read,
  between our read and our PATCH. Deletes (Salesforce takes no conditional header on DELETE)
  and merges take no precondition: their window is the time between our read and the request
  (a few hundred milliseconds).
- **Idempotency** uses :class:`~agent.crm.ledger.WriteLedger` (Salesforce takes no key). A
  ``started`` key (outcome unknown) is resolved by looking: an update is applied when the record
  holds every change; a delete when the record is gone; a note when the record has a note with
  the same body; a merge when its merged records are gone (it then finishes what is left); a
  meeting when an Event on the record carries its uid, a meeting's move or cancel when the
  Event holds it.
- **Merge** uses the partner SOAP ``merge`` call, at most two records into the master per call,
  chained for more (progress kept in the ledger, so a retry continues the chain). Every
  version, every id and the plan's owner are checked before the first call. The plan goes in
  the *last* call's master record (with ``fieldsToNull`` for the survivor's empty fields, so no
  merge rule can fill them from a merged record), so the field changes land with the final
  merge in one transaction. Salesforce re-parents the merged records' Notes to the master and
  deletes the merged records; reads never return deleted rows. Nothing is re-checked between
  the calls of a chain, so a chain of four or more records is not one transaction: a failure
  mid-chain leaves the calls made so far applied and the ledger entry ``started`` for the
  retry to finish.
- **No owner**: Salesforce records always have an owner, so "no owner" is a configured user
  (``unassigned_owner_id``, by default the user revgate logs in as): its records read with
  ``owner_id=None`` and clearing an owner assigns them to it.
- **API usage**: a write is refused (``CRMRateLimitedError``) while the org's daily API usage
  is above ``usage_ceiling`` (default 90%), as read from the ``Sforce-Limit-Info`` header of
  the last answer (or ``/limits`` before any); :attr:`api_usage` shows the last reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.util import Usage

from agent.crm.fields import fields_of
from agent.crm.ledger import WriteLedger
from agent.crm.remote_meetings import DelegatedMeetings
from agent.crm.retry import Retrying
from agent.crm.salesforce_client import (
    DEFAULT_API_VERSION,
    DEFAULT_LOGIN_URL,
    PasswordLogin,
    PreconditionFailed,
    SalesforceConnection,
)
from agent.crm.salesforce_fields import (
    NOTE_PREFIX,
    SOBJECTS,
    USER_PREFIX,
    from_salesforce,
    is_id_of,
    parse_datetime,
    select_list,
    soql_datetime,
    soql_literal,
    to_salesforce,
)
from agent.crm.salesforce_meetings import SalesforceMeetings
from agent.crm.salesforce_merge import MergeChain
from agent.crm.versions import content_version
from agent.errors import CRMConflictError, CRMNotFoundError, CRMUnavailableError, CRMValidationError
from agent.models import (
    OWNER_FIELD,
    FieldValue,
    Note,
    ObjectType,
    Owner,
    Record,
)
from agent.ports import Clock

_RETRIEVE_CHUNK = 2000
_NOTE_TITLE_LENGTH = 80
_NOTE_SELECT = "SELECT Id, ParentId, Body, CreatedDate FROM Note"


class SalesforceCRM(DelegatedMeetings):
    """A :class:`~agent.ports.CRMClient` and :class:`~agent.ports.RecordLinks` over a Salesforce org.

    Also :class:`~agent.ports.MeetingActivities`, as Events (:mod:`agent.crm.salesforce_meetings`).
    """

    name = "salesforce"

    def __init__(
        self,
        connection: SalesforceConnection,
        *,
        ledger: WriteLedger,
        clock: Clock,
        unassigned_owner_id: str | None = None,
    ) -> None:
        self.connection = connection
        self._ledger = ledger
        self._clock = clock
        self._unassigned = unassigned_owner_id
        self._merges = MergeChain(self, connection, ledger)
        self._meetings = SalesforceMeetings(self, connection, ledger)

    @classmethod
    def connect(
        cls,
        *,
        ledger: WriteLedger,
        clock: Clock,
        retrying: Retrying | None = None,
        session: requests.Session | None = None,
        access_token: str | None = None,
        instance_url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        security_token: str = "",
        client_id: str | None = None,
        client_secret: str | None = None,
        login_url: str = DEFAULT_LOGIN_URL,
        api_version: str = DEFAULT_API_VERSION,
        usage_ceiling: float = 0.9,
        unassigned_owner_id: str | None = None,
        timeout: float = 30.0,
    ) -> SalesforceCRM:
        """Build the adapter from plain settings; nothing is sent until the first call.

        Either ``access_token`` + ``instance_url`` (an OAuth access token; a 401 is then
        ``CRMAuthError``), or ``username`` + ``password`` + ``security_token`` + ``client_id`` +
        ``client_secret`` of a connected app (the OAuth username-password flow against
        ``login_url``, repeated once when a session expires). ``session`` is the
        ``requests.Session`` to send through (proxies, CA bundle); ``usage_ceiling`` the share of
        the daily API limit above which writes are refused.
        """
        login = None
        if username is not None:
            if password is None or client_id is None or client_secret is None:
                raise ValueError("a Salesforce password login needs password, client_id and client_secret")
            login = PasswordLogin(username, password, security_token, client_id, client_secret, login_url)
        connection = SalesforceConnection(
            session=session or requests.Session(),
            retrying=retrying or Retrying(),
            access_token=access_token,
            instance_url=instance_url,
            login=login,
            api_version=api_version,
            usage_ceiling=usage_ceiling,
            timeout=timeout,
        )
        return cls(connection, ledger=ledger, clock=clock, unassigned_owner_id=unassigned_owner_id)

    @property
    def api_usage(self) -> Usage | None:
        """The org's API usage (used, daily total) as last reported by Salesforce."""
        return self.connection.api_usage

    def record_url(self, object_type: ObjectType, record_id: str) -> str:
        sobject = SOBJECTS[object_type].name
        return f"{self.connection.instance_url}/lightning/r/{sobject}/{record_id}/view"

    # -- reads ---------------------------------------------------------------------------

    def get(self, object_type: ObjectType, record_id: str) -> Record | None:
        return self.get_many(object_type, [record_id]).get(record_id)

    def get_many(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        """sObject Collections retrieve, 2,000 ids a request; ids of another object are never sent."""
        prefix = SOBJECTS[object_type].prefix
        wanted = [rid for rid in dict.fromkeys(record_ids) if is_id_of(prefix, rid)]
        found: dict[str, Record] = {}
        for start in range(0, len(wanted), _RETRIEVE_CHUNK):
            for row in self._retrieve(object_type, wanted[start : start + _RETRIEVE_CHUNK]):
                if row is not None and not (object_type == "lead" and row.get("IsConverted")):
                    record = self._record(object_type, row)
                    found[record.id] = record
        return found

    def iter_records(
        self, object_type: ObjectType, *, changed_since: datetime | None = None, batch_size: int = 1000
    ) -> Iterator[Record]:
        """One SOQL query ordered by Id, paged with queryMore (``batchSize`` 200-2,000), no cap."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        conditions = [] if changed_since is None else [f"SystemModstamp >= {soql_datetime(changed_since)}"]
        size = min(max(batch_size, 200), 2000)
        for row in self.query(self._soql(object_type, conditions), batch_size=size):
            yield self._record(object_type, row)

    def search(self, object_type: ObjectType, field: str, value: FieldValue) -> list[Record]:
        """A SOQL equality query, then an exact comparison (SOQL compares text case-blind)."""
        if field == OWNER_FIELD:
            sf_field = "OwnerId"
            target = self._unassigned_id() if value is None else value
            if not isinstance(target, str) or not is_id_of(USER_PREFIX, target):
                return []
            literal = soql_literal("OwnerId", target)
        elif field in fields_of(object_type):
            sf_field = SOBJECTS[object_type].fields[field]
            literal = soql_literal(sf_field, value)
        else:
            raise CRMValidationError(f"{object_type} has no field {field}")
        if literal is None:
            return []
        soql = self._soql(object_type, [f"{sf_field} = {literal}"])
        found = (self._record(object_type, row) for row in self.query(soql))
        return [record for record in found if record.get(field) == value]

    def notes(self, object_type: ObjectType, record_id: str) -> list[Note]:
        if not is_id_of(SOBJECTS[object_type].prefix, record_id):
            return []
        parent = soql_literal("Id", record_id)
        soql = f"{_NOTE_SELECT} WHERE ParentId = {parent} ORDER BY CreatedDate, Id"
        return [self._note(object_type, row) for row in self.query(soql)]

    def owners(self) -> list[Owner]:
        return [self._owner(row) for row in self.query(self._users("")) if not self._is_unassigned(row["Id"])]

    def get_owner(self, owner_id: str) -> Owner | None:
        if not is_id_of(USER_PREFIX, owner_id) or self._is_unassigned(owner_id):
            return None
        rows = list(self.query(self._users(f" AND Id = {soql_literal('Id', owner_id)}")))
        return self._owner(rows[0]) if rows else None

    # -- writes --------------------------------------------------------------------------

    def update(
        self,
        object_type: ObjectType,
        record_id: str,
        changes: Mapping[str, FieldValue],
        *,
        expected_version: str,
        idempotency_key: str,
    ) -> Record:
        """Read, compare, PATCH with ``If-Unmodified-Since`` (see the module docstring)."""
        payload = self.payload(object_type, changes)
        self._known(object_type, record_id)
        entry = self._ledger.claim(idempotency_key, "update", record_id)
        if entry is not None:
            current = self.get(object_type, record_id)
            if entry.done or (current is not None and all(current.get(k) == v for k, v in changes.items())):
                if not entry.done:
                    self._ledger.finish(idempotency_key)
                return self._present(current, record_id)
        with self._ledger.sending(idempotency_key):
            current = self._checked(object_type, record_id, expected_version)
            self.connection.check_headroom()
            try:
                self.patch(object_type, record_id, payload, unmodified_since=current.updated_at)
            except PreconditionFailed:
                now = self.get(object_type, record_id)
                raise CRMConflictError(
                    record_id, expected_version, None if now is None else now.version
                ) from None
        self._ledger.finish(idempotency_key)
        return self._present(self.get(object_type, record_id), record_id)

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
        """SOAP ``merge`` calls of up to three records, chained (see the module docstring)."""
        return self._merges.merge(
            object_type,
            survivor_id,
            list(merged_ids),
            field_plan,
            expected_versions=expected_versions,
            key=idempotency_key,
        )

    def delete(
        self, object_type: ObjectType, record_id: str, *, expected_version: str, idempotency_key: str
    ) -> None:
        self._known(object_type, record_id)
        entry = self._ledger.claim(idempotency_key, "delete", record_id)
        if entry is not None and (entry.done or self.get(object_type, record_id) is None):
            if not entry.done:
                self._ledger.finish(idempotency_key)
            return
        name = SOBJECTS[object_type].name
        with self._ledger.sending(idempotency_key):
            self._checked(object_type, record_id, expected_version)
            self.connection.check_headroom()
            self.connection.write(
                lambda sf: sf.restful(
                    f"sobjects/{name}/{record_id}", method="DELETE", **self.connection.options
                )
            )
        self._ledger.finish(idempotency_key)

    def add_note(self, object_type: ObjectType, record_id: str, body: str, *, idempotency_key: str) -> Note:
        """A classic ``Note`` (ParentId, Title = the first line, Body)."""
        self._known(object_type, record_id)
        entry = self._ledger.claim(idempotency_key, "note", record_id)
        if entry is not None:
            existing = {n.id: n for n in self.notes(object_type, record_id)}
            if entry.done and entry.result_ref in existing:
                return existing[entry.result_ref]
            same = [n for n in existing.values() if n.body == body]
            if same:
                self._ledger.finish(idempotency_key, same[0].id)
                return same[0]
            if entry.done:
                raise CRMNotFoundError(f"note {entry.result_ref} of {record_id} is gone")
        title = (body.strip().splitlines() or ["Note"])[0][:_NOTE_TITLE_LENGTH]
        note = {"ParentId": record_id, "Title": title, "Body": body}
        with self._ledger.sending(idempotency_key):
            self._present(self.get(object_type, record_id), record_id)
            self.connection.check_headroom()
            created = self.connection.write(
                lambda sf: sf.restful("sobjects/Note", method="POST", json=note, **self.connection.options)
            )
        if not isinstance(created, dict) or "id" not in created:
            raise CRMUnavailableError(f"Salesforce created note of {record_id} without an id: {created!r}")
        note_id = str(created["id"])
        self._ledger.finish(idempotency_key, note_id)
        rows = []
        if is_id_of(NOTE_PREFIX, note_id):
            soql = f"{_NOTE_SELECT} WHERE Id = {soql_literal('Id', note_id)}"
            rows = list(self.query(soql))
        if not rows:
            raise CRMNotFoundError(f"note {note_id} cannot be read back")
        return self._note(object_type, rows[0])

    # -- pieces the merge chain and the meetings share -----------------------------------

    def payload(self, object_type: ObjectType, changes: Mapping[str, FieldValue]) -> dict[str, Any]:
        """Salesforce values for canonical ``changes``; clearing the owner assigns the unassigned user."""
        payload = to_salesforce(object_type, changes)
        if OWNER_FIELD in changes and changes[OWNER_FIELD] is None:
            payload["OwnerId"] = self._unassigned_id()
        return payload

    def patch(
        self,
        object_type: ObjectType,
        record_id: str,
        payload: Mapping[str, Any],
        *,
        unmodified_since: datetime,
    ) -> None:
        name = SOBJECTS[object_type].name
        headers = {"If-Unmodified-Since": format_datetime(unmodified_since, usegmt=True)}
        self.connection.write(
            lambda sf: sf.restful(
                f"sobjects/{name}/{record_id}",
                method="PATCH",
                json=dict(payload),
                headers=headers,
                **self.connection.options,
            )
        )

    def active_user(self, owner_id: str) -> bool:
        if self._is_unassigned(owner_id):
            return True
        soql = f"SELECT Id, IsActive FROM User WHERE Id = {soql_literal('Id', owner_id)}"
        return any(row.get("IsActive") for row in self.query(soql))

    def _checked(self, object_type: ObjectType, record_id: str, expected_version: str) -> Record:
        current = self._present(self.get(object_type, record_id), record_id)
        if current.version != expected_version:
            raise CRMConflictError(record_id, expected_version, current.version)
        return current

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _present(record: Record | None, record_id: str) -> Record:
        if record is None:
            raise CRMNotFoundError(f"no record {record_id}")
        return record

    @staticmethod
    def _known(object_type: ObjectType, record_id: str) -> None:
        if not is_id_of(SOBJECTS[object_type].prefix, record_id):
            raise CRMNotFoundError(
                f"{record_id!r} is not the id of a Salesforce {SOBJECTS[object_type].name}"
            )

    def _unassigned_id(self) -> str:
        if self._unassigned is None:
            self._unassigned = self.connection.user_id()
        return self._unassigned

    def _is_unassigned(self, owner_id: str | None) -> bool:
        return owner_id is not None and owner_id[:15] == self._unassigned_id()[:15]

    def _soql(self, object_type: ObjectType, conditions: list[str]) -> str:
        sobject = SOBJECTS[object_type]
        where = [c for c in (sobject.live, *conditions) if c]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return f"SELECT {', '.join(select_list(object_type))} FROM {sobject.name}{clause} ORDER BY Id"

    @staticmethod
    def _users(condition: str) -> str:
        return (
            f"SELECT Id, Name, Email, IsActive FROM User WHERE UserType = 'Standard'{condition} ORDER BY Id"
        )

    def query(self, soql: str, *, batch_size: int = 2000) -> Iterator[dict[str, Any]]:
        """The rows a SOQL query selects, every page (queryMore), each page a retried read."""
        options = self.connection.options
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        page = self.connection.read(lambda sf: sf.query(soql, headers=headers, **options))
        while True:
            yield from page["records"]
            if page.get("done", True):
                return
            page = self.connection.read(self._more(str(page["nextRecordsUrl"]), headers))

    def _more(self, next_url: str, headers: Mapping[str, str]) -> Callable[[Salesforce], Any]:
        """queryMore of the page at ``next_url`` (the query's ``nextRecordsUrl``)."""
        options = self.connection.options
        return lambda sf: sf.query_more(next_url, identifier_is_url=True, headers=dict(headers), **options)

    def _retrieve(self, object_type: ObjectType, ids: list[str]) -> list[dict[str, Any] | None]:
        body = {"ids": ids, "fields": select_list(object_type)}
        path = f"composite/sobjects/{SOBJECTS[object_type].name}"
        rows = self.connection.read(
            lambda sf: sf.restful(path, method="POST", json=body, **self.connection.options)
        )
        return list(rows or [])

    def _record(self, object_type: ObjectType, row: Mapping[str, Any]) -> Record:
        owner_id = row.get("OwnerId")
        if self._is_unassigned(owner_id):
            owner_id = None
        fields = from_salesforce(object_type, row)
        stamp = str(row["SystemModstamp"])
        return Record(
            object_type=object_type,
            id=str(row["Id"]),
            version=content_version(stamp, owner_id, fields),
            owner_id=owner_id,
            fields=fields,
            created_at=parse_datetime(str(row["CreatedDate"])),
            updated_at=parse_datetime(stamp),
        )

    @staticmethod
    def _note(object_type: ObjectType, row: Mapping[str, Any]) -> Note:
        return Note(
            id=str(row["Id"]),
            object_type=object_type,
            record_id=str(row["ParentId"]),
            body=str(row.get("Body") or ""),
            created_at=parse_datetime(str(row["CreatedDate"])),
        )

    @staticmethod
    def _owner(row: Mapping[str, Any]) -> Owner:
        return Owner(
            id=str(row["Id"]),
            name=str(row.get("Name") or ""),
            email=str(row.get("Email") or ""),
            active=bool(row.get("IsActive")),
        )
