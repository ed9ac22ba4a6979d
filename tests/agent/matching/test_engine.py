from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from agent.matching import (
    BlockingRule,
    FieldSpec,
    Linker,
    Match,
    MatchConfig,
    Record,
    dedupe,
    find_duplicates,
    link,
    link_run,
)
from tests.agent.matching.people import population


def _pairs(matches: list[Match]) -> set[tuple[int, int]]:
    return {(m.left, m.right) for m in matches}


def _with(records: Sequence[Record], *extra: Record) -> list[Record]:
    return [*records, *extra]


def test_distinct_people_produce_no_matches() -> None:
    assert find_duplicates(population(300)) == []


def test_a_typo_duplicate_is_found_with_field_evidence() -> None:
    people = population(300)
    typo = {
        **people[0],
        "given_name": people[0]["given_name"] + "e",
        "postcode": "9" + people[0]["postcode"][1:],
    }
    matches = find_duplicates(_with(people, typo))

    assert _pairs(matches) == {(0, 300)}
    (match,) = matches
    assert match.rule == "model"
    assert match.probability >= 0.995
    evidence = {e.field: e for e in match.evidence}
    assert evidence["given_name"].level == "close"
    assert evidence["date_of_birth"].level == "exact"
    assert evidence["date_of_birth"].weight > 0
    assert "date_of_birth" in match.reason


def test_swapped_first_and_last_names_still_match() -> None:
    people = population(300)
    swapped = {**people[5], "given_name": people[5]["surname"], "surname": people[5]["given_name"]}

    assert _pairs(find_duplicates(_with(people, swapped))) == {(5, 300)}


def test_missing_fields_are_neutral_not_against() -> None:
    people = population(300)
    sparse = {"given_name": people[7]["given_name"], "surname": people[7]["surname"], "date_of_birth": None}
    sparse |= {"postcode": people[7]["postcode"], "address_1": people[7]["address_1"], "suburb": None}

    matches = find_duplicates(_with(people, sparse))

    assert _pairs(matches) == {(7, 300)}
    assert {e.field: e.level for e in matches[0].evidence}["date_of_birth"] == "missing"


def test_a_shared_phone_does_not_merge_different_people() -> None:
    people = population(300)
    switchboard = "+61 2 9876 5432"
    for index in (1, 2, 3):
        people[index] = {**people[index], "phone": switchboard, "company": "Acme Pty Ltd"}

    assert find_duplicates(people) == []


def test_household_members_with_one_address_and_phone_stay_apart() -> None:
    people = population(300)
    john = {"given_name": "john", "surname": "zeller", "address_1": "12 kent street", "postcode": "2000"}
    john |= {"suburb": "sydney", "state": "nsw", "phone": "02 9999 0000", "street_number": "12"}
    mary = {**john, "given_name": "mary"}

    assert find_duplicates(_with(people, john, mary)) == []


def test_exact_email_key_matches_but_a_shared_mailbox_with_other_names_does_not() -> None:
    people = population(300)
    a = {"given_name": "ann", "surname": "quill", "email": "Ann.Quill@example.org"}
    b = {"given_name": "anne", "surname": "quill", "email": " ann.quill@example.org "}
    c = {"given_name": "pete", "surname": "rowe", "email": "info@shop.example"}
    d = {"given_name": "zara", "surname": "okafor", "email": "info@shop.example"}

    matches = find_duplicates(_with(people, a, b, c, d))

    assert _pairs(matches) == {(300, 301)}
    assert matches[0].rule == "exact_key"


def test_a_block_too_big_to_compare_is_skipped_and_reported() -> None:
    people = population(120)
    placeholder = [{**person, "date_of_birth": "19000101"} for person in people]
    config = replace(MatchConfig(), max_block_size=50)

    run = dedupe(placeholder, config)

    assert "date_of_birth=19000101" in run.skipped_blocks
    assert run.pairs_compared < 120 * 119 // 2 / 4
    assert run.matches == ()


def test_dedupe_returns_every_pair_of_a_cluster() -> None:
    people = population(300)
    first = {**people[9], "suburb": None, "given_name": people[9]["given_name"] + "a"}
    second = {**people[9], "street_number": "999", "surname": people[9]["surname"] + "s"}

    run = dedupe(_with(people, first, second), MatchConfig())

    assert run.clusters == ((9, 300, 301),)
    assert _pairs(list(run.matches)) == {(9, 300), (9, 301), (300, 301)}


