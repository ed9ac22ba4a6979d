"""What the remote adapters' meeting activities share: argument checks and the uid line.

HubSpot and Salesforce have no field made for an iCalendar ``UID``, so each adapter keeps
it in a text field of the activity as one line ``revgate-uid: <uid>`` (see
:mod:`agent.crm.hubspot_meetings` and :mod:`agent.crm.salesforce_meetings` for which
field). The line is plain text a person can read in the CRM, and :func:`find_tag` finds
it again whether the CRM kept the text as written or wrapped it in HTML paragraphs.

A meeting without that line (logged by hand, synced from a calendar) is still the owner's
busy time: ``owner_meetings`` and ``get_meeting`` read it with an empty ``uid`` (and an
empty ``record_id`` unless it is on a record the adapter maps), and ``update_meeting``
refuses it (:func:`check_ours`) before writing anything.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from agent.errors import CRMValidationError
from agent.models import MeetingActivity, MeetingStatus, ObjectType
from agent.ports import MeetingActivities

UID_TAG = "revgate-uid"
_HTML = "<>&\"'"


def utc(moment: datetime, name: str) -> datetime:
    """``moment`` in UTC; a naive datetime is refused (``CRMValidationError``), never guessed at."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CRMValidationError(f"{name} must be timezone-aware, not {moment!r}")
    return moment.astimezone(UTC)


def check_span(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """The meeting's start and end in UTC, or ``CRMValidationError`` when it does not end after it starts."""
    start, end = utc(starts_at, "start"), utc(ends_at, "end")
    if end <= start:
        raise CRMValidationError("a meeting must end after it starts")
    return start, end


def check_move(starts_at: datetime | None, ends_at: datetime | None) -> tuple[datetime, datetime] | None:
    """A move's new span in UTC (``None``: not a move); a move gives both times."""
    if starts_at is None and ends_at is None:
        return None
    if starts_at is None or ends_at is None:
        raise CRMValidationError("a meeting is moved with both its start and its end")
    return check_span(starts_at, ends_at)


def tag_line(name: str, value: str) -> str:
    """``name: value``; a value a CRM could re-encode as HTML (or split) is refused."""
    if not value or any(c.isspace() or c in _HTML for c in value):
        raise CRMValidationError(f"{name} must be one word without spaces or {_HTML}, not {value!r}")
    return f"{name}: {value}"


def find_tag(text: str, name: str) -> str | None:
    """The value of the ``name: value`` line in ``text`` (plain or HTML), or None."""
    found = re.search(rf"(?:^|[\s>]){re.escape(name)}:\s*([^\s<]+)", text)
    return None if found is None else found.group(1)


def check_ours(meeting: MeetingActivity) -> MeetingActivity:
    """``meeting``, or ``CRMValidationError`` when revgate did not book it (it has no uid)."""
    if not meeting.uid:
        raise CRMValidationError(
            f"meeting {meeting.id} is not a meeting revgate booked; change it in the CRM"
        )
    return meeting


class DelegatedMeetings:
    """The four :class:`~agent.ports.MeetingActivities` methods of an adapter, handed to the
    adapter's ``_meetings`` (its meetings module's class), so the adapter is the one CRM object."""

    _meetings: MeetingActivities

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
        return self._meetings.record_meeting(
            object_type,
            record_id,
            owner_id=owner_id,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            body=body,
            uid=uid,
            idempotency_key=idempotency_key,
        )

    def update_meeting(
        self,
        activity_id: str,
        *,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        status: MeetingStatus | None = None,
        idempotency_key: str,
    ) -> MeetingActivity:
        return self._meetings.update_meeting(
            activity_id, starts_at=starts_at, ends_at=ends_at, status=status, idempotency_key=idempotency_key
        )

    def get_meeting(self, activity_id: str) -> MeetingActivity | None:
        return self._meetings.get_meeting(activity_id)

    def owner_meetings(self, owner_id: str, start: datetime, end: datetime) -> list[MeetingActivity]:
        return self._meetings.owner_meetings(owner_id, start, end)
