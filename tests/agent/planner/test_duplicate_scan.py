"""The whole-CRM scan that groups likely duplicate people for a chunked run."""

from __future__ import annotations

from agent.planner.duplicate_scan import DuplicateScan, batches, scan_keys


def test_keys_follow_the_person_blocking_rules_with_the_phones_last_digits() -> None:
    keys = scan_keys(
        {"first_name": "Jane", "last_name": "O'Neil", "company": "Acme Inc", "phone": "(650) 253-0000"}
    )

    assert "p:502530000" in keys
    assert any(key.endswith("jane oneil") for key in keys), "sorted names, punctuation folded"
    assert len(keys) == 4  # sorted names, phonetic surname, company prefix, phone


def test_the_same_number_written_two_ways_shares_the_phone_key() -> None:
    national = scan_keys({"phone": "(650) 253-0000"})
    international = scan_keys({"phone": "+1 650 253 0000"})

    assert national == international == ["p:502530000"]


def test_an_email_key_is_the_normalised_address() -> None:
    assert scan_keys({"email": "  Jane@ACME.io "}) == ["e:jane@acme.io"]


def test_blank_and_odd_values_give_no_keys() -> None:
    assert scan_keys({"first_name": None, "last_name": 42, "phone": "n/a", "email": ""}) == []


def _person(first: str, last: str, phone: str | None = None) -> dict[str, str | None]:
    return {"first_name": first, "last_name": last, "phone": phone}


def test_people_sharing_a_key_form_one_group_and_loners_none() -> None:
    scan = DuplicateScan()
    scan.add("a", _person("Jon", "Smith", "+14155550100"))
    scan.add("b", _person("Jonathan", "Smith", "+14155550100"))
    scan.add("c", _person("Priya", "Raman"))

    assert scan.groups() == [["a", "b"]]


def test_groups_chain_through_different_keys() -> None:
    scan = DuplicateScan()
    scan.add("a", _person("Ann", "Lee", "+14155550100"))
    scan.add("b", _person("Anne", "Leigh", "+14155550100"))  # a's phone
    scan.add("c", _person("Anne", "Leigh", "+442079460018"))  # b's names

    assert scan.groups() == [["a", "b", "c"]]


def test_a_block_larger_than_the_limit_joins_nobody() -> None:
    scan = DuplicateScan(max_block=3)
    for n in range(4):
        scan.add(f"r{n}", _person("Michael", "Smith"))

    assert scan.groups() == []


def test_a_join_past_the_group_limit_is_skipped_and_counted() -> None:
    scan = DuplicateScan(max_group=2)
    scan.add("a", _person("Ann", "Lee", "+14155550100"))
    scan.add("b", _person("Anne", "Leigh", "+14155550100"))
    scan.add("c", _person("Anne", "Leigh", "+442079460018"))

    groups = scan.groups()

    assert all(len(group) <= 2 for group in groups)
    assert scan.skipped_joins >= 1


def test_only_groups_with_a_changed_record_are_kept() -> None:
    scan = DuplicateScan()
    scan.add("a", _person("Jon", "Smith", "+14155550100"), changed=False)
    scan.add("b", _person("Jonathan", "Smith", "+14155550100"), changed=False)
    scan.add("c", _person("Priya", "Raman", "+442079460018"), changed=False)
    scan.add("d", _person("Priya", "Raman", "+442079460018"), changed=True)

    assert scan.groups() == [["c", "d"]]


def test_groups_do_not_depend_on_the_order_people_are_added() -> None:
    people = {
        "a": _person("Ann", "Lee", "+14155550100"),
        "b": _person("Anne", "Leigh", "+14155550100"),
        "c": _person("Anne", "Leigh", "+442079460018"),
        "d": _person("Priya", "Raman", "+442079460018"),
    }
    forward, backward = DuplicateScan(max_group=3), DuplicateScan(max_group=3)
    for rid in sorted(people):
        forward.add(rid, people[rid])
    for rid in sorted(people, reverse=True):
        backward.add(rid, people[rid])

    assert forward.groups() == backward.groups()


def test_batches_pack_whole_groups() -> None:
    groups = [["a", "b"], ["c", "d", "e"], ["f", "g"], ["h", "i", "j", "k", "l"]]

    packed = list(batches(groups, 4))

    assert packed == [["a", "b"], ["c", "d", "e"], ["f", "g"], ["h", "i", "j", "k", "l"]]
    assert list(batches(groups, 5)) == [["a", "b", "c", "d", "e"], ["f", "g"], ["h", "i", "j", "k", "l"]]


def test_an_incremental_scan_joins_only_through_blocks_with_a_changed_record() -> None:
    scan = DuplicateScan()
    scan.add("a", _person("Ann", "Lee", "+14155550100"), changed=True)
    scan.add("b", _person("Anne", "Leigh", "+14155550100"), changed=False)  # a's phone
    scan.add("c", _person("Anne", "Leigh", "+442079460018"), changed=False)  # b's names only

    assert scan.groups() == [["a", "b"]]
