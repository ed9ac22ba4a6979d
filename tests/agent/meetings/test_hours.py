"""Working hours in wall-clock terms: parsing, a routing member's calendar, and windows in UTC."""

from __future__ import annotations

from datetime import date, time

import pytest

from agent.meetings.hours import WorkingHours
from agent.meetings.intervals import merge
from agent.routing.config import Member
from tests.agent.meetings.support import BERLIN, LONDON, NEW_YORK, utc


def test_a_routing_member_becomes_working_hours_in_its_own_or_the_default_zone() -> None:
    member = Member.model_validate(
        {
            "owner": "O1",
            "hours": "08:30-16:00",
            "days": ["mon", "tue", "thu"],
            "out_of_office": [{"from": "2027-03-15", "to": "2027-03-16"}],
        }
    )
    in_berlin = Member.model_validate({"owner": "O2", "timezone": "Europe/Berlin"})

    hours = WorkingHours.of_member(member, LONDON)

    assert hours == WorkingHours(
        LONDON, time(8, 30), time(16), frozenset({0, 1, 3}), ((date(2027, 3, 15), date(2027, 3, 16)),)
    )
    assert WorkingHours.of_member(in_berlin, LONDON).zone == BERLIN


def test_hours_until_midnight_end_at_the_next_local_midnight() -> None:
    late = WorkingHours.parse(NEW_YORK, "18:00-24:00")

    assert late.end is None
    assert late.window(date(2027, 3, 15)) == (utc(2027, 3, 15, 22), utc(2027, 3, 16, 4))
    assert late.label == "18:00-24:00 America/New_York"


def test_a_window_is_none_on_weekends_and_days_off() -> None:
    hours = WorkingHours.parse(NEW_YORK, out_of_office=[(date(2027, 3, 15), date(2027, 3, 15))])

    assert hours.window(date(2027, 3, 13)) is None  # Saturday
    assert hours.window(date(2027, 3, 15)) is None  # day off
    assert hours.window(date(2027, 3, 16)) == (utc(2027, 3, 16, 13), utc(2027, 3, 16, 21))
    assert hours.next_working_day(date(2027, 3, 12)) == date(2027, 3, 16)


@pytest.mark.parametrize(
    ("text", "days"),
    [("9-17", ("mon",)), ("17:00-09:00", ("mon",)), ("09:00-17:00", ("someday",)), ("09:00-17:00", ())],
)
def test_unreadable_working_hours_are_refused(text: str, days: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match=r"working (hours|days)|cannot read"):
        WorkingHours.parse(NEW_YORK, text, days)


def test_busy_intervals_merge_when_they_overlap_or_touch() -> None:
    merged = merge(
        [
            (utc(2027, 3, 15, 15), utc(2027, 3, 15, 16)),
            (utc(2027, 3, 15, 9), utc(2027, 3, 15, 10)),
            (utc(2027, 3, 15, 10), utc(2027, 3, 15, 11)),
            (utc(2027, 3, 15, 9, 30), utc(2027, 3, 15, 9, 45)),
            (utc(2027, 3, 15, 12), utc(2027, 3, 15, 12)),  # empty: dropped
        ]
    )

    assert merged == [
        (utc(2027, 3, 15, 9), utc(2027, 3, 15, 11)),
        (utc(2027, 3, 15, 15), utc(2027, 3, 15, 16)),
    ]
