"""The re-check right before booking: a slot proposed earlier may have been taken since."""

from __future__ import annotations

from datetime import timedelta

from agent.meetings.busy import busy_intervals
from agent.meetings.hours import WorkingHours
from agent.meetings.slots import SlotRules, find_slots, still_free
from tests.agent.meetings.support import LONDON, NEW_YORK, at, feed, utc

WINDOW = (utc(2027, 3, 15), utc(2027, 3, 20))
RULES = SlotRules(min_notice=timedelta(0), count=1, buffer=timedelta(minutes=10))

NEW_EVENT = b"""BEGIN:VEVENT
UID:landed@example.com
DTSTAMP:20270315T120000Z
SUMMARY:Booked by someone else meanwhile
DTSTART;TZID=America/New_York:20270315T101500
DTEND;TZID=America/New_York:20270315T110000
END:VEVENT
"""


def with_event(calendar: bytes, event: bytes) -> bytes:
    return calendar.replace(b"END:VCALENDAR", event + b"END:VCALENDAR")


def test_a_slot_is_no_longer_free_when_a_new_event_lands_on_it() -> None:
    calendar = feed("recurring.ics")
    before = busy_intervals(calendar, *WINDOW, NEW_YORK)
    proposed = find_slots(
        WorkingHours(NEW_YORK), before, WorkingHours(LONDON), RULES, at(NEW_YORK, 2027, 3, 15, 8)
    )
    slot = proposed.slots[0]
    # The 09:00-09:30 stand-up and its 10-minute buffer push the first slot to 10:00.
    assert slot.rep_local[0] == at(NEW_YORK, 2027, 3, 15, 10)

    after = busy_intervals(with_event(calendar, NEW_EVENT), *WINDOW, NEW_YORK)

    assert still_free(slot, before, RULES.buffer)
    assert not still_free(slot, after, RULES.buffer)


def test_an_event_inside_the_buffer_takes_the_slot_too() -> None:
    slot = (utc(2027, 3, 15, 14), utc(2027, 3, 15, 14, 30))
    just_after = [(utc(2027, 3, 15, 14, 35), utc(2027, 3, 15, 15))]

    assert still_free(slot, just_after)
    assert not still_free(slot, just_after, timedelta(minutes=10))


def test_back_to_back_meetings_are_fine_without_a_buffer() -> None:
    slot = (utc(2027, 3, 15, 14), utc(2027, 3, 15, 14, 30))
    around = [(utc(2027, 3, 15, 13), utc(2027, 3, 15, 14)), (utc(2027, 3, 15, 14, 30), utc(2027, 3, 15, 15))]

    assert still_free(slot, around)
    assert still_free(slot, [])
