"""The title keyword table and the fuzzy-duplicate blocking, on their own and on the seeded sample."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.crm.seed.generator import Generator
from agent.crm.seed.reference import TITLES
from agent.models import Record
from agent.planner.fuzzy import candidate_pairs, fill_blanks, similarity
from agent.planner.titles import classify_title

NOW = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "function", "seniority"),
    [
        ("CEO", "executive", "c_level"),
        ("VP Sales", "sales", "vp"),
        ("Head of Operations", "operations", "director"),
        ("IT Director", "information_technology", "director"),
        ("Account Executive", "sales", "individual_contributor"),
        ("Office Manager", "administration", "manager"),
        ("Executive Director, Marketing", "marketing", "director"),
        ("Chief Happiness Officer", None, "c_level"),
        ("Rainmaker", None, None),
    ],
)
def test_the_table_places_common_titles_and_admits_what_it_does_not_know(
    title: str, function: str | None, seniority: str | None
) -> None:
    answer = classify_title(title)

    assert (answer.function, answer.seniority) == (function, seniority)


def test_every_title_of_the_sample_crm_is_settled_by_the_table() -> None:
    assert all(classify_title(title).complete for title in TITLES)


def _lead(record_id: str, **fields: object) -> Record:
    return Record(
        object_type="lead",
        id=record_id,
        version="1",
        fields=fields,
        created_at=NOW,
        updated_at=NOW,  # type: ignore[arg-type]
    )


def test_a_typo_in_any_one_name_still_blocks_the_pair() -> None:
    base = {
        "first_name": "Maria",
        "last_name": "Gonzalez",
        "company": "Initech GmbH",
        "email": "maria@initech.de",
    }
    for field, typo in (("first_name", "Mraia"), ("last_name", "Gonzales"), ("company", "Intech GmbH")):
        other = base | {field: typo, "email": "m.gonzalez@initech.de"}

        pairs = candidate_pairs([_lead("a", **base), _lead("b", **other)], set())

        assert [p.record_ids for p in pairs] == [("a", "b")], field


def test_different_people_sharing_a_surname_are_settled_by_the_rules() -> None:
    first = _lead("a", first_name="Maria", last_name="Smith", company="Acme", email="maria@acme.io")
    second = _lead("b", first_name="Tom", last_name="Smith", company="Acme", email="tom@acme.io")

    assert similarity(first, second) < 0.8
    assert candidate_pairs([first, second], set()) == []


def test_the_merge_plan_fills_only_the_survivors_blanks() -> None:
    survivor = _lead("a", first_name="Maria", phone=None, city="Berlin")
    other = _lead("b", first_name="Mraia", phone="+4930123456", city="Bonn")

    assert fill_blanks(survivor, [other]) == {"phone": "+4930123456"}


def test_blocking_finds_the_planted_fuzzy_pairs_of_the_sample() -> None:
    seeded = Generator(7, NOW).generate(1000)

    pairs = candidate_pairs(seeded.leads, set())

    found = {frozenset(p.record_ids) for p in pairs}
    planted = {frozenset(pair) for pair in seeded.fuzzy_pairs}
    assert len(planted & found) / len(planted) >= 0.9
    assert len(found) <= 2 * len(planted)
