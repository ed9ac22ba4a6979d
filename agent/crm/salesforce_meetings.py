"""Meeting activities (:class:`~agent.ports.MeetingActivities`) as Salesforce Events.

A booking is one ``Event`` owned by the rep, on the lead's or contact's activity timeline:

=========================  ==========================================================
``MeetingActivity``        Event field
=========================  ==========================================================
record_id, object_type     ``WhoId`` (a Lead or Contact; its key prefix tells which);
                           ``WhatId`` for an account (an Event's ``WhoId`` names people only)
owner_id                   ``OwnerId``
title                      ``Subject``
starts_at, ends_at         ``StartDateTime``, ``EndDateTime`` (whole seconds, UTC)
body, uid                  ``Description``: the body, a blank line, ``revgate-uid: <uid>``
status                     scheduled: ``ShowAs`` Busy; cancelled: see below
=========================  ==========================================================

**Cancelling.** An Event has no status, and deleting it would lose the record of the
booking (and send it to the recycle bin, where reads cannot see it). A cancelled meeting
keeps its Event, its ``Subject`` gets the prefix ``Canceled:`` (what Outlook and Google put
before a cancelled meeting's title, so a rep reads it at a glance) and ``ShowAs`` becomes
``Free`` (the rep's Salesforce calendar no longer shows the time as busy). It reads as
cancelled when it has both; its title reads without the prefix. An Event a person deletes
reads as ``None``. An Event shown as ``Free`` is no busy time, whoever made it free: it is
never in ``owner_meetings``.

**The uid** is the last line of ``Description``: Event has no field meant for an external
id, a custom field would need setting up in every org, and the description is shown on
the Event, so whoever opens it can tell which invite it belongs to.

**Events revgate did not book.** An Event without that line (logged by hand, synced from a
calendar, a child Event of a shared meeting) is still the owner's busy time, unless it is
shown as ``Free``: ``owner_meetings`` lists it and ``get_meeting`` reads it, with an empty
``uid`` (and an empty ``record_id`` when neither its ``WhoId`` nor its ``WhatId`` is a Lead,
Contact or Account; ``object_type`` is then ``contact`` and means nothing), and
``update_meeting`` refuses it with ``CRMValidationError``: it is changed in Salesforce, not
through revgate. An Event without a start or an end is not read at all.

**Idempotency** is the adapter's :class:`~agent.crm.ledger.WriteLedger`, as for its other
writes; an entry left ``started`` is resolved by looking: a meeting was recorded when an
Event on the record carries its uid, a change applied when the Event holds it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.crm.ledger import WriteLedger
from agent.crm.remote_meetings import (
    UID_TAG,
    check_move,
    check_ours,
    check_span,
    find_tag,
    tag_line,
    utc,
)
from agent.crm.salesforce_client import SalesforceConnection
from agent.crm.salesforce_fields import (
    SOBJECTS,
    USER_PREFIX,
    is_id_of,
    parse_datetime,
    soql_datetime,
    soql_literal,
)
from agent.errors import CRMError, CRMNotFoundError, CRMUnavailableError
from agent.models import MeetingActivity, MeetingStatus, ObjectType

if TYPE_CHECKING:
    from agent.crm.salesforce import SalesforceCRM

EVENT_PREFIX = "00U"
CANCEL_PREFIX = "Canceled: "
SUBJECT_LENGTH = 255
_SELECT = (
    "SELECT Id, WhoId, WhatId, OwnerId, Subject, StartDateTime, EndDateTime, Description, ShowAs FROM Event"
)
_BUSY, _FREE = "Busy", "Free"


def salesforce_time(moment: datetime) -> str:
    """A datetime as the Event's field value: UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def description(body: str, uid: str) -> str:
    line = tag_line(UID_TAG, uid)
    return f"{body}\n\n{line}" if body else line


def _split(text: str) -> tuple[str, str | None]:
    """``Description`` as (body, uid); the uid is its last ``revgate-uid:`` line."""
    marker = text.rfind(f"{UID_TAG}:")
    if marker < 0 or (marker > 0 and text[marker - 1] != "\n"):
        return text, None
    uid = find_tag(text[marker:], UID_TAG)
    body = text[:marker]
    return (body[:-2] if body.endswith("\n\n") else body.rstrip("\n")), uid


