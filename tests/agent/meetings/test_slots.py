"""Slot finding between a rep's calendar and a lead's business hours, in both parties' wall-clock time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.meetings.hours import WorkingHours
from agent.meetings.slots import OUTSIDE_LEAD_HOURS, NoSlot, SlotRules, SlotSearch, find_slots
from tests.agent.meetings.support import KOLKATA, LONDON, LOS_ANGELES, NEW_YORK, SYDNEY, at, utc

EVERY_DAY = frozenset(range(7))
MINUTES = timedelta(minutes=1)


def rules(**changes: object) -> SlotRules:
    settings: dict[str, object] = {"min_notice": timedelta(0), "count": 50, "step": 30 * MINUTES}
    return SlotRules(**(settings | changes))  # type: ignore[arg-type]


def search(
    rep: WorkingHours,
    lead_zone: ZoneInfo,
    now: datetime,
    busy: list[tuple[datetime, datetime]] | None = None,
    **changes: object,
) -> SlotSearch:
    return find_slots(rep, busy or [], WorkingHours(lead_zone), rules(**changes), now)


def rep_times(result: SlotSearch) -> list[str]:
    return [f"{s.rep_local[0]:%a %H:%M}" for s in result.slots]


# --- daylight saving ---------------------------------------------------------------------------
# New York springs forward on 2027-03-14, London on 2027-03-28: between the two, New York is
# 4 hours behind London, not 5, and a New York rep shares an hour more of the London day.
# In autumn London falls back first (2027-10-31), New York after (2027-11-07): the same again.


@pytest.mark.parametrize(
    ("day", "shared_until", "nine_am_utc"),
    [
        (date(2027, 3, 11), "12:00", 14),  # EST / GMT: 5 hours apart
        (date(2027, 3, 16), "13:00", 13),  # EDT / GMT: 4 hours (New York has sprung forward)
        (date(2027, 3, 30), "12:00", 13),  # EDT / BST: 5 hours (London too)
        (date(2027, 10, 28), "12:00", 13),  # EDT / BST
        (date(2027, 11, 2), "13:00", 13),  # EDT / GMT: 4 hours (London has fallen back)
        (date(2027, 11, 9), "12:00", 14),  # EST / GMT: 5 hours (New York too)
    ],
)
def test_shared_hours_follow_each_sides_daylight_saving(
    day: date, shared_until: str, nine_am_utc: int
) -> None:
    result = search(
        WorkingHours(NEW_YORK), LONDON, at(NEW_YORK, day.year, day.month, day.day), horizon_days=1
    )

    first, last = result.slots[0], result.slots[-1]
    assert first.rep_local[0].time() == time(9)  # the working start never shifts locally
    assert first.start == utc(day.year, day.month, day.day, nine_am_utc)
    assert f"{last.rep_local[1]:%H:%M}" == shared_until
    assert f"{last.lead_local[1]:%H:%M}" == "17:00"  # the lead's day ends at 17:00 London time
    assert all(slot.inside_lead_hours for slot in result.slots)


def test_a_working_start_holds_its_local_time_on_the_day_of_the_change() -> None:
    rep = WorkingHours(NEW_YORK, days=EVERY_DAY)
    lead = WorkingHours(LONDON, days=EVERY_DAY)

    result = find_slots(
        rep, [], lead, rules(horizon_days=2, step=8 * 60 * MINUTES), at(NEW_YORK, 2027, 3, 13)
    )

    assert [slot.start for slot in result.slots] == [utc(2027, 3, 13, 14), utc(2027, 3, 14, 13)]


def test_slots_are_given_in_both_parties_local_times() -> None:
    result = search(WorkingHours(NEW_YORK), LONDON, at(NEW_YORK, 2027, 3, 16, 8), count=1)

    slot = result.slots[0]
    assert slot.rep_local == (at(NEW_YORK, 2027, 3, 16, 9), at(NEW_YORK, 2027, 3, 16, 9, 30))
    assert slot.lead_local == (at(LONDON, 2027, 3, 16, 13), at(LONDON, 2027, 3, 16, 13, 30))
    assert slot.describe() == "Tue 16 Mar 09:00-09:30 America/New_York / Tue 16 Mar 13:00-13:30 Europe/London"
    assert slot.note is None
    assert result.found
    assert result.reason is None


# --- no overlap, full calendars, out of office --------------------------------------------------


def test_no_overlap_of_business_hours_is_reported_with_flagged_fallback_slots() -> None:
    result = search(WorkingHours(LOS_ANGELES), KOLKATA, at(LOS_ANGELES, 2027, 3, 15, 7), count=2)

    assert not result.found
    assert result.reason is NoSlot.NO_OVERLAP
    assert "09:00-17:00 America/Los_Angeles" in (result.explanation or "")
    assert "09:00-17:00 Asia/Kolkata" in (result.explanation or "")
    assert rep_times(result) == ["Mon 09:00", "Mon 09:30"]  # inside the rep's hours only
    assert [slot.note for slot in result.slots] == [OUTSIDE_LEAD_HOURS] * 2
    assert f"{result.slots[0].lead_local[0]:%H:%M}" == "21:30"


def test_no_fallback_slots_when_the_rules_say_so() -> None:
    result = search(
        WorkingHours(LOS_ANGELES), KOLKATA, at(LOS_ANGELES, 2027, 3, 15, 7), fallback_to_rep_hours=False
    )

    assert (result.slots, result.reason) == ((), NoSlot.NO_OVERLAP)


def test_los_angeles_and_sydney_overlap_only_on_the_reps_monday_to_thursday_afternoons() -> None:
    # November 2027: Los Angeles on PST (UTC-8), Sydney on AEDT (UTC+11). A Los Angeles
    # afternoon is the next Sydney morning, so Friday's falls on a Sydney Saturday.
    result = search(WorkingHours(LOS_ANGELES), SYDNEY, at(LOS_ANGELES, 2027, 11, 8), step=60 * MINUTES)

    assert rep_times(result) == [
        f"{day} {hour}:00" for day in ("Mon", "Tue", "Wed", "Thu") for hour in (14, 15, 16)
    ]
    assert f"{result.slots[0].lead_local[0]:%a %H:%M}" == "Tue 09:00"


def test_hours_that_only_touch_do_not_overlap() -> None:
    early_rep = WorkingHours.parse(LOS_ANGELES, "08:00-14:00")  # 14:00 Los Angeles is 09:00 in Sydney

    result = search(early_rep, SYDNEY, at(LOS_ANGELES, 2027, 11, 8))

    assert result.reason is NoSlot.NO_OVERLAP


def test_an_overlap_shorter_than_the_meeting_is_no_overlap() -> None:
    # New York 09:00-09:15 is London 14:00-14:15 in winter; the lead stops at 14:15.
    lead = WorkingHours.parse(LONDON, "09:00-14:15")
    now = at(NEW_YORK, 2027, 3, 9, 8)

    half_hour = find_slots(WorkingHours(NEW_YORK), [], lead, rules(horizon_days=1), now)
    quarter = find_slots(WorkingHours(NEW_YORK), [], lead, rules(horizon_days=1, duration=15 * MINUTES), now)

    assert half_hour.reason is NoSlot.NO_OVERLAP
    assert rep_times(quarter)[:1] == ["Tue 09:00"]


def test_a_full_calendar_is_reported_and_the_fallback_is_outside_the_leads_hours() -> None:
    days = [date(2027, 3, 9), date(2027, 3, 10), date(2027, 3, 11)]
    mornings = [
        (at(NEW_YORK, d.year, d.month, d.day, 9), at(NEW_YORK, d.year, d.month, d.day, 12)) for d in days
    ]

    result = search(
        WorkingHours(NEW_YORK), LONDON, at(NEW_YORK, 2027, 3, 9, 7), mornings, horizon_days=3, count=1
    )

    assert result.reason is NoSlot.CALENDAR_FULL
    assert result.explanation == (
        "every 30-minute slot inside both parties' hours is taken in the rep's next 3 working days"
    )
    assert rep_times(result) == ["Tue 12:00"]  # London's 17:00: the lead's day is over
    assert result.slots[0].inside_lead_hours is False


def test_a_calendar_full_only_because_of_buffers_says_so() -> None:
    # Meetings 09:00-10:30 and 11:00-12:00 New York leave 30 minutes, eaten by 15-minute buffers.
    day = (at(NEW_YORK, 2027, 3, 9, 9), at(NEW_YORK, 2027, 3, 9, 10, 30))
    later = (at(NEW_YORK, 2027, 3, 9, 11), at(NEW_YORK, 2027, 3, 9, 12))
    now = at(NEW_YORK, 2027, 3, 9, 7)

    unbuffered = search(WorkingHours(NEW_YORK), LONDON, now, [day, later], horizon_days=1)
    buffered = search(WorkingHours(NEW_YORK), LONDON, now, [day, later], horizon_days=1, buffer=15 * MINUTES)

    assert rep_times(unbuffered) == ["Tue 10:30"]
    assert buffered.reason is NoSlot.CALENDAR_FULL
    assert "(meetings with 15 minutes' buffer)" in (buffered.explanation or "")


def test_a_rep_out_of_office_for_the_whole_horizon_is_reported_with_the_return_date() -> None:
    rep = WorkingHours.parse(NEW_YORK, out_of_office=[(date(2027, 3, 15), date(2027, 3, 19))])

    result = search(rep, LONDON, at(NEW_YORK, 2027, 3, 13, 10))

    assert result.reason is NoSlot.REP_OUT_OF_OFFICE
    assert result.slots == ()  # no fallback either: the rep has no hours at all
    assert result.horizon == tuple(date(2027, 3, day) for day in range(15, 20))
    assert result.back_on == date(2027, 3, 22)
    assert result.explanation == (
        "the rep is out of office on every working day from 2027-03-15 to 2027-03-19, back on 2027-03-22"
    )


def test_days_off_inside_the_horizon_are_skipped_not_replaced() -> None:
    rep = WorkingHours.parse(NEW_YORK, out_of_office=[(date(2027, 3, 15), date(2027, 3, 16))])

    result = search(rep, NEW_YORK, at(NEW_YORK, 2027, 3, 15, 7), horizon_days=3, step=120 * MINUTES)

    assert rep_times(result) == ["Wed 09:00", "Wed 11:00", "Wed 13:00", "Wed 15:00"]


# --- buffers, notice and the horizon -----------------------------------------------------------


def test_buffers_keep_time_free_around_existing_meetings() -> None:
    meeting = [(at(NEW_YORK, 2027, 3, 15, 10), at(NEW_YORK, 2027, 3, 15, 11))]
    now = at(NEW_YORK, 2027, 3, 15, 8)

    plain = search(WorkingHours(NEW_YORK), NEW_YORK, now, meeting, step=15 * MINUTES, count=4)
    buffered = search(
        WorkingHours(NEW_YORK), NEW_YORK, now, meeting, step=15 * MINUTES, count=4, buffer=15 * MINUTES
    )

    assert rep_times(plain) == ["Mon 09:00", "Mon 09:15", "Mon 09:30", "Mon 11:00"]
    assert rep_times(buffered) == ["Mon 09:00", "Mon 09:15", "Mon 11:15", "Mon 11:30"]


def test_the_minimum_notice_delays_the_first_slot_to_the_next_step() -> None:
    result = search(
        WorkingHours(NEW_YORK),
        NEW_YORK,
        at(NEW_YORK, 2027, 3, 15, 9, 5),
        min_notice=timedelta(hours=2),
        step=15 * MINUTES,
        count=1,
    )

    assert rep_times(result) == ["Mon 11:15"]


def test_a_notice_past_the_end_of_the_day_moves_the_horizon_to_the_next_working_day() -> None:
    friday_evening = at(NEW_YORK, 2027, 3, 12, 16)

    result = search(
        WorkingHours(NEW_YORK),
        NEW_YORK,
        friday_evening,
        min_notice=timedelta(hours=2),
        count=1,
        horizon_days=2,
    )

    assert result.horizon == (date(2027, 3, 15), date(2027, 3, 16))
    assert rep_times(result) == ["Mon 09:00"]


def test_the_horizon_counts_the_reps_working_days_only() -> None:
    rep = WorkingHours.parse(NEW_YORK, days=("mon", "wed", "fri"))

    result = search(rep, NEW_YORK, at(NEW_YORK, 2027, 3, 12, 8), horizon_days=3, step=8 * 60 * MINUTES)

    assert result.horizon == (date(2027, 3, 12), date(2027, 3, 15), date(2027, 3, 17))
    assert rep_times(result) == ["Fri 09:00", "Mon 09:00", "Wed 09:00"]


def test_only_the_first_count_slots_are_returned() -> None:
    result = search(WorkingHours(NEW_YORK), NEW_YORK, at(NEW_YORK, 2027, 3, 15, 8), count=3)

    assert rep_times(result) == ["Mon 09:00", "Mon 09:30", "Mon 10:00"]


def test_a_meeting_must_end_within_the_working_day() -> None:
    result = search(
        WorkingHours(NEW_YORK), NEW_YORK, at(NEW_YORK, 2027, 3, 15, 16), duration=45 * MINUTES, horizon_days=1
    )

    assert rep_times(result) == ["Mon 16:00"]  # 16:30 + 45 minutes would run past 17:00


# --- contracts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"duration": timedelta(0)},
        {"step": -MINUTES},
        {"buffer": -MINUTES},
        {"min_notice": -MINUTES},
        {"horizon_days": 0},
        {"count": 0},
    ],
)
def test_nonsense_rules_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must|cannot"):
        SlotRules(**bad)  # type: ignore[arg-type]


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        find_slots(WorkingHours(NEW_YORK), [], WorkingHours(LONDON), SlotRules(), datetime(2027, 3, 15, 9))