def test_link_pairs_each_record_at_most_once() -> None:
    people = population(200)
    right = [people[3], {**people[3], "street_number": "77"}, {**people[4], "postcode": "1111"}]

    matches = link(people, right)

    assert _pairs(matches) == {(3, 0), (4, 2)}
    assert len({m.left for m in matches}) == len(matches)


def test_a_linker_links_batch_after_batch_as_link_does() -> None:
    people = population(240)
    right = [people[3], {**people[4], "postcode": "1111"}, {**people[150], "given_name": "zed"}]
    linker = Linker(right, MatchConfig())

    for batch in (people[:120], people[120:]):
        assert linker.run(batch).matches == link_run(batch, right, MatchConfig()).matches
    assert _pairs(list(linker.run(people[:120]).matches)) == {(3, 0), (4, 1)}
    assert len(linker) == 3


def test_results_are_reproducible() -> None:
    people = population(200)
    records = _with(people, {**people[1], "given_name": "jmaes"})

    first = find_duplicates(records)

    assert _pairs(first) == {(1, 200)}
    assert find_duplicates(records) == first


def test_a_company_config_matches_legal_suffix_variants_only() -> None:
    config = MatchConfig(
        fields=(FieldSpec("name", "company"), FieldSpec("city", "suburb"), FieldSpec("phone", "phone")),
        exact_keys=(),
        blocking=(BlockingRule(("name:prefix3",)), BlockingRule(("phone",))),
        corroborating_kinds=(),
    )
    accounts: list[Record] = [
        {"name": f"{word} {kind}", "city": city, "phone": f"+1 415 555 {index:04d}"}
        for index, (word, kind, city) in enumerate(
            (w, k, c)
            for w in ("north", "blue", "apex", "zen", "iron", "nova", "pine", "delta")
            for k in ("labs", "foods", "media", "motors")
            for c in ("boston",)
        )
    ]
    accounts += [
        {"name": "Acme Pty. Ltd.", "city": "Sydney", "phone": "+61 2 9999 1234"},
        {"name": "ACME Limited", "city": "sydney", "phone": "02 9999 1234"},
    ]

    matches = find_duplicates(accounts, replace(config, default_country="AU"))

    assert _pairs(matches) == {(32, 33)}
    assert {e.field: e.level for e in matches[0].evidence}["phone"] == "exact"


def test_a_handful_of_records_is_enough_to_decide() -> None:
    # Small runs lean on the built-in priors instead of fitting weights to three pairs.
    jon = {"given_name": "Jonathan", "surname": "Smith", "date_of_birth": "1980-03-12", "postcode": "2000"}
    records: list[Record] = [
        jon,
        {**jon, "given_name": "Jonathon", "date_of_birth": "12/03/1980"},
        {"given_name": "Mary", "surname": "Jones", "date_of_birth": "1975-01-02", "postcode": "2000"},
        {"given_name": "Jonathan", "surname": "Smyth", "date_of_birth": "1991-07-30", "postcode": "3000"},
    ]

    assert _pairs(find_duplicates(records)) == {(0, 1)}


def test_a_sparse_record_does_not_chain_two_contradicting_ones() -> None:
    people = population(300)
    sparse = {"given_name": "ann", "surname": "quill", "date_of_birth": "19610517"}
    sydney = {**sparse, "street_number": "4", "address_1": "kent street", "suburb": "sydney"}
    sydney |= {"postcode": "2000", "state": "nsw"}
    # One digit off in the birth date, and nothing else in common with the Sydney record.
    perth = {**sparse, "date_of_birth": "19610511", "street_number": "88", "address_1": "hay road"}
    perth |= {"suburb": "perth", "postcode": "6731", "state": "wa"}
    config = replace(MatchConfig(), exact_keys=())

    run = dedupe(_with(people, sydney, sparse, perth), config)

    # Each full record matches the sparse one, but they contradict each other, so the
    # strongest link wins and the other record stays out of the group.
    assert run.clusters == ((300, 301),)
    assert _pairs(list(run.matches)) == {(300, 301)}
