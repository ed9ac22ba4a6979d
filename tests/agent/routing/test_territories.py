"""Territory tables: what a territory covers, which one wins, which ones overlap, and CSV tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agent.routing.territories import Territory, first_covering, overlaps, read_territory_csv


def territory(name: str = "t", team: str = "team", **dimensions: Any) -> Territory:
    return Territory.model_validate({"name": name, "team": team, **dimensions})


def overlapping_names(*territories: Territory) -> list[tuple[str, str]]:
    return [(o.first.name, o.second.name) for o in overlaps(territories)]


# --- what a territory covers -----------------------------------------------------------


@pytest.mark.parametrize("written", ["United States", "USA", "U.S.", "us", "US"])
def test_country_aliases_become_iso_codes(written: str) -> None:
    assert territory(country=[written]).country == {"US"}


def test_a_single_country_need_not_be_a_list() -> None:
    assert territory(country="Germany").country == {"DE"}


def test_an_unknown_country_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown country 'Atlantis'"):
        territory(country=["US", "Atlantis"])


def test_a_country_yaml_read_as_false_is_refused_with_the_norway_hint() -> None:
    # YAML 1.1 reads a bare NO as false; the message says how to write Norway.
    with pytest.raises(ValidationError, match="write Norway's code in quotes, 'NO'"):
        territory(country=["SE", False])


def test_covers_the_listed_country_codes() -> None:
    na = territory(country=["United States", "Canada"])
    assert na.covers({"country": "US"})
    assert na.covers({"country": "CA"})
    assert not na.covers({"country": "MX"})
    assert not na.covers({})


@pytest.mark.parametrize(
    ("dimension", "listed", "seen"),
    [("state", " CA ", "ca"), ("industry", "Software", "SOFTWARE "), ("segment", "Mid_Market", "mid_market")],
)
def test_state_industry_and_segment_ignore_case_and_space(dimension: str, listed: str, seen: str) -> None:
    covering = territory(**{dimension: [listed]})
    assert covering.covers({dimension: seen})
    assert not covering.covers({dimension: "other"})
    assert not covering.covers({})


def test_postcode_prefix_ignores_spaces_and_case() -> None:
    london = territory(postcode_prefix=["sw1 a", "EC"])
    assert london.postcode_prefix == ("SW1A", "EC")
    assert london.covers({"postcode": "SW1A 1AA"})
    assert london.covers({"postcode": "ec2r 8ah"})
    assert not london.covers({"postcode": "SW1 1AA"})
    assert not london.covers({"postcode": ""})
    assert not london.covers({})


def test_a_numeric_postcode_prefix_is_read_as_text() -> None:
    bay_area = territory(postcode_prefix=94)
    assert bay_area.postcode_prefix == ("94",)
    assert bay_area.covers({"postcode": "94105"})
    assert not bay_area.covers({"postcode": "10001"})


def test_an_empty_dimension_covers_everything() -> None:
    everything = territory()
    assert everything.covers({})
    assert everything.covers({"country": "JP", "state": "13", "postcode": "100-0001", "industry": "Retail"})


def test_blank_values_leave_a_dimension_empty() -> None:
    # A blank used to become a value of its own: state [""] covered only leads without a state.
    blank = territory(state=[""], industry=[" "], postcode_prefix=[""], country=[])
    assert (blank.state, blank.industry, blank.postcode_prefix, blank.country) == (set(), set(), (), set())
    assert blank.covers({"state": "CA", "industry": "Retail", "postcode": "94105", "country": "US"})


def test_every_listed_dimension_must_match() -> None:
    west = territory(country="US", state=["CA", "WA"], industry=["Software"])
    assert west.covers({"country": "US", "state": "WA", "industry": "software"})
    assert not west.covers({"country": "US", "state": "NY", "industry": "software"})
    assert not west.covers({"country": "US", "state": "CA", "industry": "Retail"})
    assert not west.covers({"country": "CA", "state": "CA", "industry": "software"})


def test_describe_lists_the_dimensions_and_the_team() -> None:
    assert territory("west", "sales-na", country="US", state=["WA", "CA"]).describe() == (
        "west (country US, state ca/wa) -> sales-na"
    )
    assert territory("rest", "triage").describe() == "rest (everything) -> triage"


def test_a_territory_needs_a_name_and_a_team() -> None:
    with pytest.raises(ValidationError):
        Territory.model_validate({"name": "", "team": "x"})
    with pytest.raises(ValidationError):
        Territory.model_validate({"name": "x"})


def test_an_unknown_dimension_is_refused() -> None:
    with pytest.raises(ValidationError, match="region"):
        territory(region="west")


# --- first covering wins ------------------------------------------------------------------


def test_the_first_covering_territory_wins() -> None:
    table = [
        territory("bay-area", "west", country="US", postcode_prefix=["94", "95"]),
        territory("usa", "na", country="US"),
        territory("rest", "global"),
    ]
    assert first_covering(table, {"country": "US", "postcode": "94105"}) is table[0]
    assert first_covering(table, {"country": "US", "postcode": "10001"}) is table[1]
    assert first_covering(table, {"country": "FR"}) is table[2]


def test_no_covering_territory_gives_none() -> None:
    assert first_covering([territory(country="US")], {"country": "FR"}) is None
    assert first_covering([], {"country": "FR"}) is None


# --- overlaps -------------------------------------------------------------------------------


def test_territories_sharing_a_country_overlap_and_the_first_wins() -> None:
    usa = territory("usa", country=["US"])
    americas = territory("americas", country=["US", "CA", "MX"])
    assert overlapping_names(usa, americas) == [("usa", "americas")]
    assert (
        str(overlaps([usa, americas])[0]) == "territories usa and americas overlap; usa wins (it comes first)"
    )


def test_territories_in_disjoint_countries_do_not_overlap() -> None:
    assert (
        overlapping_names(territory("na", country=["US", "CA"]), territory("eu", country=["DE", "FR"])) == []
    )


def test_a_disjoint_second_dimension_separates_territories_in_one_country() -> None:
    west = territory("west", country="US", state=["CA", "WA"])
    east = territory("east", country="US", state=["NY"])
    retail = territory("retail", country="US", industry=["Retail"])
    assert overlapping_names(west, east) == []
    assert overlapping_names(west, retail) == [("west", "retail")]


def test_a_prefix_overlaps_a_longer_prefix_it_starts() -> None:
    assert overlapping_names(
        territory("p9", postcode_prefix="9"), territory("p94", postcode_prefix="94")
    ) == [("p9", "p94")]
    assert overlapping_names(
        territory("p94", postcode_prefix="94"), territory("p9", postcode_prefix="9")
    ) == [("p94", "p9")]


def test_different_prefixes_do_not_overlap() -> None:
    assert (
        overlapping_names(territory("p94", postcode_prefix="94"), territory("p10", postcode_prefix="10"))
        == []
    )


def test_an_empty_dimension_overlaps_any_value_of_it() -> None:
    assert overlapping_names(territory("us", country="US"), territory("bay", postcode_prefix="94")) == [
        ("us", "bay")
    ]
    assert overlapping_names(territory("rest"), territory("fr", country="FR")) == [("rest", "fr")]


def test_overlaps_lists_every_pair_in_file_order() -> None:
    table = [
        territory("a", country="US"),
        territory("b", country="FR"),
        territory("c"),
        territory("d", country="US"),
    ]
    assert overlapping_names(*table) == [("a", "c"), ("a", "d"), ("b", "c"), ("c", "d")]


# --- CSV tables --------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "territories.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_rows_split_multiple_values_on_bars(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name,team,country,state,postcode_prefix,industry,segment\n"
        "dach,sales-emea, DE | AT|CH ,,,,\n"
        "west,sales-na,US,CA|WA,94|98,Software,smb|mid_market\n",
    )
    rows = read_territory_csv(path)
    assert rows == [
        {
            "name": "dach",
            "team": "sales-emea",
            "country": ["DE", "AT", "CH"],
            "state": [],
            "postcode_prefix": [],
            "industry": [],
            "segment": [],
        },
        {
            "name": "west",
            "team": "sales-na",
            "country": ["US"],
            "state": ["CA", "WA"],
            "postcode_prefix": ["94", "98"],
            "industry": ["Software"],
            "segment": ["smb", "mid_market"],
        },
    ]
    dach, west = (Territory.model_validate(row) for row in rows)
    assert dach.country == {"DE", "AT", "CH"}
    assert dach.covers({"country": "AT", "state": "9"})
    assert west.covers(
        {"country": "US", "state": "wa", "postcode": "98101", "industry": "software", "segment": "smb"}
    )


def test_csv_needs_only_name_and_team(tmp_path: Path) -> None:
    path = write(
        tmp_path, "\ufeffteam, name\nsales,everyone\n"
    )  # a BOM and spaced headers from a spreadsheet
    assert read_territory_csv(path) == [{"name": "everyone", "team": "sales"}]


def test_csv_with_an_unknown_column_is_refused_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "name,team,region,country\nwest,na,west,US\n")
    with pytest.raises(ValueError, match=r"unknown column\(s\) region \(use name, team, country, state"):
        read_territory_csv(path)


def test_csv_without_a_team_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name,country\nwest,US\n")
    with pytest.raises(ValueError, match="needs the columns name and team"):
        read_territory_csv(path)


def test_csv_that_does_not_exist_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.csv"):
        read_territory_csv(tmp_path / "missing.csv")
