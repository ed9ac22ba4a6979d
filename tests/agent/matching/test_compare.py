from __future__ import annotations

import pytest

from agent.matching import MatchConfig
from agent.matching.compare import compare, compare_values
from agent.matching.prepare import normalize_value, prepare_record, soundex


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("1956-04-09", "date", "19560409"),
        ("09/04/1956", "date", "19560409"),
        (" 19560409 ", "date", "19560409"),
        ("sometime", "date", None),
        ("Wallaby Place", "address", "wallaby pl"),
        ("Dr. Mary-Jane O'Neil", "given_name", "mary jane oneil"),
        ("Acme Pty. Ltd.", "company", "acme"),
        ("New South Wales", "state", "nsw"),
        ("  ", "surname", None),
        ("nan", "suburb", None),
        ("+44 20 7946 0018", "phone", "+442079460018"),
    ],
)
def test_values_are_normalised_before_comparison(raw: str, kind: str, expected: str | None) -> None:
    assert normalize_value(raw, kind) == expected  # type: ignore[arg-type]


def test_soundex_groups_names_that_sound_alike() -> None:
    assert soundex("robert") == soundex("rupert") == "R163"
    assert soundex("ashcraft") == "A261"
    assert soundex("") == ""


@pytest.mark.parametrize(
    ("a", "b", "kind", "level"),
    [
        ("19560409", "19560904", "date", "close"),
        ("19560409", "19560419", "date", "close"),
        ("19560409", "19561231", "date", "similar"),
        ("19560409", "19721111", "date", "different"),
        ("2119", "2191", "postcode", "close"),
        ("2119", "3000", "postcode", "different"),
        ("jonathan", "jonathon", "given_name", "close"),
        ("katherine", "kathryn", "given_name", "similar"),
        ("james", "olivia", "given_name", "different"),
        ("pridhamstreet", "pridham street", "address", "exact"),
        ("+61298765432", "98765432", "phone", "close"),
        ("a@x.org", None, "email", "missing"),
    ],
)
def test_each_kind_has_its_own_idea_of_close(a: str, b: str | None, kind: str, level: str) -> None:
    assert compare_values(a, b, kind) == level  # type: ignore[arg-type]


def test_swapped_names_are_compared_crossed() -> None:
    config = MatchConfig()
    left = prepare_record({"given_name": "Mitchell", "surname": "Green"}, config)
    right = prepare_record({"given_name": "Green", "surname": "Mitchel"}, config)

    levels = dict(zip([s.name for s in config.fields], compare(left, right, config), strict=True))

    assert levels["given_name"] == "close"
    assert levels["surname"] == "exact"