class SalesforceMeetings:
    """The meeting side of :class:`~agent.crm.salesforce.SalesforceCRM`, which delegates to it."""

    def __init__(self, crm: SalesforceCRM, connection: SalesforceConnection, ledger: WriteLedger) -> None:
        self._crm = crm
        self._connection = connection
        self._ledger = ledger

    def record_meeting(
        self,
        object_type: ObjectType,
        record_id: str,
        *,
        owner_id: str,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        body: str,
        uid: str,
        idempotency_key: str,
    ) -> MeetingActivity:
        start, end = check_span(starts_at, ends_at)
        if not is_id_of(SOBJECTS[object_type].prefix, record_id):
            raise CRMNotFoundError(
                f"{record_id!r} is not the id of a Salesforce {SOBJECTS[object_type].name}"
            )
        event = {
            "WhatId" if object_type == "account" else "WhoId": record_id,
            "OwnerId": owner_id,
            "Subject": title,
            "StartDateTime": salesforce_time(start),
            "EndDateTime": salesforce_time(end),
            "Description": description(body, uid),
            "ShowAs": _BUSY,
        }
        entry = self._ledger.claim(idempotency_key, "record_meeting", record_id)
        if entry is not None:
            if entry.done:
                return self._recorded(entry.result_ref, idempotency_key)
            same = self._with_uid(object_type, record_id, uid)
            if same is not None:  # the attempt of unknown outcome created it
                self._ledger.finish(idempotency_key, same.id)
                return same
        options = self._connection.options
        with self._ledger.sending(idempotency_key):
            if self._crm.get(object_type, record_id) is None:
                raise CRMNotFoundError(f"no {object_type} {record_id}")
            self._connection.check_headroom()
            created = self._connection.write(
                lambda sf: sf.restful("sobjects/Event", method="POST", json=event, **options)
            )
        if not isinstance(created, dict) or "id" not in created:
            raise CRMUnavailableError(
                f"Salesforce created the Event of {record_id} without an id: {created!r}"
            )
        self._ledger.finish(idempotency_key, str(created["id"]))
        return self._recorded(str(created["id"]), idempotency_key)

    def update_meeting(
        self,
        activity_id: str,
        *,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        status: MeetingStatus | None = None,
        idempotency_key: str,
    ) -> MeetingActivity:
        span = check_move(starts_at, ends_at)
        if not is_id_of(EVENT_PREFIX, activity_id):
            raise CRMNotFoundError(f"{activity_id!r} is not the id of a Salesforce Event")
        entry = self._ledger.claim(idempotency_key, "update_meeting", activity_id)
        if entry is not None:
            current = self.get_meeting(activity_id)
            if entry.done or (current is not None and _holds(current, span, status)):
                if not entry.done:  # the attempt of unknown outcome applied
                    self._ledger.finish(idempotency_key)
                return _present(current, activity_id)
        options = self._connection.options
        with self._ledger.sending(idempotency_key):
            current = check_ours(_present(self.get_meeting(activity_id), activity_id))
            changes = _changes(current, span, status)
            if changes:
                self._connection.check_headroom()
                self._connection.write(
                    lambda sf: sf.restful(
                        f"sobjects/Event/{activity_id}", method="PATCH", json=changes, **options
                    )
                )
        self._ledger.finish(idempotency_key)
        return _present(self.get_meeting(activity_id), activity_id)

    def get_meeting(self, activity_id: str) -> MeetingActivity | None:
        if not is_id_of(EVENT_PREFIX, activity_id):
            return None
        rows = self._events(f"Id = {soql_literal('Id', activity_id)}")
        return rows[0] if rows else None

    def owner_meetings(self, owner_id: str, start: datetime, end: datetime) -> list[MeetingActivity]:
        low, high = utc(start, "start"), utc(end, "end")
        if not is_id_of(USER_PREFIX, owner_id) or high <= low:
            return []
        # SOQL datetimes are whole seconds: ask for a window a little wider, then cut exactly.
        conditions = (
            f"OwnerId = {soql_literal('OwnerId', owner_id)}"
            f" AND StartDateTime < {soql_datetime(high + timedelta(seconds=1))}"
            f" AND EndDateTime > {soql_datetime(low)}"
        )
        meetings = [
            meeting
            for meeting in self._events(conditions, order="StartDateTime, Id", busy_only=True)
            if meeting.status == "scheduled" and meeting.starts_at < high and meeting.ends_at > low
        ]
        return sorted(meetings, key=lambda m: (m.starts_at, m.id))

    # -- helpers -------------------------------------------------------------------------

    def _events(
        self, conditions: str, *, order: str = "Id", busy_only: bool = False
    ) -> list[MeetingActivity]:
        """The Events matching ``conditions``; with ``busy_only``, not those shown as free time."""
        rows = self._crm.query(f"{_SELECT} WHERE {conditions} ORDER BY {order}")
        found = (_activity(row) for row in rows if not (busy_only and row.get("ShowAs") == _FREE))
        return [meeting for meeting in found if meeting is not None]

    def _with_uid(self, object_type: ObjectType, record_id: str, uid: str) -> MeetingActivity | None:
        field = "WhatId" if object_type == "account" else "WhoId"
        found = self._events(f"{field} = {soql_literal('Id', record_id)}")
        return next((m for m in found if m.uid == uid), None)

    def _recorded(self, activity_id: str | None, key: str) -> MeetingActivity:
        found = self.get_meeting(activity_id or "")
        if found is None:
            raise CRMError(f"Event {activity_id} of idempotency key {key!r} is gone")
        return found


