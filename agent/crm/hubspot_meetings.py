"""Meeting activities (:class:`~agent.ports.MeetingActivities`) on HubSpot's meetings engagement.

A booking is one object of ``/crm/v3/objects/meetings``, associated with the contact
(revgate's leads and contacts are both HubSpot contacts; association type 200, meeting ->
contact) so it shows on the contact's timeline:

=========================  ===========================================================
``MeetingActivity``        HubSpot meeting property
=========================  ===========================================================
title, body                ``hs_meeting_title``, ``hs_meeting_body`` (the description)
starts_at, ends_at         ``hs_meeting_start_time``, ``hs_meeting_end_time``
                           (and ``hs_timestamp`` = the start: where the timeline shows it)
owner_id                   ``hubspot_owner_id``
status                     ``hs_meeting_outcome``: ``SCHEDULED``; ``CANCELED`` (revgate's
                           cancel) or ``RESCHEDULED`` (a person's) = cancelled
uid, object_type,          ``hs_internal_meeting_notes``, two lines:
record_id                  ``revgate-uid: <uid>`` and ``revgate-record: <type>/<id>``
=========================  ===========================================================

Why the internal notes: HubSpot has no property for an iCalendar ``UID``, the internal
notes are shown to the team only (never in the attendee's description), they survive any
edit of title, body or times, and they need no custom property in the portal. The record
line names the record the meeting was booked on: when that contact is later merged, HubSpot
moves the association to the merged contact but the line keeps the old id.

**Meetings revgate did not book.** A meeting without the ``revgate-uid`` line (logged by
hand, synced from a calendar) is still the owner's busy time: ``owner_meetings`` lists it
and ``get_meeting`` reads it, with an empty ``uid`` and ``record_id`` (its associations are
not read; ``object_type`` is then ``contact`` and means nothing), and ``update_meeting``
refuses it with ``CRMValidationError``: it is changed in HubSpot, not through revgate. A
meeting whose outcome is ``CANCELED`` or ``RESCHEDULED`` is not busy (it reads as
cancelled); ``COMPLETED`` and ``NO_SHOW`` took the time and stay busy. A meeting without a
start or an end is no span of time and is not read at all.

Idempotency is the adapter's :class:`~agent.crm.ledger.WriteLedger`, as for notes: an entry
left ``started`` (a 5xx after the request left) is resolved by looking at HubSpot, a
meeting is recorded when one of the contact's meetings carries its uid, a change applied
when the meeting holds the new times and outcome. ``owner_meetings`` is one search
(owner, overlap with the window, outcome not ``CANCELED`` nor ``RESCHEDULED``, or no outcome
at all: a meeting logged by hand may have none), paged by id like every scan;
HubSpot's search index trails its writes by a few seconds, so a meeting booked or moved
that recently may not show in it yet (``get_meeting`` reads it at once).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from agent.crm.hubspot_mapping import OWNER_PROPERTY, epoch_millis, hubspot_type, parse_time
from agent.crm.hubspot_search import filter_, scan
from agent.crm.hubspot_transport import HubSpotObject, HubSpotTransport
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
from agent.errors import CRMError, CRMNotFoundError
from agent.models import MeetingActivity, MeetingStatus, ObjectType

if TYPE_CHECKING:
    from agent.crm.hubspot import HubSpotCRM

MEETINGS = "meetings"
MEETING_ASSOCIATION_TYPE = {"contacts": 200, "companies": 188}
"""HubSpot-defined association type ids, meeting -> contact and meeting -> company."""
RECORD_TAG = "revgate-record"
START, END, OUTCOME, NOTES = (
    "hs_meeting_start_time",
    "hs_meeting_end_time",
    "hs_meeting_outcome",
    "hs_internal_meeting_notes",
)
_OUTCOMES: dict[MeetingStatus, str] = {"scheduled": "SCHEDULED", "cancelled": "CANCELED"}
NOT_BUSY = ("CANCELED", "RESCHEDULED")
"""Outcomes that free the owner's time (read as cancelled); any other outcome, or none, is busy."""
_PROPERTIES = (
    "hs_timestamp",
    "hs_meeting_title",
    "hs_meeting_body",
    START,
    END,
    OUTCOME,
    NOTES,
    OWNER_PROPERTY,
)
_TYPES: frozenset[str] = frozenset({"lead", "contact", "account"})


