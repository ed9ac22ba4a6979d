"""The policy's meeting conditions, measured on the plan's times, hours and zones and the lead's owner."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from agent.facts import gather_facts
from agent.meetings.conditions import inside_hours, other_rep, outside_working_hours
from agent.models import MeetingPlan, ProposedAction, Record, Target
from agent.policy import evaluate
from agent.policy_file import load_policy
from tests.agent.meetings.support import BERLIN, NEW_YORK, at, utc
from tests.support.stack import DEFAULT_POLICY


def _plan(start: datetime, minutes: int = 30, **changes: object) -> MeetingPlan:
    values: dict[str, object] = {
        "rep_id": "OA",
        "rep_name": "Ann Rep",
        "rep_email": "ann@acme.io",
        "lead_name": "Jane Doe",
        "lead_email": "jane@prospect.io",
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "rep_zone": "America/New_York",
        "rep_hours": "09:00-17:00",
        "lead_zone": "Europe/Berlin",
        "title": "Intro call",
    }
    values.update(changes)
    return MeetingPlan.model_validate(values)


def _lead(owner_id: str | None = "OA", **fields: object) -> Record:
    now = utc(2027, 3, 1)
    return Record(
        object_type="lead",
        id="L1",
        version="1",
        owner_id=owner_id,
        fields=fields,
        created_at=now,
        updated_at=now,
    )


def _action(plan: MeetingPlan) -> ProposedAction:
    return ProposedAction(
        id="a1",
        kind="book_meeting",
        object_type="lead",
        targets=[Target(record_id="L1", version="1")],
        meeting=plan,
        rationale="test",
    )


def test_wall_clock_hours_hold_on_both_sides_of_the_us_change() -> None:
    # New York moves to daylight time on Sunday 14 March 2027: 09:00 local is 14:00 UTC on
    # Friday the 12th and 13:00 UTC on Monday the 15th.
    assert inside_hours(
        utc(2027, 3, 12, 14), utc(2027, 3, 12, 14, 30), NEW_YORK, "09:00-17:00", [0, 1, 2, 3, 4]
    )
    assert not inside_hours(utc(2027, 3, 12, 13), utc(2027, 3, 12, 13, 30), NEW_YORK, "09:00-17:00", [4])
    assert inside_hours(utc(2027, 3, 15, 13), utc(2027, 3, 15, 13, 30), NEW_YORK, "09:00-17:00", [0])
    assert not inside_hours(utc(2027, 3, 15, 21), utc(2027, 3, 15, 21, 30), NEW_YORK, "09:00-17:00", [0])


def test_between_the_two_changes_a_slot_inside_both_parties_hours_is_not_flagged() -> None:
    # 15 to 26 March 2027 New York is on daylight time and Berlin is not: five hours apart,
    # not six. 10:00 New York is 15:00 Berlin (inside); a week earlier it was 16:00 (also inside).
    assert outside_working_hours(_plan(at(NEW_YORK, 2027, 3, 16, 10))) is None
    assert outside_working_hours(_plan(at(NEW_YORK, 2027, 3, 9, 10))) is None


def test_after_the_european_change_the_lead_side_is_measured_in_summer_time() -> None:
    # From 28 March Berlin is on summer time too: 11:00 New York is 17:00 Berlin, outside.
    why = outside_working_hours(_plan(at(NEW_YORK, 2027, 3, 29, 11)))

    assert why is not None
    assert why.startswith("Mon 29 Mar 17:00 Europe/Berlin is outside the lead's business hours")
    # The week before, the same 11:00 was 16:00 in Berlin: inside.
    assert outside_working_hours(_plan(at(NEW_YORK, 2027, 3, 22, 11))) is None


def test_a_time_outside_the_reps_hours_says_whose_hours_and_which() -> None:
    why = outside_working_hours(_plan(at(NEW_YORK, 2027, 3, 16, 8, 30), lead_zone="America/New_York"))

    assert why == (
        "Tue 16 Mar 08:30 America/New_York is outside Ann Rep's working hours "
        "(09:00-17:00 America/New_York, Mon, Tue, Wed, Thu, Fri)"
    )


def test_a_meeting_running_past_the_end_of_the_day_is_outside() -> None:
    assert outside_working_hours(_plan(at(NEW_YORK, 2027, 3, 16, 16, 45), lead_zone="America/New_York"))


def test_a_weekend_day_is_outside_unless_the_rep_works_it() -> None:
    saturday = at(BERLIN, 2027, 3, 20, 10)
    plan = _plan(saturday, rep_zone="Europe/Berlin")

    assert outside_working_hours(plan) is not None
    assert inside_hours(saturday, saturday + timedelta(minutes=30), BERLIN, "09:00-17:00", [5])


def test_the_owner_is_not_another_rep_but_anyone_else_is_with_the_reason() -> None:
    plan = _plan(at(NEW_YORK, 2027, 3, 16, 10), substitution="owner Ann is out of office until 2027-03-26")

    assert other_rep(plan, _lead("OA")) is None
    assert other_rep(plan, _lead("OB")) == (
        "the meeting is with Ann Rep (OA), not the lead's owner OB: "
        "owner Ann is out of office until 2027-03-26"
    )
    assert "not the lead's owner nobody" in (other_rep(plan, None) or "")


def test_the_default_policy_books_the_plain_case_and_gates_each_unusual_one() -> None:
    policy = load_policy(DEFAULT_POLICY)
    plain = _action(_plan(at(NEW_YORK, 2027, 3, 16, 10)))
    late = _action(_plan(at(NEW_YORK, 2027, 3, 16, 18)))

    def verdict(action: ProposedAction, lead: Record) -> tuple[str, tuple[str, ...]]:
        found = evaluate(policy, action, gather_facts(action, {"L1": lead}, policy))
        return found.outcome, found.gates

    assert verdict(plain, _lead("OA")) == ("allow", ())
    assert verdict(late, _lead("OA")) == ("require_approval", ("outside_working_hours",))
    assert verdict(plain, _lead("OB")) == ("require_approval", ("other_rep",))
    assert verdict(plain, _lead("OA", annual_revenue=2_000_000)) == (
        "require_approval",
        ("high_value_changes",),
    )


def test_a_policy_may_forbid_meetings_outside_working_hours() -> None:
    policy = load_policy(DEFAULT_POLICY).model_copy(
        update={"forbidden_actions": ["delete", "outside_working_hours"]}
    )
    late = _action(_plan(at(NEW_YORK, 2027, 3, 16, 18)))

    found = evaluate(policy, late, gather_facts(late, {"L1": _lead("OA")}, policy))

    assert (found.outcome, found.rule) == ("deny", "forbidden_actions: outside_working_hours")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rep_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"rep_hours": "9-5"}, "rep_hours must look like 09:00-17:00"),
        ({"rep_hours": "17:00-09:00"}, "rep_hours must look like"),
        ({"rep_days": []}, "rep_days must be weekday numbers"),
    ],
)
def test_a_meeting_plan_refuses_what_it_could_not_measure(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _plan(at(NEW_YORK, 2027, 3, 16, 10), **changes)


def test_a_booking_is_one_lead_one_plan_and_no_field_changes() -> None:
    plan = _plan(at(NEW_YORK, 2027, 3, 16, 10))
    with pytest.raises(ValidationError, match="book_meeting needs a meeting plan"):
        ProposedAction(
            id="a",
            kind="book_meeting",
            object_type="lead",
            targets=[Target(record_id="L1", version="1")],
            rationale="x",
        )
    with pytest.raises(ValidationError, match="applies to one lead"):
        ProposedAction(
            id="a",
            kind="book_meeting",
            object_type="contact",
            targets=[Target(record_id="C1", version="1")],
            meeting=plan,
            rationale="x",
        )
    with pytest.raises(ValidationError, match="only book_meeting actions carry a meeting plan"):
        ProposedAction(
            id="a",
            kind="add_note",
            object_type="lead",
            targets=[Target(record_id="L1", version="1", note="hi")],
            meeting=plan,
            rationale="x",
        )
