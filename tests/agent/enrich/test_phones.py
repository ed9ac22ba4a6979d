from __future__ import annotations

import pytest

from agent.enrich import Geography
from agent.enrich.phones import check_phone


@pytest.mark.parametrize(
    ("raw", "country", "e164", "region"),
    [
        ("020 7946 0018", "UK", "+442079460018", "GB"),
        ("020 7946 0018", "United Kingdom", "+442079460018", "GB"),
        ("030 901820", "Deutschland", "+4930901820", "DE"),
        ("01 42 68 53 00", "France", "+33142685300", "FR"),
        ("098765 43210", "India", "+919876543210", "IN"),
        ("(11) 91234-5678", "Brasil", "+5511912345678", "BR"),
        ("(202) 555-0143", "U.S.A.", "+12025550143", "US"),
        ("+44 20 7946 0018", None, "+442079460018", "GB"),
        ("0049 30 901820", None, "+4930901820", "DE"),
        ("+91 98765 43210", "Germany", "+919876543210", "IN"),
    ],
)
def test_international_numbers_become_e164_in_the_records_country(
    geography: Geography, raw: str, country: str | None, e164: str, region: str
) -> None:
    check = check_phone(raw, country, geography)
    assert check.e164 == e164
    assert check.region == region
    assert check.problem is None
    assert check.confidence > 0.9


def test_a_number_without_country_or_prefix_is_reported_not_guessed(geography: Geography) -> None:
    check = check_phone("2025550143", None, geography)
    assert check.e164 is None
    assert check.problem is not None
    assert "no usable country" in check.problem


def test_an_ambiguous_country_does_not_pick_a_region(geography: Geography) -> None:
    check = check_phone("020 7946 0018", "Georgia", geography)
    assert check.e164 is None
    assert check.problem is not None
    assert "ambiguous" in check.problem


def test_an_extension_is_kept_apart_from_the_e164_number(geography: Geography) -> None:
    check = check_phone("202-555-0143 x12", "US", geography)
    assert (check.e164, check.extension) == ("+12025550143", "12")


@pytest.mark.parametrize("raw", ["12", "abc", "", None, "020 7946 0018 0018 0018"])
def test_invalid_numbers_give_no_e164(geography: Geography, raw: str | None) -> None:
    check = check_phone(raw, "GB", geography)
    assert check.e164 is None
    assert check.problem