def hubspot_time(moment: datetime) -> str:
    """A UTC datetime as HubSpot writes them: ISO 8601, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HubSpotMeetings:
    """The meeting side of :class:`~agent.crm.hubspot.HubSpotCRM`, which delegates to it."""

    def __init__(self, crm: HubSpotCRM, transport: HubSpotTransport, ledger: WriteLedger) -> None:
        self._crm = crm
        self._transport = transport
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
        notes = f"{tag_line(UID_TAG, uid)}\n{tag_line(RECORD_TAG, f'{object_type}/{record_id}')}"
        entry = self._ledger.claim(idempotency_key, "record_meeting", record_id)
        if entry is not None and entry.done:
            return self._recorded(entry.result_ref, idempotency_key)
        try:
            self._crm.existing(object_type, record_id)
            if entry is not None:
                same = self._with_uid(object_type, record_id, uid)
                if same is not None:  # the attempt of unknown outcome created it
                    self._ledger.finish(idempotency_key, same.id)
                    return same
        except CRMError:
            self._ledger.release(idempotency_key)
            raise
        source = hubspot_type(object_type)
        request: dict[str, Any] = {
            "properties": {
                "hs_timestamp": hubspot_time(start),
                "hs_meeting_title": title,
                "hs_meeting_body": body,
                START: hubspot_time(start),
                END: hubspot_time(end),
                OUTCOME: _OUTCOMES["scheduled"],
                NOTES: notes,
                OWNER_PROPERTY: owner_id,
            },
            "associations": [
                {
                    "to": {"id": record_id},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": MEETING_ASSOCIATION_TYPE[source],
                        }
                    ],
                }
            ],
        }
        created = self._crm.send_write(idempotency_key, lambda: self._transport.create(MEETINGS, request))
        self._ledger.finish(idempotency_key, created.id)
        return self._recorded(created.id, idempotency_key)

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
        changes: dict[str, str] = {}
        if span is not None:
            changes |= {"hs_timestamp": hubspot_time(span[0]), START: hubspot_time(span[0])}
            changes[END] = hubspot_time(span[1])
        if status is not None:
            changes[OUTCOME] = _OUTCOMES[status]
        entry = self._ledger.claim(idempotency_key, "update_meeting", activity_id)
        if entry is not None and entry.done:
            return self._present(activity_id)
        try:
            current = check_ours(self._present(activity_id))
            if not changes or (entry is not None and _holds(current, span, status)):
                self._ledger.finish(idempotency_key)  # nothing to change, or the unknown attempt applied
                return current
        except CRMError:
            self._ledger.release(idempotency_key)
            raise
        self._crm.send_write(idempotency_key, lambda: self._transport.update(MEETINGS, activity_id, changes))
        self._ledger.finish(idempotency_key)
        return self._present(activity_id)

    def get_meeting(self, activity_id: str) -> MeetingActivity | None:
        if not activity_id.isdigit():  # HubSpot ids are numbers
            return None
        found = self._transport.get(MEETINGS, activity_id, _PROPERTIES)
        if found is None or found.id != activity_id:
            return None
        return _activity(found)

    def owner_meetings(self, owner_id: str, start: datetime, end: datetime) -> list[MeetingActivity]:
        low, high = utc(start, "start"), utc(end, "end")
        if not owner_id.isdigit() or high <= low:
            return []
        conditions = [
            filter_(OWNER_PROPERTY, "EQ", owner_id),
            filter_(START, "LT", epoch_millis(high)),
            filter_(END, "GT", epoch_millis(low)),
        ]
        busy = [[filter_(OUTCOME, "NOT_IN", values=NOT_BUSY)], [filter_(OUTCOME, "NOT_HAS_PROPERTY")]]
        found = scan(self._transport, MEETINGS, busy, conditions, _PROPERTIES, page_size=200)
        meetings = [
            meeting
            for meeting in map(_activity, found)
            if meeting is not None
            and meeting.status == "scheduled"
            and meeting.owner_id == owner_id
            and meeting.starts_at < high
            and meeting.ends_at > low
        ]
        return sorted(meetings, key=lambda m: (m.starts_at, int(m.id)))

    # -- helpers -------------------------------------------------------------------------

    def _present(self, activity_id: str) -> MeetingActivity:
        found = self.get_meeting(activity_id)
        if found is None:
            raise CRMNotFoundError(f"no meeting {activity_id} in HubSpot")
        return found

    def _recorded(self, activity_id: str | None, key: str) -> MeetingActivity:
        found = self.get_meeting(activity_id or "")
        if found is None:
            raise CRMError(f"meeting {activity_id} of idempotency key {key!r} is gone")
        return found

    def _with_uid(self, object_type: ObjectType, record_id: str, uid: str) -> MeetingActivity | None:
        ids = self._transport.associated_ids(hubspot_type(object_type), record_id, MEETINGS)
        found = self._transport.batch_read(MEETINGS, ids, _PROPERTIES) if ids else []
        return next((m for m in map(_activity, found) if m is not None and m.uid == uid), None)


def _holds(
    current: MeetingActivity, span: tuple[datetime, datetime] | None, status: MeetingStatus | None
) -> bool:
    now = (hubspot_time(current.starts_at), hubspot_time(current.ends_at))
    moved = span is None or now == (hubspot_time(span[0]), hubspot_time(span[1]))
    return moved and (status is None or current.status == status)


def _activity(found: HubSpotObject) -> MeetingActivity | None:
    """A HubSpot meeting as an activity (``uid`` empty when revgate did not book it); None without times."""
    props = found.properties
    notes = str(props.get(NOTES) or "")
    uid, record = find_tag(notes, UID_TAG), find_tag(notes, RECORD_TAG)
    object_type, _, record_id = (record or "").partition("/")
    if object_type not in _TYPES or not record_id:
        object_type, record_id = "contact", ""  # on no record revgate named
    starts, ends = props.get(START), props.get(END)
    if not starts or not ends:
        return None
    return MeetingActivity(
        id=found.id,
        object_type=cast(ObjectType, object_type),
        record_id=record_id,
        owner_id=str(props.get(OWNER_PROPERTY) or ""),
        title=str(props.get("hs_meeting_title") or ""),
        starts_at=parse_time(str(starts)),
        ends_at=parse_time(str(ends)),
        status="cancelled" if props.get(OUTCOME) in NOT_BUSY else "scheduled",
        body=str(props.get("hs_meeting_body") or ""),
        uid=uid or "",
    )
