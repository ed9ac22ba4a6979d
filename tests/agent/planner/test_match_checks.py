"""Duplicate and lead-to-account checks on the matching engine, on crafted records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.enrich.domains import DomainParser
from agent.enrich.reference import ReferenceLists, load_reference_lists
from agent.models import FieldValue, ObjectType, Record
from agent.planner.account_matching import lead_account_matches
from agent.planner.fuzzy import candidate_pairs
from agent.planner.match_checks import account_domain_duplicates, fuzzy_duplicates
from agent.planner.record_checks import MERGE_CAVEATS, duplicate_emails
from agent.planner.survivorship import field_plan

NOW = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture(scope="module")
def lists() -> ReferenceLists:
    return load_reference_lists()


@pytest.fixture(scope="module")
def domains() -> DomainParser:
    return DomainParser()


def _record(
    object_type: ObjectType,
    record_id: str,
    fields: dict[str, FieldValue],
    *,
    age_days: int = 10,
    updated_days: int = 1,
    owner: str | None = None,
) -> Record:
    return Record(
        object_type=object_type,
        id=record_id,
        version="v1",
        owner_id=owner,
        fields=fields,
        created_at=NOW - timedelta(days=age_days),
        updated_at=NOW - timedelta(days=updated_days),
    )


def _lead(
    record_id: str,
    *,
    age_days: int = 10,
    updated_days: int = 1,
    owner: str | None = None,
    **fields: FieldValue,
) -> Record:
    return _record("lead", record_id, fields, age_days=age_days, updated_days=updated_days, owner=owner)


def _account(record_id: str, *, age_days: int = 10, **fields: FieldValue) -> Record:
    return _record("account", record_id, fields, age_days=age_days)


def _people() -> list[Record]:
    """Two unrelated people at other companies, so the engine sees more than one pair."""
    return [
        _lead(
            "z1", first_name="Oskar", last_name="Lindqvist", company="Northwind", email="oskar@northwind.se"
        ),
        _lead("z2", first_name="Priya", last_name="Raman", company="Contoso", email="priya@contoso.in"),
    ]


def test_a_typo_duplicate_is_merged_into_the_most_complete_record_with_a_field_plan(
    lists: ReferenceLists,
) -> None:
    complete = _lead(
        "b", age_days=5, owner="o1", first_name="Maria", last_name="Gonzalez", company="Initech GmbH",
        email="maria@initech.de", phone="+49 30 1234567", city="Berlin", title=None,
    )  # fmt: skip
    older_sparse = _lead(
        "a", age_days=90, updated_days=30, first_name="Mraia", last_name="Gonzalez", company="Initech GmbH",
        email="m.gonzalez@initech.de", title="Head of Sales",
    )  # fmt: skip
    newer_sparse = _lead(
        "c", age_days=2, updated_days=0, first_name="Maria", last_name="Gonzales", company="Initech",
        email="mgonzalez@initech.de", title="VP Sales", postcode="10115",
    )  # fmt: skip

    drafts = fuzzy_duplicates([older_sparse, complete, newer_sparse, *_people()], set(), lists=lists)

    assert len(drafts) == 1
    merge = drafts[0]
    assert (merge.check, merge.kind, merge.object_type) == ("fuzzy_duplicate", "merge", "lead")
    assert merge.merge is not None
    assert merge.merge.survivor_id == "b"  # most complete wins over oldest
    assert [t.record_id for t in merge.targets] == ["b", "a", "c"]
    # Blanks filled from the most recently updated duplicate ("c"), never overwriting "b"'s values.
    assert merge.merge.field_plan == {"title": "VP Sales", "postcode": "10115"}
    assert merge.merge.caveats == list(MERGE_CAVEATS)
    assert merge.evidence["score"] >= 0.995  # type: ignore[operator]
    assert "last_name" in str(merge.evidence["levels"])


def test_a_shared_switchboard_phone_does_not_merge_two_people(lists: ReferenceLists) -> None:
    ann = _lead(
        "a", first_name="Ann", last_name="Lee", company="Acme", email="ann@acme.io", phone="+14155550100"
    )
    bob = _lead(
        "b", first_name="Bob", last_name="Stone", company="Acme", email="bob@acme.io", phone="+14155550100"
    )

    assert fuzzy_duplicates([ann, bob, *_people()], set(), lists=lists) == []
    assert candidate_pairs([ann, bob, *_people()], set(), lists=lists) == []


def test_a_shared_info_mailbox_does_not_merge_two_people(lists: ReferenceLists) -> None:
    ann = _lead("a", first_name="Ann", last_name="Lee", company="Acme", email="info@acme.io")
    bob = _lead("b", first_name="Bob", last_name="Stone", company="Acme", email="Info@acme.io")

    assert fuzzy_duplicates([ann, bob, *_people()], set(), lists=lists) == []


def test_same_surname_colleagues_are_not_merged(lists: ReferenceLists) -> None:
    maria = _lead("a", first_name="Maria", last_name="Smith", company="Acme", email="maria@acme.io")
    tom = _lead("b", first_name="Tom", last_name="Smith", company="Acme", email="tom@acme.io")

    assert fuzzy_duplicates([maria, tom, *_people()], set(), lists=lists) == []


def test_reserved_records_are_left_out_of_fuzzy_merges(lists: ReferenceLists) -> None:
    first = _lead("a", first_name="Jonathan", last_name="Smith", company="Globex", phone="+14155550100")
    second = _lead("b", first_name="Jonathon", last_name="Smith", company="Globex", phone="+14155550100")

    assert len(fuzzy_duplicates([first, second, *_people()], set(), lists=lists)) == 1
    assert fuzzy_duplicates([first, second, *_people()], {("lead", "b")}, lists=lists) == []


def test_accepted_pairs_reach_the_model_only_while_not_reserved(lists: ReferenceLists) -> None:
    first = _lead("a", first_name="Jonathan", last_name="Smith", company="Globex", phone="+14155550100")
    second = _lead("b", first_name="Jonathon", last_name="Smith", company="Globex", phone="+14155550100")
    merged = fuzzy_duplicates([first, second, *_people()], set(), lists=lists)
    claimed = {(d.object_type, t.record_id) for d in merged for t in d.targets}

    pairs = candidate_pairs([first, second, *_people()], set(), lists=lists)

    assert [p.record_ids for p in pairs] == [("a", "b")]
    assert "phone" in pairs[0].keys
    assert candidate_pairs([first, second, *_people()], claimed, lists=lists) == []


def test_an_ambiguous_pair_goes_to_the_model_and_is_not_merged(lists: ReferenceLists) -> None:
    office = _lead("a", first_name="Jonathan", last_name="Smith", company="Globex", email="jsmith@globex.com")
    private = _lead(
        "b", first_name="Jonathon", last_name="Smith", company="Globex Europe", email="jon@gmail.com"
    )
    records = [office, private, *_people()]

    pairs = candidate_pairs(records, set(), lists=lists)

    assert fuzzy_duplicates(records, set(), lists=lists) == []
    assert [p.record_ids for p in pairs] == [("a", "b")]
    assert 0.5 <= pairs[0].score < 0.995


def test_contacts_and_leads_are_never_merged_with_each_other(lists: ReferenceLists) -> None:
    lead = _lead("a", first_name="Jonathan", last_name="Smith", company="Globex", phone="+14155550100")
    contact = _record(
        "contact", "b", {"first_name": "Jonathan", "last_name": "Smith", "phone": "+14155550100"}
    )

    assert fuzzy_duplicates([lead, contact, *_people()], set(), lists=lists) == []


def test_accounts_sharing_a_registrable_domain_are_merged(
    domains: DomainParser, lists: ReferenceLists
) -> None:
    old = _account("a1", age_days=400, name="Acme", domain="acme.com")
    full = _account(
        "a2", age_days=20, name="Acme Inc.", website="https://www.acme.com/about", industry="Software"
    )
    other = _account("a3", name="Globex", domain="globex.com")

    drafts = account_domain_duplicates([old, full, other], set(), domains=domains, lists=lists)

    assert len(drafts) == 1
    merge = drafts[0]
    assert (merge.check, merge.kind, merge.object_type) == ("duplicate_domain", "merge", "account")
    assert merge.merge is not None
    assert merge.merge.survivor_id == "a2"  # three fields against two; age only breaks ties
    assert merge.merge.field_plan == {"domain": "acme.com"}
    assert merge.evidence["domain"] == "acme.com"


def test_free_mail_accounts_are_not_merged(domains: DomainParser, lists: ReferenceLists) -> None:
    first = _account("a1", name="Jane's Bakery", website="gmail.com")
    second = _account("a2", name="Bob's Garage", domain="gmail.com")

    assert account_domain_duplicates([first, second], set(), domains=domains, lists=lists) == []


def test_reserved_accounts_are_left_out_of_domain_merges(
    domains: DomainParser, lists: ReferenceLists
) -> None:
    first = _account("a1", name="Acme", domain="acme.com")
    second = _account("a2", name="Acme", domain="acme.com")

    assert account_domain_duplicates([first, second], {("account", "a1")}, domains=domains, lists=lists) == []


def _acme() -> Record:
    return _account("acc", name="Acme", domain="acme.io", industry="Software")


def test_a_lead_at_the_accounts_email_domain_gets_its_company_and_industry(
    domains: DomainParser, lists: ReferenceLists
) -> None:
    jane = _lead("l1", first_name="Jane", last_name="Doe", email="jane@acme.io", company="ACME Labs")

    drafts = lead_account_matches([jane], [_acme()], set(), domains=domains, lists=lists)

    assert len(drafts) == 1
    draft = drafts[0]
    assert (draft.check, draft.kind, draft.object_type) == ("lead_account_match", "enrich_data", "lead")
    changes = draft.targets[0].changes
    assert {name: change.after for name, change in changes.items()} == {
        "company": "Acme",
        "industry": "Software",
    }
    assert changes["company"].before == "ACME Labs"
    assert draft.evidence["matched_by"] == "email domain"
    assert draft.evidence["source"] == "crm:accounts:acc"
    assert draft.evidence["confidence"] == 0.9


def test_a_lead_already_at_the_right_company_gets_nothing(
    domains: DomainParser, lists: ReferenceLists
) -> None:
    jane = _lead("l1", email="jane@acme.io", company="Acme, Inc.", industry="Retail")

    assert lead_account_matches([jane], [_acme()], set(), domains=domains, lists=lists) == []


def test_a_free_mail_lead_is_matched_by_website_or_not_at_all(
    domains: DomainParser, lists: ReferenceLists
) -> None:
    by_site = _lead("l1", email="jane@gmail.com", website="https://acme.io", company="Freelance")
    nothing = _lead("l2", email="bob@gmail.com", company="Freelance")
    gmail_account = _account("acc2", name="Gmail User", domain="gmail.com")

    drafts = lead_account_matches(
        [by_site, nothing], [_acme(), gmail_account], set(), domains=domains, lists=lists
    )

    assert [(d.targets[0].record_id, d.evidence["matched_by"]) for d in drafts] == [("l1", "website")]


def test_a_lead_is_matched_by_company_name_when_no_domain_says(
    domains: DomainParser, lists: ReferenceLists
) -> None:
    exact = _lead("l1", email="jane@gmail.com", company="ACME inc")
    accounts = [_acme(), _account("acc3", name="Globex", domain="globex.com")]

    drafts = lead_account_matches([exact], accounts, set(), domains=domains, lists=lists)

    assert len(drafts) == 1
    assert {n: c.after for n, c in drafts[0].targets[0].changes.items()} == {"industry": "Software"}
    assert drafts[0].evidence["matched_by"] == "company name"


def test_a_misspelt_company_is_matched_only_with_the_accounts_phone(
    domains: DomainParser, lists: ReferenceLists
) -> None:
    acme = _account(
        "acc", name="Acme", domain="acme.io", industry="Software", city="Austin", state="TX", country="US",
        phone="+1 512 555 0100",
    )  # fmt: skip
    placed = _lead("l1", email="jane@gmail.com", company="Acmee", phone="(512) 555-0100", country="USA")
    same_town = _lead(
        "l2", email="bob@gmail.com", company="Acmee", city="Austin", state="Texas", country="USA"
    )

    drafts = lead_account_matches([placed, same_town], [acme], set(), domains=domains, lists=lists)

    assert [d.targets[0].record_id for d in drafts] == ["l1"]
    assert {n: c.after for n, c in drafts[0].targets[0].changes.items()} == {
        "company": "Acme",
        "industry": "Software",
    }
    assert drafts[0].evidence["matched_by"] == "similar company name"
    assert 0 < drafts[0].evidence["confidence"] <= 0.6  # type: ignore[operator]


def test_a_similar_but_other_company_name_is_not_matched(
    domains: DomainParser, lists: ReferenceLists
) -> None:
    hale = _account("acc", name="Hale and Sons", domain="hale.co.uk", phone="+44 20 7946 0018", country="UK")
    hall = _lead("l1", email="ann@gmail.com", company="Hall and Sons", phone="+44 20 7946 0999", country="UK")

    assert lead_account_matches([hall], [hale], set(), domains=domains, lists=lists) == []


def test_a_domain_shared_by_two_accounts_names_the_master(
    domains: DomainParser, lists: ReferenceLists
) -> None:
    sparse = _account("acc1", age_days=900, name="Acme Old", domain="acme.io")
    full = _account("acc2", name="Acme", domain="acme.io", industry="Software")
    jane = _lead("l1", email="jane@acme.io", company="Acme Old")

    drafts = lead_account_matches([jane], [sparse, full], set(), domains=domains, lists=lists)

    assert drafts[0].evidence["account_id"] == "acc2"


def test_reserved_leads_get_no_account_match(domains: DomainParser, lists: ReferenceLists) -> None:
    jane = _lead("l1", email="jane@acme.io", company="Other")

    assert lead_account_matches([jane], [_acme()], {("lead", "l1")}, domains=domains, lists=lists) == []


def test_namesake_contacts_at_two_accounts_are_not_merged(lists: ReferenceLists) -> None:
    first = _record(
        "contact",
        "a",
        {"first_name": "Patrick", "last_name": "Smith", "email": "pat@wheeler.com", "account_id": "acc1"},
    )
    second = _record(
        "contact",
        "b",
        {"first_name": "Patrick", "last_name": "Smith", "email": "ps@lane.com", "account_id": "acc2"},
    )

    assert fuzzy_duplicates([first, second, *_people()], set(), lists=lists) == []


def test_namesake_contacts_under_one_account_are_merged(lists: ReferenceLists) -> None:
    shared: dict[str, FieldValue] = {"last_name": "Smith", "account_id": "acc1", "phone": "+1 415 555 0199"}
    first = _record("contact", "a", shared | {"first_name": "Patrick", "title": "CTO"})
    second = _record("contact", "b", shared | {"first_name": "Patrik", "email": "ps@lane.com", "state": "CA"})

    (merge,) = fuzzy_duplicates([first, second, *_people()], set(), lists=lists)

    assert merge.merge is not None
    assert (merge.object_type, merge.merge.survivor_id) == ("contact", "b")  # six fields against five
    assert merge.merge.field_plan == {"title": "CTO"}


def test_namesakes_in_one_city_at_other_firms_are_not_merged(lists: ReferenceLists) -> None:
    first = _lead(
        "a", first_name="John", last_name="Taylor", company="Reyes-Williams", email="jt@reyes.com",
        city="Austin", state="TX", postcode="73301",
    )  # fmt: skip
    second = _lead(
        "b", first_name="John", last_name="Taylor", company="Globex", email="john@globex.com",
        city="Austin", state="TX", postcode="73301",
    )  # fmt: skip

    assert fuzzy_duplicates([first, second, *_people()], set(), lists=lists) == []


def test_the_field_plan_unions_multi_value_fields() -> None:
    master = _lead("a", tags="webinar;Trade show", phone="+1")
    duplicate = _lead("b", tags="trade show;partner", phone="+2", city="Oslo")

    plan = field_plan(master, [duplicate], multi_value=frozenset({"tags"}))

    assert plan == {"tags": "webinar;Trade show;partner", "city": "Oslo"}


def test_the_shared_field_plan_reproduces_the_exact_email_merge() -> None:
    older = _lead("a", age_days=30, email="x@acme.io", first_name="Ann")
    stale = _lead("b", age_days=5, updated_days=9, email="x@acme.io", phone="+111", city="Rome")
    fresh = _lead("c", age_days=3, updated_days=0, email="x@acme.io", phone="+222", owner="o1")

    (draft,) = duplicate_emails([older, stale, fresh])

    assert draft.merge is not None
    assert draft.merge.field_plan == field_plan(older, [stale, fresh], skip=frozenset({"email"}))
    assert draft.merge.field_plan == {"city": "Rome", "phone": "+222", "owner_id": "o1"}
