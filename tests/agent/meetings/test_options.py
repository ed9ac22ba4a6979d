"""Meeting options for a lead: the rep, the lead's zone, the slots, and who stands in for an absent owner."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from agent.errors import LeadNotRoutedError
from agent.meetings.calendars import FeedCalendars, NoCalendars, calendar_sources
from agent.meetings.options import MeetingOptions
from agent.meetings.slots import NoSlot, SlotRules
from agent.models import Record
from agent.routing import RoutingConfig, parse_routing_text
from tests.agent.meetings.support import DATA, LONDON, NEW_YORK, TOKYO, at, utc
from tests.support.fakes import FixedClock

# Monday 15 March 2027, 08:00 in London (still GMT: the UK changes on the 28th).
NOW = utc(2027, 3, 15, 8)
BUSY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//revgate tests//options//EN
BEGIN:VEVENT
UID:review@example.com
DTSTAMP:20270101T000000Z
SUMMARY:Weekly review
DTSTART;TZID=Europe/London:20270104T100000
DTEND;TZID=Europe/London:20270104T110000
RRULE:FREQ=WEEKLY;BYDAY=MO
END:VEVENT
END:VCALENDAR
"""


def _config(tmp_path: Path, ann: str = "", bob: str = "") -> RoutingConfig:
    text = f"""timezone: Europe/London
rules:
  - {{name: all, then: {{pool: emea}}}}
  - {{name: catch-all, then: {{queue: triage}}}}
pools:
  emea:
    members:
      - {{owner: OA, timezone: Europe/London{ann}}}
      - {{owner: OB, timezone: America/New_York{bob}}}
      - {{owner: OC, timezone: Europe/Berlin}}
queues: {{triage: {{}}}}
"""
    config, problems = parse_routing_text(text, base=tmp_path)
    assert config is not None, problems
    return config


def _lead(owner: str | None = "OA", **fields: str) -> Record:
    return Record(
        object_type="lead",
        id="L1",
        version="1",
        owner_id=owner,
        fields=fields,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
    )


def _options(config: RoutingConfig, tmp_path: Path, **kwargs: object) -> MeetingOptions:
    calendars = FeedCalendars(calendar_sources(config), base=tmp_path)
    return MeetingOptions(config, calendars, FixedClock(NOW), **kwargs)  # type: ignore[arg-type]


def test_slots_with_the_owner_skip_their_recurring_meeting_and_its_buffer(tmp_path: Path) -> None:
    (tmp_path / "ann.ics").write_text(BUSY)
    config = _config(tmp_path, ann=", calendar: ann.ics")

    options = _options(config, tmp_path).for_lead(
        _lead(country="GB"), SlotRules(buffer=timedelta(minutes=10))
    )

    assert options.rep.owner_id == "OA"
    assert options.rep.pool == "emea"
    assert options.rep.calendar == "calendar feed ann.ics"
    assert options.lead_zone.zone == LONDON
    assert options.lead_zone.source == "country"
    # Earliest 10:00 (two hours' notice); the review holds 10:00-11:00 and 10 minutes after it.
    assert [slot.rep_local[0] for slot in options.slots] == [
        at(LONDON, 2027, 3, 15, 11, 30),
        at(LONDON, 2027, 3, 15, 12),
        at(LONDON, 2027, 3, 15, 12, 30),
    ]
    assert options.reason is None
    assert options.substitution is None


def test_each_slot_is_given_in_the_leads_own_zone(tmp_path: Path) -> None:
    config = _config(tmp_path)

    options = _options(config, tmp_path).for_lead(_lead(country="US", state="NY"))

    assert options.lead_zone.zone == NEW_YORK
    assert options.lead_zone.source == "state"
    first = options.slots[0]
    # 09:00 in New York (EDT since the 14th) is 13:00 in London: the first hour both work.
    assert first.lead_local[0] == at(NEW_YORK, 2027, 3, 15, 9)
    assert first.rep_local[0] == at(LONDON, 2027, 3, 15, 13)
    assert all(slot.inside_lead_hours for slot in options.slots)


