"""A fixed FEBRL-style sample (crafted rows, not the data set): originals, corrupted
duplicates and look-alikes, mixed into a seeded population."""

from __future__ import annotations

from agent.matching import MatchConfig, Record, dedupe, link
from tests.agent.matching.people import population

COLUMNS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
)
ROWS = {
    "rec-1-org": ("mitchell", "green", "7", "wallaby place", "cleveland", "2119", "sa", "19560409"),
    "rec-1-dup-0": ("mitchell", "green", "7", "wallabyplace", "cleveland", "2119", "sa", "19560904"),
    "rec-1-dup-1": ("green", "mitchell", "7", "wallaby pl", "clevelandd", "2119", "sa", "19560409"),
    "rec-2-org": ("harley", "mccarthy", "177", "pridham street", "marsden", "3165", "nsw", "19080419"),
    "rec-2-dup-0": ("harlye", "mccarthy", "177", "pridhamstreet", "marsden", "3165", "nsw", "19080419"),
    "rec-3-org": ("madeline", "mason", "54", "hoseason street", "granville", "4881", "nsw", "19081128"),
    "rec-3-dup-0": ("madeline", "mason", None, "hoseason street", "granville", "4887", "nsw", None),
    "rec-4-org": ("jasmine", "silvestro", "12", "kent street", "rokeby", "5271", "sa", "19450224"),
    "rec-4-dup-0": ("angus", "silvestro", "12", "kent street", "rokeby", "5271", "sa", "19450224"),
    # Look-alikes that are other people: same street and surname, other given name, no birth date.
    "rec-5-org": ("oliver", "quinlan", "3", "light street", "windermere", "3212", "vic", None),
    "rec-6-org": ("harriet", "quinlan", "3", "light street", "windermere", "3212", "vic", None),
}
TRUE_PAIRS = {
    ("rec-1-dup-0", "rec-1-org"),
    ("rec-1-dup-1", "rec-1-org"),
    ("rec-1-dup-0", "rec-1-dup-1"),
    ("rec-2-dup-0", "rec-2-org"),
    ("rec-3-dup-0", "rec-3-org"),
    ("rec-4-dup-0", "rec-4-org"),
}


def _sample() -> tuple[list[str], list[Record]]:
    people = population(400, seed=3)
    ids = [f"pop-{index}" for index in range(len(people))] + list(ROWS)
    records: list[Record] = [*people] + [dict(zip(COLUMNS, row, strict=True)) for row in ROWS.values()]
    return ids, records


def test_febrl_style_duplicates_are_found_and_nothing_else() -> None:
    ids, records = _sample()

    run = dedupe(records, MatchConfig())

    found = {tuple(sorted((ids[m.left], ids[m.right]))) for m in run.matches}
    assert found == TRUE_PAIRS


def test_febrl_style_link_finds_each_duplicate_once() -> None:
    ids, records = _sample()
    originals = [
        r for i, r in zip(ids, records, strict=True) if not i.startswith("rec-") or i.endswith("-org")
    ]
    left_ids = [i for i in ids if not i.startswith("rec-") or i.endswith("-org")]
    duplicates = [
        dict(zip(COLUMNS, ROWS[key], strict=True)) for key in ("rec-2-dup-0", "rec-3-dup-0", "rec-4-dup-0")
    ]

    matches = link(originals, duplicates)

    assert {(left_ids[m.left], m.right) for m in matches} == {
        ("rec-2-org", 0),
        ("rec-3-org", 1),
        ("rec-4-org", 2),
    }
