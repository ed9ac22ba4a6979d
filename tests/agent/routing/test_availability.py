"""Availability and working time, always read in the member's own zone (daylight saving included)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.models import Owner
from agent.routing.availability import Load, WorkingTime, unavailable_reason
from agent.routing.config import Member

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# 2026-03-04 is a Wednesday; 2026-03-06 a Friday. New York springs forward on Sunday
# 2026-03-08 and falls back on Sunday 2026-11-01; Berlin springs forward on 2026-03-29.


def member(**settings: Any) -> Member:
    return Member.model_validate({"owner": "O1", **settings})


def calendar(zone: ZoneInfo, **settings: Any) -> WorkingTime:
    return WorkingTime(member(**settings), zone)


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


OWNER = Owner(id="O1", name="Ada", email="ada@example.com")


# --- working hours and days, in the member's zone ----------------------------------------------


def test_a_member_in_los_angeles_works_at_18_00_utc() -> None:
    assert calendar(LOS_ANGELES).off_reason(utc(2026, 3, 4, 18, 0)) is None  # 10:00 PST


def test_a_member_in_los_angeles_is_off_at_02_00_utc_their_evening_before() -> None:
    assert calendar(LOS_ANGELES).off_reason(utc(2026, 3, 4, 2, 0)) == (
        "outside working hours 09:00-17:00 (Tue 18:00 America/Los_Angeles)"
    )


def test_the_same_instant_is_outside_hours_for_a_member_in_utc() -> None:
    assert calendar(ZoneInfo("UTC")).off_reason(utc(2026, 3, 4, 18, 0)) == (
        "outside working hours 09:00-17:00 (Wed 18:00 UTC)"
    )


def test_working_hours_include_the_start_and_exclude_the_end() -> None:
    hours = calendar(NEW_YORK, hours="08:30-16:00")
    assert hours.off_reason(at(NEW_YORK, 2026, 3, 4, 8, 29)) is not None
    assert hours.off_reason(at(NEW_YORK, 2026, 3, 4, 8, 30)) is None
    assert hours.off_reason(at(NEW_YORK, 2026, 3, 4, 15, 59)) is None
    assert hours.off_reason(at(NEW_YORK, 2026, 3, 4, 16, 0)) is not None


def test_hours_until_24_00_run_to_midnight() -> None:
    late = calendar(NEW_YORK, hours="12:00-24:00")
    assert late.off_reason(datetime(2026, 3, 4, 23, 59, 59, 900000, tzinfo=NEW_YORK)) is None
    assert late.off_reason(at(NEW_YORK, 2026, 3, 5, 0, 0)) is not None


def test_a_day_off_is_read_in_the_members_zone() -> None:
    # Saturday 01:00 UTC is still Friday evening in New York: outside hours, not a day off.
    assert calendar(NEW_YORK).off_reason(utc(2026, 3, 7, 1, 0)) == (
        "outside working hours 09:00-17:00 (Fri 20:00 America/New_York)"
    )
    assert calendar(NEW_YORK).off_reason(utc(2026, 3, 7, 15, 0)) == (
        "not a working day (Sat 10:00 America/New_York)"
    )


def test_only_the_listed_days_are_worked() -> None:
    four_days = calendar(BERLIN, days=["mon", "tue", "wed", "thu"])
    assert four_days.off_reason(at(BERLIN, 2026, 3, 5, 10, 0)) is None  # Thursday
    assert (
        four_days.off_reason(at(BERLIN, 2026, 3, 6, 10, 0)) == "not a working day (Fri 10:00 Europe/Berlin)"
    )


# --- out of office ------------------------------------------------------------------------------

AWAY = [{"from": "2026-03-09", "to": "2026-03-10"}]  # Monday and Tuesday


def test_out_of_office_covers_both_its_dates() -> None:
    away = calendar(NEW_YORK, out_of_office=AWAY)
    assert away.off_reason(at(NEW_YORK, 2026, 3, 6, 10, 0)) is None
    assert away.off_reason(at(NEW_YORK, 2026, 3, 9, 10, 0)) == "out of office until 2026-03-10"
    assert away.off_reason(at(NEW_YORK, 2026, 3, 10, 16, 59)) == "out of office until 2026-03-10"
    assert away.off_reason(at(NEW_YORK, 2026, 3, 11, 9, 0)) is None


def test_out_of_office_dates_are_the_members_dates() -> None:
    away = calendar(LOS_ANGELES, hours="00:00-24:00", days=EVERY_DAY, out_of_office=AWAY)
    assert away.off_reason(utc(2026, 3, 11, 6, 59)) == "out of office until 2026-03-10"  # Tue 23:59 PDT
    assert away.off_reason(utc(2026, 3, 11, 7, 0)) is None  # Wed 00:00 PDT


def test_out_of_office_is_the_reason_given_even_on_a_weekend() -> None:
    away = calendar(NEW_YORK, out_of_office=[{"from": "2026-03-07", "to": "2026-03-08"}])
    assert away.off_reason(at(NEW_YORK, 2026, 3, 7, 12, 0)) == "out of office until 2026-03-08"


# --- unavailable_reason: the CRM owner and capacity ------------------------------------------------

WORKING = utc(2026, 3, 4, 15, 0)  # Wednesday 10:00 in New York


def reason(
    owner: Owner | None = OWNER, load: Load | None = None, now: datetime = WORKING, **settings: Any
) -> str | None:
    return unavailable_reason(member(**settings), NEW_YORK, owner, now, load or Load())


def test_an_active_working_member_under_their_caps_is_available() -> None:
    assert reason(load=Load(open_leads=399, today=39), max_open_leads=400, max_per_day=40) is None


def test_a_member_who_is_no_crm_owner_is_unavailable() -> None:
    assert reason(owner=None) == "not an owner in the CRM"


def test_an_inactive_owner_is_unavailable_before_anything_else() -> None:
    inactive = OWNER.model_copy(update={"active": False})
    assert reason(owner=inactive, now=utc(2026, 3, 7, 15, 0)) == "inactive in the CRM"


def test_a_member_off_work_is_unavailable_with_the_reason() -> None:
    assert reason(now=utc(2026, 3, 7, 15, 0)) == "not a working day (Sat 10:00 America/New_York)"


def test_open_leads_at_the_cap_make_a_member_unavailable() -> None:
    assert reason(load=Load(open_leads=400), max_open_leads=400) == "at capacity: 400 open leads (max 400)"
    assert reason(load=Load(open_leads=401), max_open_leads=400) == "at capacity: 401 open leads (max 400)"


def test_leads_today_at_the_daily_cap_make_a_member_unavailable() -> None:
    assert reason(load=Load(today=20), max_per_day=20) == "daily cap reached: 20 leads today (max 20)"


def test_a_cap_of_zero_takes_nothing() -> None:
    assert reason(max_per_day=0) == "daily cap reached: 0 leads today (max 0)"


def test_no_caps_means_no_limit() -> None:
    assert reason(load=Load(open_leads=10_000, today=10_000)) is None


# --- add_working_minutes ----------------------------------------------------------------------------


def test_minutes_inside_one_working_day_are_simply_added() -> None:
    due = calendar(NEW_YORK).add_working_minutes(at(NEW_YORK, 2026, 3, 4, 10, 0), 90)
    assert due == at(NEW_YORK, 2026, 3, 4, 11, 30)
    assert due.tzinfo is UTC


def test_minutes_ending_at_the_close_stay_on_that_day() -> None:
    due = calendar(NEW_YORK).add_working_minutes(at(NEW_YORK, 2026, 3, 4, 16, 0), 60)
    assert due.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 4, 17, 0)


def test_minutes_carry_over_the_night() -> None:
    due = calendar(NEW_YORK).add_working_minutes(at(NEW_YORK, 2026, 3, 4, 16, 30), 60)
    assert due.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 5, 9, 30)


def test_minutes_carry_over_the_weekend() -> None:
    due = calendar(NEW_YORK).add_working_minutes(at(NEW_YORK, 2026, 2, 27, 16, 30), 60)
    assert due.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 2, 9, 30)


def test_the_clock_starts_at_the_next_opening_when_started_off_hours() -> None:
    hours = calendar(NEW_YORK)
    assert hours.add_working_minutes(at(NEW_YORK, 2026, 3, 4, 6, 0), 30).astimezone(NEW_YORK) == (
        at(NEW_YORK, 2026, 3, 4, 9, 30)
    )
    assert hours.add_working_minutes(at(NEW_YORK, 2026, 2, 28, 12, 0), 30).astimezone(NEW_YORK) == (
        at(NEW_YORK, 2026, 3, 2, 9, 30)
    )


def test_minutes_skip_an_out_of_office_span() -> None:
    away = calendar(NEW_YORK, out_of_office=AWAY)
    due = away.add_working_minutes(at(NEW_YORK, 2026, 3, 6, 16, 30), 60)
    assert due.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 11, 9, 30)  # Fri, weekend, Mon+Tue away, Wed


def test_minutes_span_several_working_days() -> None:
    due = calendar(NEW_YORK).add_working_minutes(at(NEW_YORK, 2026, 3, 4, 9, 0), 3 * 8 * 60 + 15)
    assert due.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 9, 9, 15)  # Wed, Thu, Fri, then Monday


def test_a_deadline_across_new_yorks_spring_forward_is_at_the_local_time() -> None:
    start = at(NEW_YORK, 2026, 3, 6, 16, 30)  # Friday 16:30 EST = 21:30 UTC
    due = calendar(NEW_YORK).add_working_minutes(start, 60)
    assert due == utc(2026, 3, 9, 13, 30)  # Monday 09:30 EDT (UTC-4)
    assert due.astimezone(NEW_YORK).strftime("%a %H:%M %Z") == "Mon 09:30 EDT"


def test_a_deadline_across_new_yorks_fall_back_is_at_the_local_time() -> None:
    start = at(NEW_YORK, 2026, 10, 30, 16, 30)  # Friday 16:30 EDT
    due = calendar(NEW_YORK).add_working_minutes(start, 60)
    assert due == utc(2026, 11, 2, 14, 30)  # Monday 09:30 EST (UTC-5)


def test_a_deadline_across_berlins_spring_forward_is_at_the_local_time() -> None:
    start = at(BERLIN, 2026, 3, 27, 16, 30)  # Friday 16:30 CET = 15:30 UTC
    due = calendar(BERLIN).add_working_minutes(start, 60)
    assert due == utc(2026, 3, 30, 7, 30)  # Monday 09:30 CEST (UTC+2)
    assert due.astimezone(BERLIN).strftime("%a %H:%M %Z") == "Mon 09:30 CEST"


def test_a_working_window_across_the_clock_change_counts_real_minutes() -> None:
    # Someone working 00:00-24:00 on New York's spring-forward night: 01:00 EST plus two
    # working hours is 04:00 EDT (02:00-03:00 never happens), not 03:00 EDT.
    always = calendar(NEW_YORK, hours="00:00-24:00", days=EVERY_DAY)
    due = always.add_working_minutes(at(NEW_YORK, 2026, 3, 8, 1, 0), 120)
    assert due == utc(2026, 3, 8, 8, 0)
    assert due.astimezone(NEW_YORK).strftime("%H:%M %Z") == "04:00 EDT"


def test_hours_until_24_00_join_the_next_day_without_a_gap() -> None:
    always = calendar(NEW_YORK, hours="00:00-24:00", days=EVERY_DAY)
    due = always.add_working_minutes(at(NEW_YORK, 2026, 3, 4, 23, 0), 120)
    assert due.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 5, 1, 0)


def test_zero_minutes_off_hours_is_the_next_opening() -> None:
    due = calendar(NEW_YORK).add_working_minutes(at(NEW_YORK, 2026, 3, 7, 12, 0), 0)
    assert due.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 9, 9, 0)


def test_with_no_working_time_in_sight_the_clock_runs_in_calendar_time() -> None:
    never = calendar(NEW_YORK, days=[])
    assert never.add_working_minutes(utc(2026, 3, 4, 12, 0), 30) == utc(2026, 3, 4, 12, 30)


# --- working_minutes_between ----------------------------------------------------------------------


def test_minutes_between_inside_one_day() -> None:
    hours = calendar(NEW_YORK)
    assert (
        hours.working_minutes_between(at(NEW_YORK, 2026, 3, 4, 10, 0), at(NEW_YORK, 2026, 3, 4, 11, 45))
        == 105
    )


def test_minutes_between_skip_the_night_and_the_weekend() -> None:
    hours = calendar(NEW_YORK)
    assert (
        hours.working_minutes_between(at(NEW_YORK, 2026, 3, 4, 16, 0), at(NEW_YORK, 2026, 3, 5, 10, 0)) == 120
    )
    assert (
        hours.working_minutes_between(at(NEW_YORK, 2026, 2, 27, 16, 0), at(NEW_YORK, 2026, 3, 2, 10, 0))
        == 120
    )


def test_minutes_between_skip_out_of_office() -> None:
    away = calendar(NEW_YORK, out_of_office=AWAY)
    assert (
        away.working_minutes_between(at(NEW_YORK, 2026, 3, 6, 16, 0), at(NEW_YORK, 2026, 3, 11, 10, 0)) == 120
    )


def test_minutes_between_across_a_clock_change_count_working_hours_only() -> None:
    ny, berlin = calendar(NEW_YORK), calendar(BERLIN)
    assert ny.working_minutes_between(at(NEW_YORK, 2026, 3, 6, 16, 0), at(NEW_YORK, 2026, 3, 9, 10, 0)) == 120
    assert (
        berlin.working_minutes_between(at(BERLIN, 2026, 3, 27, 16, 0), at(BERLIN, 2026, 3, 30, 10, 0)) == 120
    )


def test_a_day_with_a_clock_change_has_23_or_25_working_hours_for_round_the_clock_members() -> None:
    always = calendar(NEW_YORK, hours="00:00-24:00", days=EVERY_DAY)
    spring = always.working_minutes_between(at(NEW_YORK, 2026, 3, 8, 0, 0), at(NEW_YORK, 2026, 3, 9, 0, 0))
    autumn = always.working_minutes_between(at(NEW_YORK, 2026, 11, 1, 0, 0), at(NEW_YORK, 2026, 11, 2, 0, 0))
    assert (spring, autumn) == (23 * 60, 25 * 60)


def test_minutes_between_nothing_or_backwards_is_zero() -> None:
    hours = calendar(NEW_YORK)
    moment = at(NEW_YORK, 2026, 3, 4, 10, 0)
    assert hours.working_minutes_between(moment, moment) == 0
    assert hours.working_minutes_between(moment, at(NEW_YORK, 2026, 3, 4, 9, 0)) == 0


def test_minutes_between_ignore_the_zone_the_instants_are_given_in() -> None:
    hours = calendar(BERLIN)
    assert hours.working_minutes_between(utc(2026, 3, 4, 8, 0), at(NEW_YORK, 2026, 3, 4, 5, 0)) == 120


@pytest.mark.parametrize("minutes", [1, 59, 60, 480, 481, 2000, 7 * 480 + 13])
@pytest.mark.parametrize(
    ("zone", "start"),
    [(NEW_YORK, (2026, 3, 5, 15, 10)), (BERLIN, (2026, 3, 26, 11, 0)), (NEW_YORK, (2026, 10, 29, 7, 0))],
)
def test_minutes_between_undoes_add_working_minutes(
    zone: ZoneInfo, start: tuple[int, int, int, int, int], minutes: int
) -> None:
    hours = calendar(zone, out_of_office=[{"from": "2026-03-31", "to": "2026-04-01"}])
    begin = at(zone, *start)
    assert hours.working_minutes_between(begin, hours.add_working_minutes(begin, minutes)) == minutes
