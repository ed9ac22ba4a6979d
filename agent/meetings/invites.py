"""The iCalendar invite for a booked meeting, and the updates that keep it in step (RFC 5546).

A booking, a reschedule and a cancellation are one event seen three times: the same
``UID``, a ``SEQUENCE`` that goes up with every change, ``METHOD:REQUEST`` for the first
two and ``METHOD:CANCEL`` (with ``STATUS:CANCELLED``) for the last. Calendar clients
replace what they hold by ``UID`` when the sequence is higher, so the lead's calendar
follows the CRM without duplicates. Times are written in UTC: each client shows them in
its own zone, which is what both parties need.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vText

from agent.meetings.intervals import require_aware

PRODUCT_ID = "-//revgate//meetings//EN"

InviteMethod = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True)
class Meeting:
    """What an invite says. ``sequence`` counts the changes sent so far (0: the first invite)."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    organizer_name: str
    organizer_email: str
    attendee_name: str
    attendee_email: str
    stamp: datetime
    """When this version was made (``DTSTAMP``)."""
    description: str = ""
    location: str = ""
    sequence: int = 0

    def __post_init__(self) -> None:
        require_aware(self.start, "start")
        require_aware(self.end, "end")
        require_aware(self.stamp, "stamp")
        if self.end <= self.start:
            raise ValueError("a meeting must end after it starts")
        if self.sequence < 0:
            raise ValueError("sequence cannot be negative")

    def moved(self, start: datetime, end: datetime, *, stamp: datetime) -> Meeting:
        """The same meeting at another time: the next sequence number, same ``UID``."""
        return replace(self, start=start, end=end, stamp=stamp, sequence=self.sequence + 1)

    def cancelled(self, *, stamp: datetime) -> Meeting:
        """The same meeting, one change later, to be sent as a cancellation."""
        return replace(self, stamp=stamp, sequence=self.sequence + 1)


def invite(meeting: Meeting, method: InviteMethod = "REQUEST") -> bytes:
    """The ``text/calendar`` body to send for ``meeting`` (a request, or a cancellation)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", require_aware(meeting.stamp, "stamp"))  # DTSTAMP must be UTC
    event.add("dtstart", require_aware(meeting.start, "start"))
    event.add("dtend", require_aware(meeting.end, "end"))
    event.add("summary", meeting.summary)
    if meeting.description:
        event.add("description", meeting.description)
    if meeting.location:
        event.add("location", meeting.location)
    event.add("organizer", _address(meeting.organizer_name, meeting.organizer_email, role=None))
    event.add("attendee", _address(meeting.attendee_name, meeting.attendee_email, role="REQ-PARTICIPANT"))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    body: bytes = calendar.to_ical()
    return body


def _address(name: str, email: str, *, role: str | None) -> vCalAddress:
    if "@" not in email or any(c in email for c in "\r\n:;"):
        raise ValueError(f"not an email address: {email!r}")
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    if role is not None:
        address.params["role"] = vText(role)
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("TRUE")
    return address
