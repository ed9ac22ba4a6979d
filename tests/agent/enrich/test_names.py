from __future__ import annotations

import pytest

from agent.enrich.fields import CleanName, clean_person_name, normalize_person_name
from agent.normalize import normalize_person_name as base_normalize_person_name


@pytest.mark.parametrize(
    "name",
    [
        "McDonald",
        "MacLeod",
        "O'Neil",
        "d'Artagnan",
        "Charles d'Artagnan",
        "D'Angelo",
        "van der Berg",
        "Jan van der Berg",
        "Maria de la Cruz",
        "Anne-Marie O'Neil",
        "John Smith III",
        "Dr. John Smith",
        "Jane Doe, PhD",
        "Smith, John",
        "Élodie",
    ],
)
def test_well_formed_names_are_left_untouched(name: str) -> None:
    assert normalize_person_name(name) == name


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("MCDONALD", "McDonald"),
        ("mcdonald", "McDonald"),
        ("jan VAN DER BERG", "Jan van der Berg"),
        ("VAN DER BERG", "Van der Berg"),
        ("o'neil", "O'Neil"),
        ("O'NEIL", "O'Neil"),
        ("charles d'artagnan", "Charles d'Artagnan"),
        ("CHARLES D'ARTAGNAN", "Charles D'Artagnan"),
        ("Maria D'ANGELO", "Maria D'Angelo"),
        ("  john \t  SMITH ", "John Smith"),
        ("dr. john smith", "Dr. John Smith"),
        ("DR JOHN SMITH", "Dr John Smith"),
        ("MR. JOHN SMITH", "Mr. John Smith"),
        ("mrs jane o'neil", "Mrs Jane O'Neil"),
        ("JOHN SMITH PHD", "John Smith PhD"),
        ("jane doe, md", "Jane Doe, MD"),
        ("jane doe jr.", "Jane Doe Jr."),
        ("Jane Doe, MD, PhD", "Jane Doe, MD, PhD"),
    ],
)
def test_badly_cased_names_are_fixed(raw: str, fixed: str) -> None:
    assert normalize_person_name(raw) == fixed


def test_honorific_and_post_nominals_are_split_off() -> None:
    assert clean_person_name("DR. jan VAN DER BERG, PhD") == CleanName(
        name="Jan van der Berg", honorific="Dr.", suffix="PhD", suffix_after_comma=True
    )
    assert clean_person_name("Ms O'NEIL").name == "O'Neil"


@pytest.mark.parametrize("raw", ["Dr", "Mr.", "Miss"])
def test_a_lone_honorific_is_kept_as_the_name(raw: str) -> None:
    cleaned = clean_person_name(raw)
    assert (cleaned.name, cleaned.honorific) == (raw, None)


def test_titles_of_rank_are_not_stripped() -> None:
    assert clean_person_name("Sir Paul McCartney").name == "Sir Paul McCartney"


def test_a_blank_name_stays_blank() -> None:
    assert normalize_person_name("   ") == ""


# Where this module deliberately differs from agent.normalize.normalize_person_name;
# the lead can swap it in: every other case above gives the same answer in both.
DIFFERENCES = [
    ("JOHN SMITH PHD", "John Smith Phd", "John Smith PhD"),
    ("John Smith MD", "John Smith Md", "John Smith MD"),
    ("Jane Doe, PhD", "Jane Doe, Phd", "Jane Doe, PhD"),
    ("charles d'artagnan", "Charles D'Artagnan", "Charles d'Artagnan"),
    ("dr. van der berg", "Dr. van der Berg", "Dr. Van der Berg"),
    ("John Smith ,", "John Smith ,", "John Smith"),
]


@pytest.mark.parametrize(("raw", "base", "ours"), DIFFERENCES)
def test_the_differences_from_the_base_normaliser_are_the_documented_ones(
    raw: str, base: str, ours: str
) -> None:
    assert base_normalize_person_name(raw) == base
    assert normalize_person_name(raw) == ours


@pytest.mark.parametrize(
    "raw",
    [
        "McDonald",
        "MACLEOD",
        "mack",
        "VAN DER BERG",
        "o'neil",
        "D'ANGELO",
        "Maria D'ANGELO",
        "JOHN SMITH III",
        "j.r.",
    ],
)
def test_the_base_normaliser_and_ours_agree_elsewhere(raw: str) -> None:
    assert normalize_person_name(raw) == base_normalize_person_name(raw)