def _present(meeting: MeetingActivity | None, activity_id: str) -> MeetingActivity:
    if meeting is None:
        raise CRMNotFoundError(f"no Event {activity_id}")
    return meeting


def _holds(
    current: MeetingActivity, span: tuple[datetime, datetime] | None, status: MeetingStatus | None
) -> bool:
    now = (salesforce_time(current.starts_at), salesforce_time(current.ends_at))
    moved = span is None or now == (salesforce_time(span[0]), salesforce_time(span[1]))
    return moved and (status is None or current.status == status)


def _changes(
    current: MeetingActivity, span: tuple[datetime, datetime] | None, status: MeetingStatus | None
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if span is not None:
        changes["StartDateTime"], changes["EndDateTime"] = map(salesforce_time, span)
    if status == "cancelled" and current.status != "cancelled":
        changes["Subject"] = (CANCEL_PREFIX + current.title)[:SUBJECT_LENGTH]
        changes["ShowAs"] = _FREE
    elif status == "scheduled" and current.status == "cancelled":
        changes["Subject"], changes["ShowAs"] = current.title, _BUSY
    return changes


def _record_of(row: dict[str, Any]) -> tuple[ObjectType, str] | None:
    """The record an Event is on: its Lead or Contact (``WhoId``), else its Account (``WhatId``)."""
    who, what = str(row.get("WhoId") or ""), str(row.get("WhatId") or "")
    candidates: tuple[tuple[ObjectType, str], ...] = (("lead", who), ("contact", who), ("account", what))
    return next(((t, i) for t, i in candidates if is_id_of(SOBJECTS[t].prefix, i)), None)


def _activity(row: dict[str, Any]) -> MeetingActivity | None:
    """An Event row as an activity (``uid`` empty when revgate did not book it); None without times."""
    body, uid = _split(str(row.get("Description") or ""))
    record: tuple[ObjectType, str] = _record_of(row) or ("contact", "")  # on no record it maps
    if not row.get("StartDateTime") or not row.get("EndDateTime"):
        return None
    subject = str(row.get("Subject") or "")
    cancelled = row.get("ShowAs") == _FREE and subject.startswith(CANCEL_PREFIX)
    return MeetingActivity(
        id=str(row["Id"]),
        object_type=record[0],
        record_id=record[1],
        owner_id=str(row.get("OwnerId") or ""),
        title=subject[len(CANCEL_PREFIX) :] if cancelled else subject,
        starts_at=parse_datetime(str(row["StartDateTime"])),
        ends_at=parse_datetime(str(row["EndDateTime"])),
        status="cancelled" if cancelled else "scheduled",
        body=body,
        uid=uid or "",
    )
