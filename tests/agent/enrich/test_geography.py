from __future__ import annotations

import pycountry
import pytest

from agent.enrich import Geography
from agent.enrich.fields import normalize_country, normalize_state
from agent.enrich.geography import load_country_aliases, load_subdivision_aliases


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("USA", "US"),
        ("U.S.", "US"),
        ("u.s.a.", "US"),
        ("United States of America", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("England", "GB"),
        ("Deutschland", "DE"),
        ("Holland", "NL"),
        ("the Netherlands", "NL"),
        ("España", "ES"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("germany", "DE"),
        ("DEU", "DE"),
        ("fr", "FR"),
        ("  France ", "FR"),
        ("India", "IN"),
    ],
)
def test_countries_and_aliases_map_to_iso_codes(geography: Geography, raw: str, code: str) -> None:
    match = normalize_country(raw, geography)
    assert match.code == code
    assert not match.ambiguous
    assert match.confidence >= 0.95


@pytest.mark.parametrize(
    ("raw", "candidates"), [("Georgia", {"GE", "US"}), ("Korea", {"KR", "KP"}), ("congo", {"CG", "CD"})]
)
def test_ambiguous_countries_are_not_forced(geography: Geography, raw: str, candidates: set[str]) -> None:
    match = normalize_country(raw, geography)
    assert match.code is None
    assert match.ambiguous
    assert set(match.candidates) == candidates
    assert match.confidence < 0.5
    assert match.note is not None
    assert raw in match.note


@pytest.mark.parametrize("raw", ["Atlantis", "", None, "XX"])
def test_unknown_countries_give_no_code(geography: Geography, raw: str | None) -> None:
    match = normalize_country(raw, geography)
    assert match.code is None
    assert match.confidence == 0.0


@pytest.mark.parametrize(
    ("raw", "country", "code", "name"),
    [
        ("CA", "USA", "US-CA", "California"),
        ("california", "US", "US-CA", "California"),
        ("GA", "United States", "US-GA", "Georgia"),
        ("Georgia", "US", "US-GA", "Georgia"),
        ("NSW", "Australia", "AU-NSW", "New South Wales"),
        ("Sao Paulo", "Brasil", "BR-SP", "São Paulo"),
        ("Maharashtra", "India", "IN-MH", "Mahārāshtra"),
        ("Bayern", "Deutschland", "DE-BY", "Bayern"),
        ("Isle of Anglesey", "UK", "GB-AGY", "Isle of Anglesey"),
        ("Bavaria", "Germany", "DE-BY", "Bayern"),
        ("North Rhine-Westphalia", "DE", "DE-NW", "Nordrhein-Westfalen"),
        ("Catalonia", "Spain", "ES-CT", "Catalunya"),
    ],
)
def test_states_map_to_iso_subdivisions_within_the_country(
    geography: Geography, raw: str, country: str, code: str, name: str
) -> None:
    match = normalize_state(raw, country, geography)
    assert (match.code, match.name, match.confidence) == (code, name, 1.0)


def test_a_state_name_unique_worldwide_maps_with_moderate_confidence(geography: Geography) -> None:
    match = normalize_state("Texas", None, geography)
    assert match.code == "US-TX"
    assert 0.5 < match.confidence < 1.0


def test_georgia_as_a_state_without_country_is_ambiguous(geography: Geography) -> None:
    match = normalize_state("Georgia", None, geography)
    assert match.code is None
    assert {"US-GA", "GE"} <= set(match.candidates)
    assert match.confidence < 0.5


def test_a_state_code_without_country_is_ambiguous(geography: Geography) -> None:
    match = normalize_state("CA", None, geography)
    assert match.code is None
    assert "US-CA" in match.candidates
    assert "ES-CA" in match.candidates


def test_a_region_alias_needs_no_country_when_it_is_unique(geography: Geography) -> None:
    match = normalize_state("bavaria", None, geography)
    assert (match.code, match.name) == ("DE-BY", "Bayern")


def test_a_state_outside_the_given_country_is_not_matched(geography: Geography) -> None:
    assert normalize_state("Texas", "Germany", geography).code is None


def test_every_bundled_alias_points_at_a_real_iso_code() -> None:
    for codes in load_country_aliases().values():
        for code in codes:
            assert pycountry.countries.get(alpha_2=code) is not None, code
    for code in load_subdivision_aliases().values():
        assert code in {str(sub.code) for sub in pycountry.subdivisions}, code