def test_owner_out_of_office_for_the_whole_horizon_gives_way_to_the_next_pool_member(tmp_path: Path) -> None:
    config = _config(tmp_path, ann=f", calendar: {DATA / 'leave.ics'}")  # OOF Mon 15 to Fri 19 March

    options = _options(config, tmp_path).for_lead(_lead(country="GB"))

    assert options.owner_id == "OA"
    assert options.rep.owner_id == "OB"
    assert options.rep.hours.zone == NEW_YORK
    assert options.substitution is not None
    assert options.substitution.until == date(2027, 3, 19)
    assert options.substitution.describe("OB") == (
        "owner OA is out of office until 2027-03-19; proposing OB from pool emea"
    )
    assert options.slots
    assert options.reason is None


def test_an_inactive_member_is_not_proposed_instead(tmp_path: Path) -> None:
    config = _config(tmp_path, ann=", out_of_office: [{from: 2027-03-01, to: 2027-03-31}]")

    options = _options(config, tmp_path, active=lambda owner: owner != "OB").for_lead(_lead(country="GB"))

    assert options.rep.owner_id == "OC"
    assert options.substitution is not None
    assert options.substitution.until == date(2027, 3, 31)


def test_when_the_whole_pool_is_away_the_owner_stays_with_the_reason(tmp_path: Path) -> None:
    away = ", out_of_office: [{from: 2027-03-01, to: 2027-03-31}]"
    config = _config(tmp_path, ann=away, bob=away)

    options = _options(config, tmp_path, active=lambda owner: owner != "OC").for_lead(_lead(country="GB"))

    assert options.rep.owner_id == "OA"
    assert options.substitution is None
    assert options.reason is NoSlot.REP_OUT_OF_OFFICE
    assert options.note == "nobody else in pool emea has a slot in the horizon either"
    assert options.search.back_on == date(2027, 4, 1)


def test_a_lead_with_no_usable_zone_falls_back_to_the_teams_zone_and_says_so(tmp_path: Path) -> None:
    config = _config(tmp_path)

    options = _options(config, tmp_path).for_lead(_lead(country="Atlantis", phone="12"))

    zone = options.lead_zone
    assert (zone.zone, zone.source, zone.confidence) == (LONDON, "fallback", "low")
    assert "assumed Europe/London, the team's zone" in zone.assumption
    assert "'Atlantis' not recognised" in zone.assumption
    assert options.slots


def test_an_owner_in_no_pool_works_nine_to_five_in_the_routing_zone(tmp_path: Path) -> None:
    config = _config(tmp_path)

    options = MeetingOptions(config, NoCalendars(), FixedClock(NOW)).for_lead(_lead("OZ", country="GB"))

    assert options.rep.pool is None
    assert options.rep.calendar == "no calendar"
    assert (options.rep.hours.zone, options.rep.hours.start, options.rep.hours.end) == (
        LONDON,
        time(9),
        time(17),
    )
    assert options.slots[0].rep_local[0] == at(LONDON, 2027, 3, 15, 10)


def test_no_overlap_of_business_hours_offers_rep_hours_flagged(tmp_path: Path) -> None:
    config = _config(tmp_path)

    options = _options(config, tmp_path).for_lead(_lead(country="JP"))

    assert options.lead_zone.zone == TOKYO
    assert options.reason is NoSlot.NO_OVERLAP
    assert options.explanation is not None
    assert "share no 30-minute slot" in options.explanation
    assert options.slots
    assert all(slot.note == "outside the lead's business hours" for slot in options.slots)


def test_an_unowned_lead_must_be_routed_first(tmp_path: Path) -> None:
    config = _config(tmp_path)

    with pytest.raises(LeadNotRoutedError, match="lead L1 has no owner: route it first"):
        _options(config, tmp_path).for_lead(_lead(None, country="GB"))


def test_an_owner_in_no_pool_away_for_the_horizon_has_nobody_to_stand_in(tmp_path: Path) -> None:
    (tmp_path / "oz.ics").write_bytes((DATA / "leave.ics").read_bytes())
    config = _config(tmp_path)
    calendars = FeedCalendars({"OZ": "oz.ics"}, base=tmp_path)

    options = MeetingOptions(config, calendars, FixedClock(NOW)).for_lead(_lead("OZ", country="GB"))

    assert options.reason is NoSlot.REP_OUT_OF_OFFICE
    assert options.substitution is None
    assert options.note == "OZ is in no pool: nobody to propose instead"
