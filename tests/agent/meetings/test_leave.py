"""Out-of-office days read from a calendar feed, and what slot finding makes of them."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from agent.meetings.busy import busy_intervals
from agent.meetings.hours import WorkingHours
from agent.meetings.leave import out_of_office_days
from agent.meetings.slots import NoSlot, SlotRules, find_slots
from tests.agent.meetings.support import LONDON, NEW_YORK, at, feed, utc

WINDOW = (utc(2027, 3, 14), utc(2027, 3, 31))


def test_whole_days_marked_out_of_office_are_leave() -> None:
    days = out_of_office_days(feed("leave.ics"), *WINDOW, LONDON)

    # The week's holiday and the two conference days; not the afternoon off, not the offsite.
    assert days == ((date(2027, 3, 15), date(2027, 3, 19)), (date(2027, 3, 24), date(2027, 3, 25)))


def test_leave_days_follow_the_members_zone() -> None:
    # In New York the London conference runs from 20:00 on the 23rd to 20:00 on the 25th
    # (EDT): only the 24th is a whole New York day. All-day events are New York days there.
    days = out_of_office_days(feed("leave.ics"), *WINDOW, NEW_YORK)

    assert days == ((date(2027, 3, 15), date(2027, 3, 19)), (date(2027, 3, 24), date(2027, 3, 24)))


def test_leave_from_the_calendar_makes_the_rep_out_of_office_not_fully_booked() -> None:
    rep = WorkingHours(LONDON)
    leave = out_of_office_days(feed("leave.ics"), *WINDOW, LONDON)
    rules = SlotRules(min_notice=timedelta(0), horizon_days=5)
    now = at(LONDON, 2027, 3, 13, 12)

    busy = busy_intervals(feed("leave.ics"), *WINDOW, LONDON)
    only_busy = find_slots(rep, busy, WorkingHours(NEW_YORK), rules, now)
    with_leave = find_slots(
        dataclasses.replace(rep, out_of_office=leave), [], WorkingHours(NEW_YORK), rules, now
    )

    assert only_busy.reason is NoSlot.CALENDAR_FULL
    assert with_leave.reason is NoSlot.REP_OUT_OF_OFFICE
    assert with_leave.back_on == date(2027, 3, 22)
