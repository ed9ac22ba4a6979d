"""Busy times from iCalendar feeds: recurrences, all-day leave, free/busy, zones, and bad feeds."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from agent.errors import CalendarFeedError
from agent.meetings.busy import busy_intervals
from tests.agent.meetings.support import DATA, LONDON, NEW_YORK, TOKYO, feed, utc

# 2027-03-14 (a Sunday): New York springs forward, so 09:00 there moves from 14:00Z to 13:00Z.
START, END = utc(2027, 3, 11), utc(2027, 3, 20)


def busy(name: str, zone: ZoneInfo = NEW_YORK) -> list[tuple[datetime, datetime]]:
    return busy_intervals(feed(name), START, END, zone)


def test_a_recurring_meeting_keeps_its_local_time_across_the_spring_forward() -> None:
    standups = busy("recurring.ics")

    assert standups[:3] == [
        (utc(2027, 3, 11, 14), utc(2027, 3, 11, 14, 30)),  # Thu, EST
        (utc(2027, 3, 12, 14), utc(2027, 3, 12, 14, 30)),  # Fri, EST
        (utc(2027, 3, 15, 13), utc(2027, 3, 15, 13, 30)),  # Mon, EDT: still 09:00 in New York
    ]


def test_an_exdate_removes_one_instance_and_an_override_moves_another() -> None:
    standups = busy("recurring.ics")

    days = {start.date().day: (start, end) for start, end in standups}
    assert 16 not in days  # EXDATE on Tuesday 16th
    assert days[17] == (utc(2027, 3, 17, 18), utc(2027, 3, 17, 18, 30))  # moved to 14:00 New York
    assert 18 not in days  # that instance alone was cancelled
    assert days[19] == (utc(2027, 3, 19, 13), utc(2027, 3, 19, 13, 30))  # the series carries on
    assert len(standups) == 5


def test_an_all_day_out_of_office_blocks_whole_days_in_the_members_zone() -> None:
    in_london = busy("all_day.ics", LONDON)
    in_tokyo = busy("all_day.ics", TOKYO)

    # Out of office on the 15th and 16th (DTEND is exclusive), the offsite on the 19th.
    assert in_london == [
        (utc(2027, 3, 15), utc(2027, 3, 17)),
        (utc(2027, 3, 19), END),  # midnight to midnight, clipped to the window
    ]
    assert in_tokyo[0] == (utc(2027, 3, 14, 15), utc(2027, 3, 16, 15))  # Tokyo's midnight is 15:00Z


def test_an_out_of_office_marked_transparent_by_outlook_is_still_busy() -> None:
    # The leave in all_day.ics says TRANSP:TRANSPARENT but X-MICROSOFT-CDO-BUSYSTATUS:OOF.
    in_london = busy("all_day.ics", LONDON)

    assert (utc(2027, 3, 15), utc(2027, 3, 17)) in in_london


def test_an_event_merely_called_out_of_office_follows_its_transparency() -> None:
    # The 22nd's "Out of office" (CATEGORIES too) is transparent with no Outlook status:
    # just an event shown as free. The birthday on the 18th is Outlook FREE.
    wide = busy_intervals(feed("all_day.ics"), START, utc(2027, 3, 25), LONDON)

    assert all(start.day not in (18, 22) for start, _ in wide)
    assert len(wide) == 2


def test_free_busy_periods_count_except_free_ones() -> None:
    periods = busy("freebusy.ics")

    assert periods == [
        (utc(2027, 3, 15, 14), utc(2027, 3, 15, 15)),  # BUSY
        (utc(2027, 3, 15, 16), utc(2027, 3, 15, 16, 30)),  # BUSY, as a duration
        (utc(2027, 3, 16, 14), utc(2027, 3, 16, 15)),  # BUSY-TENTATIVE
        (utc(2027, 3, 17, 13), utc(2027, 3, 17, 21)),  # BUSY-UNAVAILABLE
        (utc(2027, 3, 18, 15), utc(2027, 3, 18, 15, 45)),  # no FBTYPE: BUSY by default
        (utc(2027, 3, 19, 12), utc(2027, 3, 19, 12, 15)),  # an unknown type counts as BUSY
    ]


def test_transparent_cancelled_and_free_events_are_not_busy() -> None:
    periods = busy("ignored.ics")

    # Only the tentative pipeline review remains.
    assert periods == [(utc(2027, 3, 15, 20), utc(2027, 3, 15, 21))]


def test_floating_times_are_read_in_the_members_zone_and_tzids_are_honoured() -> None:
    in_new_york = busy("zones.ics", NEW_YORK)
    in_tokyo = busy("zones.ics", TOKYO)

    assert in_new_york == [
        (utc(2027, 3, 15, 16), utc(2027, 3, 15, 17)),  # floating 12:00, New York (EDT)
        (utc(2027, 3, 16, 9), utc(2027, 3, 16, 10)),  # 10:00 Europe/Berlin (CET)
        (utc(2027, 3, 17, 16), utc(2027, 3, 17, 17)),  # 09:00 "Pacific Standard Time" (PDT)
        (utc(2027, 3, 18, 0), utc(2027, 3, 18, 0, 30)),  # 09:00 in a VTIMEZONE at +09:00
        (utc(2027, 3, 19, 15), utc(2027, 3, 19, 15, 30)),  # UTC
    ]
    assert in_tokyo[0] == (utc(2027, 3, 15, 3), utc(2027, 3, 15, 4))  # the floating lunch moves
    assert in_tokyo[1:] == in_new_york[1:]  # nothing else does


def test_overlapping_and_touching_events_merge_and_the_window_clips() -> None:
    periods = busy_intervals(feed("overlapping.ics"), utc(2027, 3, 15), utc(2027, 3, 20), LONDON)

    assert periods == [
        (utc(2027, 3, 15), utc(2027, 3, 15, 1)),  # started before the window
        (utc(2027, 3, 15, 14), utc(2027, 3, 15, 16)),  # three events, overlapping then touching
        (utc(2027, 3, 15, 17), utc(2027, 3, 15, 17, 30)),
        (utc(2027, 3, 19, 23), utc(2027, 3, 20)),  # runs past the window
    ]  # and the zero-length reminder at 18:00 blocks nothing


def test_results_are_utc_and_the_feed_may_be_text() -> None:
    periods = busy_intervals(feed("ignored.ics").decode(), START, END, NEW_YORK)

    assert periods
    assert all(start.tzinfo is UTC and end.tzinfo is UTC for start, end in periods)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("not_icalendar.ics", "not valid iCalendar"),
        ("truncated.ics", "not valid iCalendar"),
        ("bare_event.ics", "not a VCALENDAR"),
        ("bad_date.ics", "bad-date@example.com"),
        ("unknown_tzid.ics", "Mars/Olympus_Mons"),
        ("bad_rrule.ics", "cannot be expanded"),
        ("endless_rrule.ics", "RRULE this reader refuses: FREQ=DAILY;INTERVAL=0"),
        ("secondly_rrule.ics", "RRULE this reader refuses: FREQ=SECONDLY"),
        ("no_start.ics", "no DTSTART"),
        ("bad_freebusy.ics", "not valid iCalendar"),
    ],
)
def test_a_malformed_feed_raises_a_calendar_feed_error(name: str, says: str) -> None:
    with pytest.raises(CalendarFeedError, match=says):
        busy_intervals((DATA / "malformed" / name).read_bytes(), START, END, NEW_YORK)


def test_a_calendar_feed_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not valid iCalendar"):
        busy_intervals(b"", START, END, NEW_YORK)


def test_a_naive_window_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        busy_intervals(feed("ignored.ics"), datetime(2027, 3, 11), END, NEW_YORK)
