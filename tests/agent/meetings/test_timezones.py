"""A lead's time zone from country, state and phone: the source, the confidence and the stated assumption."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from agent.meetings.timezones import infer_lead_zone
from tests.agent.meetings.support import NEW_YORK

TEAM = NEW_YORK


def test_a_lead_with_nothing_usable_falls_back_to_the_teams_zone_and_says_so() -> None:
    lead = infer_lead_zone(fallback=TEAM)

    assert lead.zone == TEAM
    assert (lead.source, lead.confidence) == ("fallback", "low")
    assert lead.assumption == "no country, state or phone: assumed America/New_York, the team's zone"


def test_the_fallback_names_what_was_given_but_could_not_be_used() -> None:
    lead = infer_lead_zone(country="Narnia", phone="12345", fallback=ZoneInfo("Europe/Dublin"))

    assert lead.zone == ZoneInfo("Europe/Dublin")
    assert lead.source == "fallback"
    assert lead.assumption.startswith("no usable country, state or phone: assumed Europe/Dublin")
    assert "country 'Narnia' not recognised" in lead.assumption
    assert "phone '12345' not a valid number without a country" in lead.assumption


def test_the_caller_names_its_fallback() -> None:
    lead = infer_lead_zone(fallback=ZoneInfo("UTC"), fallback_label="the routing file's zone")

    assert lead.assumption.endswith("assumed UTC, the routing file's zone")


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("DE", "Europe/Berlin"),
        ("Germany", "Europe/Berlin"),
        ("Deutschland", "Europe/Berlin"),
        ("GBR", "Europe/London"),
        ("United Kingdom", "Europe/London"),
        ("Japan", "Asia/Tokyo"),
        ("Czechia", "Europe/Prague"),
        ("Argentina", "America/Argentina/Buenos_Aires"),  # several tz names, one clock
        ("China", "Asia/Shanghai"),  # one civil time
    ],
)
def test_a_country_with_one_clock_gives_its_zone_with_high_confidence(country: str, zone: str) -> None:
    lead = infer_lead_zone(country=country, fallback=TEAM)

    assert lead.zone == ZoneInfo(zone)
    assert (lead.source, lead.confidence) == ("country", "high")


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("US", "America/New_York"),
        ("Canada", "America/Toronto"),
        ("Australia", "Australia/Sydney"),
        ("Brazil", "America/Sao_Paulo"),
        ("Mexico", "America/Mexico_City"),
        ("Russia", "Europe/Moscow"),
    ],
)
def test_a_multi_zone_country_alone_gives_its_most_populous_zone_at_low_confidence(
    country: str, zone: str
) -> None:
    lead = infer_lead_zone(country=country, fallback=TEAM)

    assert lead.zone == ZoneInfo(zone)
    assert (lead.source, lead.confidence) == ("country", "low")
    assert "spans several time zones" in lead.assumption
    assert f"assumed {zone}, its most populous" in lead.assumption


@pytest.mark.parametrize(
    ("country", "state", "zone"),
    [
        ("US", "CA", "America/Los_Angeles"),
        ("USA", "California", "America/Los_Angeles"),
        ("United States", "us-co", "America/Denver"),
        ("US", "Arizona", "America/Phoenix"),
        ("CA", "BC", "America/Vancouver"),
        ("Canada", "Québec", "America/Toronto"),
        ("AU", "Western Australia", "Australia/Perth"),
        ("Australia", "QLD", "Australia/Brisbane"),
        ("Brazil", "Sao Paulo", "America/Sao_Paulo"),
        ("BR", "AM", "America/Manaus"),
        ("Mexico", "Quintana Roo", "America/Cancun"),
        ("MX", "Sonora", "America/Hermosillo"),
    ],
)
def test_a_state_picks_the_zone_in_a_multi_zone_country(country: str, state: str, zone: str) -> None:
    lead = infer_lead_zone(country=country, state=state, fallback=TEAM)

    assert lead.zone == ZoneInfo(zone)
    assert lead.source == "state"


def test_a_state_on_one_clock_is_high_confidence_and_a_split_state_medium() -> None:
    california = infer_lead_zone(country="US", state="CA", fallback=TEAM)
    texas = infer_lead_zone(country="US", state="Texas", fallback=TEAM)

    assert california.confidence == "high"
    assert california.assumption == "California (US-CA): America/Los_Angeles"
    assert (texas.zone, texas.confidence) == (ZoneInfo("America/Chicago"), "medium")
    assert "the zone most of Texas uses (it spans several)" in texas.assumption


def test_a_state_alone_is_read_in_the_one_country_that_has_it() -> None:
    lead = infer_lead_zone(state="New South Wales", fallback=TEAM)

    assert (lead.zone, lead.source) == (ZoneInfo("Australia/Sydney"), "state")


def test_an_ambiguous_state_alone_is_not_used() -> None:
    lead = infer_lead_zone(state="WA", fallback=TEAM)

    assert lead.source == "fallback"
    assert "state 'WA' is ambiguous: AU-WA or US-WA" in lead.assumption


def test_the_phones_country_settles_an_ambiguous_state() -> None:
    lead = infer_lead_zone(state="WA", phone="+1 206 555 0100", fallback=TEAM)

    assert (lead.zone, lead.source) == (ZoneInfo("America/Los_Angeles"), "state")


def test_a_phone_gives_the_zone_of_its_area_code() -> None:
    lead = infer_lead_zone(phone="+1 415 555 0100", fallback=TEAM)

    assert (lead.zone, lead.source) == (ZoneInfo("America/Los_Angeles"), "phone")
    assert lead.confidence == "medium"  # one area code of a country with several clocks
    assert lead.assumption == "phone number: America/Los_Angeles"


def test_a_phone_from_a_one_clock_country_is_high_confidence() -> None:
    lead = infer_lead_zone(phone="020 7946 0018", country="UK", fallback=TEAM)

    assert (lead.zone, lead.source, lead.confidence) == (ZoneInfo("Europe/London"), "phone", "high")


def test_a_phone_beats_the_country_when_they_agree() -> None:
    lead = infer_lead_zone(country="US", phone="(512) 555-0100", fallback=TEAM)

    assert (lead.zone, lead.source) == (ZoneInfo("America/Chicago"), "phone")


def test_a_state_beats_a_phone_that_points_elsewhere_at_medium_confidence() -> None:
    lead = infer_lead_zone(country="US", state="California", phone="+1 212 555 0100", fallback=TEAM)

    assert (lead.zone, lead.source, lead.confidence) == (ZoneInfo("America/Los_Angeles"), "state", "medium")
    assert "the phone number points to America/New_York, the address was preferred" in lead.assumption


def test_a_state_and_phone_that_agree_stay_high() -> None:
    lead = infer_lead_zone(country="US", state="Ohio", phone="+1 212 555 0100", fallback=TEAM)

    assert (lead.zone, lead.source, lead.confidence) == (ZoneInfo("America/New_York"), "state", "high")


def test_a_phone_on_the_same_clock_under_another_zone_name_agrees() -> None:
    # Michigan is America/Detroit, the phone America/New_York: one clock, no conflict noted.
    lead = infer_lead_zone(country="US", state="MI", phone="+1 212 555 0100", fallback=TEAM)

    assert lead.zone == ZoneInfo("America/Detroit")
    assert "points to" not in lead.assumption
    assert lead.confidence == "medium"  # only because Michigan's Upper Peninsula keeps Central time


def test_a_mobile_range_spanning_several_clocks_does_not_narrow_the_country() -> None:
    lead = infer_lead_zone(country="AU", phone="+61 412 345 678", fallback=TEAM)

    assert (lead.zone, lead.source, lead.confidence) == (ZoneInfo("Australia/Sydney"), "country", "low")


def test_a_phone_from_another_country_than_the_stated_one_is_not_used() -> None:
    lead = infer_lead_zone(country="US", phone="+44 20 7946 0018", fallback=TEAM)

    assert (lead.zone, lead.source) == (ZoneInfo("America/New_York"), "country")
    assert "phone '+44 20 7946 0018' is a GB number, not US" in lead.assumption


def test_a_state_outside_the_covered_countries_is_said_to_be_unused() -> None:
    lead = infer_lead_zone(country="Russia", state="Novosibirsk Oblast", fallback=TEAM)

    assert (lead.zone, lead.confidence) == (ZoneInfo("Europe/Moscow"), "low")
    assert "zones by state are not known for RU" in lead.assumption


def test_a_state_is_irrelevant_in_a_one_clock_country() -> None:
    lead = infer_lead_zone(country="Germany", state="Bavaria", fallback=TEAM)

    assert (lead.zone, lead.source, lead.confidence) == (ZoneInfo("Europe/Berlin"), "country", "high")
    assert lead.assumption == "Germany: Europe/Berlin"


def test_an_unknown_state_in_a_covered_country_is_named() -> None:
    lead = infer_lead_zone(country="US", state="Bavaria", fallback=TEAM)

    assert lead.source == "country"
    assert "state 'Bavaria' not recognised in US" in lead.assumption
