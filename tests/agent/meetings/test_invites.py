"""Invites for booked meetings: one UID, a rising sequence, and calendars that read them back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from agent.meetings.busy import busy_intervals
from agent.meetings.invites import Meeting, invite

START = datetime(2027, 3, 16, 14, 0, tzinfo=UTC)
STAMP = datetime(2027, 3, 15, 9, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def _meeting(**overrides: object) -> Meeting:
    fields: dict[str, object] = {
        "uid": "mtg-0001@revgate",
        "start": START,
        "end": START + timedelta(minutes=30),
        "summary": "Intro call: Acme x Initech",
        "organizer_name": "Debra Jones",
        "organizer_email": "debra@acme.io",
        "attendee_name": "Jane Doe",
        "attendee_email": "jane@initech.de",
        "stamp": STAMP,
        "description": "Booked by revgate for lead L000041.",
    }
    fields.update(overrides)
    return Meeting(**fields)  # type: ignore[arg-type]


def _event(body: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_a_booking_is_a_request_with_the_lead_as_attendee_in_utc() -> None:
    calendar, event = _event(invite(_meeting()))

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "mtg-0001@revgate"  # type: ignore[index]
    assert int(event["SEQUENCE"]) == 0  # type: ignore[index]
    assert event["DTSTART"].dt == START  # type: ignore[index]
    assert event["DTEND"].dt == START + timedelta(minutes=30)  # type: ignore[index]
    assert str(event["ORGANIZER"]) == "mailto:debra@acme.io"  # type: ignore[index]
    attendee = event["ATTENDEE"]  # type: ignore[index]
    assert str(attendee) == "mailto:jane@initech.de"
    assert attendee.params["CN"] == "Jane Doe"
    assert attendee.params["RSVP"] == "TRUE"
    assert str(event["STATUS"]) == "CONFIRMED"  # type: ignore[index]


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence() -> None:
    later = START + timedelta(days=1)
    moved = _meeting().moved(later, later + timedelta(minutes=30), stamp=STAMP + timedelta(hours=1))

    _, event = _event(invite(moved))

    assert str(event["UID"]) == "mtg-0001@revgate"  # type: ignore[index]
    assert int(event["SEQUENCE"]) == 1  # type: ignore[index]
    assert event["DTSTART"].dt == later  # type: ignore[index]


def test_a_cancellation_is_a_cancel_of_the_same_uid_one_sequence_later() -> None:
    moved = _meeting().moved(START, START + timedelta(hours=1), stamp=STAMP)
    cancelled = moved.cancelled(stamp=STAMP + timedelta(hours=2))

    calendar, event = _event(invite(cancelled, "CANCEL"))

    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"  # type: ignore[index]
    assert str(event["UID"]) == "mtg-0001@revgate"  # type: ignore[index]
    assert int(event["SEQUENCE"]) == 2  # type: ignore[index]


def test_a_booked_invite_reads_as_busy_and_a_cancelled_one_as_free() -> None:
    window = (START - timedelta(days=1), START + timedelta(days=1))

    booked = busy_intervals(invite(_meeting()), *window, NEW_YORK)
    cancelled = busy_intervals(invite(_meeting().cancelled(stamp=STAMP), "CANCEL"), *window, NEW_YORK)

    assert booked == [(START, START + timedelta(minutes=30))]
    assert cancelled == []


def test_text_with_commas_semicolons_and_new_lines_survives_the_round_trip() -> None:
    description = "Agenda: pricing; rollout, timeline\nBring: the security questionnaire"

    _, event = _event(invite(_meeting(description=description, summary="Call; Acme, Initech")))

    assert str(event["DESCRIPTION"]) == description  # type: ignore[index]
    assert str(event["SUMMARY"]) == "Call; Acme, Initech"  # type: ignore[index]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end": START}, "end after it starts"),
        ({"start": datetime(2027, 3, 16, 14, 0)}, "start"),
        ({"attendee_email": "jane"}, "not an email address"),
        ({"attendee_email": "jane@initech.de\r\nATTENDEE:mailto:x@evil.io"}, "not an email address"),
        ({"sequence": -1}, "negative"),
    ],
)
def test_an_invite_that_would_mislead_a_calendar_is_refused(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        invite(_meeting(**overrides))


def test_times_given_in_a_local_zone_are_written_in_utc() -> None:
    local = START.astimezone(NEW_YORK)

    _, event = _event(invite(_meeting(start=local, end=local + timedelta(minutes=30))))

    assert event["DTSTART"].dt == START  # type: ignore[index]
    assert event["DTSTART"].dt.utcoffset() == timedelta(0)  # type: ignore[index]
    assert b"DTSTART:20270316T140000Z" in invite(_meeting(start=local, end=local + timedelta(minutes=30)))
