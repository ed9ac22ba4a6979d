"""The field-level and record-quality checks on crafted records: formats on the enrichment
package, emails, required fields, picklists, ambiguous places, lifecycle, staleness,
owners, and notes that are proposed once per record state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agent.enrich import OfflineProvider, RecordNormaliser
from agent.models import FieldValue, ObjectType, Owner, Record
from agent.planner.draft import CHECK_ORDER, Draft, RecordKey
from agent.planner.field_checks import ambiguous_places, invalid_emails, normalize_fields, stale_leads
from agent.planner.owner_checks import inactive_owner_records, inactive_owners, unowned_records
from agent.planner.quality_checks import (
    fingerprint,
    invalid_picklists,
    lifecycle_inconsistencies,
    missing_required,
    noted_fingerprints,
    stale_records,
)
from tests.support.fakes import T0

OWNERS = [
    Owner(id="u1", name="Ada Byron", email="ada@corp.io"),
    Owner(id="u2", name="Ben Okafor", email="ben@corp.io"),
    Owner(id="u9", name="Old Timer", email="old@corp.io", active=False),
]
RECENT = (T0 - timedelta(days=5)).date().isoformat()
NOTHING_RESERVED: set[RecordKey] = set()


@pytest.fixture(scope="module")
def normaliser() -> RecordNormaliser:
    return RecordNormaliser.sharing(OfflineProvider.build())


def record(
    object_type: ObjectType, record_id: str, *, owner: str | None = "u1", **fields: FieldValue
) -> Record:
    return Record(
        object_type=object_type,
        id=record_id,
        version="v1",
        owner_id=owner,
        fields=fields,
        created_at=T0 - timedelta(days=400),
        updated_at=T0 - timedelta(days=5),
    )


def lead(record_id: str, **fields: Any) -> Record:
    clean: dict[str, FieldValue] = {
        "first_name": "Jane",
        "last_name": "Doe",
        "email": f"{record_id.lower()}@acme.io",
        "company": "Acme",
        "status": "Working",
        "country": "US",
        "last_activity_at": RECENT,
    }
    owner = fields.pop("owner", "u1")
    return record("lead", record_id, owner=owner, **{**clean, **fields})


def contact(record_id: str, **fields: Any) -> Record:
    owner = fields.pop("owner", "u1")
    clean: dict[str, FieldValue] = {"last_name": "Doe", "email": f"{record_id.lower()}@acme.io"}
    return record("contact", record_id, owner=owner, **{**clean, **fields})


def account(record_id: str, **fields: Any) -> Record:
    owner = fields.pop("owner", "u1")
    return record("account", record_id, owner=owner, **{"name": f"Account {record_id}", **fields})


def changes_of(draft: Draft) -> dict[str, tuple[FieldValue, FieldValue]]:
    return {name: (c.before, c.after) for name, c in draft.targets[0].changes.items()}


def note_of(draft: Draft) -> str:
    assert draft.kind == "add_note"
    return draft.targets[0].note or ""


# --- normalize_fields on the enrichment package ----------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("JOHN MCDONALD", "John McDonald"),
        ("jan van der berg", "Jan van der Berg"),
        ("o'neil", "O'Neil"),
        ("dr. jane o'neil", "Dr. Jane O'Neil"),
        ("  mary-jane   SMITH ", "Mary-Jane Smith"),
    ],
)
def test_tricky_names_are_cased_right(normaliser: RecordNormaliser, raw: str, fixed: str) -> None:
    [draft] = normalize_fields([lead("L1", last_name=raw)], NOTHING_RESERVED, normaliser)
    assert changes_of(draft) == {"last_name": (raw, fixed)}
    assert draft.evidence["last_name_source"] == "offline:name-rules"


@pytest.mark.parametrize("name", ["McDonald", "van der Berg", "O'Neil", "De la Cruz"])
def test_well_formed_particles_and_prefixes_are_left_alone(normaliser: RecordNormaliser, name: str) -> None:
    assert normalize_fields([lead("L1", last_name=name)], NOTHING_RESERVED, normaliser) == []


@pytest.mark.parametrize(
    ("phone", "country", "e164"),
    [
        ("030 1234567", "Germany", "+49301234567"),
        ("01 42 68 53 00", "FR", "+33142685300"),
        ("03-1234-5678", "Japan", "+81312345678"),
        ("(650) 253-0000", "US", "+16502530000"),
        ("+61 2 9374 4000", None, "+61293744000"),
    ],
)
def test_international_phones_go_to_e164_in_the_records_country(
    normaliser: RecordNormaliser, phone: str, country: str | None, e164: str
) -> None:
    [draft] = normalize_fields([lead("L1", phone=phone, country=country)], NOTHING_RESERVED, normaliser)
    assert changes_of(draft)["phone"] == (phone, e164)
    assert draft.evidence["phone_source"] == "offline:phonenumbers"


def test_countries_and_states_become_iso_codes_with_source_and_confidence(
    normaliser: RecordNormaliser,
) -> None:
    [draft] = normalize_fields(
        [lead("L1", country="United States", state="california")], NOTHING_RESERVED, normaliser
    )
    assert changes_of(draft) == {"country": ("United States", "US"), "state": ("california", "CA")}
    assert draft.evidence["country_source"] == "offline:country-aliases"
    assert draft.evidence["confidence"] == 0.95  # the least sure fix of the record
    assert "ISO 3166" in draft.rationale


@pytest.mark.parametrize("country", ["Georgia", "Korea"])
def test_an_ambiguous_country_is_not_changed_nor_used_for_the_phone(
    normaliser: RecordNormaliser, country: str
) -> None:
    messy = lead("L1", country=country, phone="020 7946 0018")
    assert normalize_fields([messy], NOTHING_RESERVED, normaliser) == []
    [note] = ambiguous_places([messy], NOTHING_RESERVED, normaliser)
    assert note.check == "ambiguous_value"
    assert f"'{country}' has more than one reading" in note_of(note)
    assert note.evidence["fields"] == "country"


def test_georgia_as_a_state_of_a_us_record_is_certain(normaliser: RecordNormaliser) -> None:
    [draft] = normalize_fields([lead("L1", state="Georgia")], NOTHING_RESERVED, normaliser)
    assert changes_of(draft) == {"state": ("Georgia", "GA")}
    assert ambiguous_places([lead("L1", state="Georgia")], NOTHING_RESERVED, normaliser) == []


def test_websites_and_domains_are_normalised(normaliser: RecordNormaliser) -> None:
    messy = account("A1", website="HTTPS://www.Acme.com/about", domain="news.bbc.co.uk")
    [draft] = normalize_fields([messy], NOTHING_RESERVED, normaliser)
    assert changes_of(draft) == {
        "website": ("HTTPS://www.Acme.com/about", "acme.com"),
        "domain": ("news.bbc.co.uk", "bbc.co.uk"),
    }
    assert draft.object_type == "account"


@pytest.mark.parametrize("website", ["https://www.acme.com", "http://acme.com/", "acme.com", "www.acme.com"])
def test_a_clean_website_url_is_not_rewritten(normaliser: RecordNormaliser, website: str) -> None:
    assert normalize_fields([account("A1", website=website)], NOTHING_RESERVED, normaliser) == []


def test_normalize_fields_works_without_a_normaliser_passed_in() -> None:
    [draft] = normalize_fields([lead("L1", last_name="MCDONALD")], NOTHING_RESERVED)
    assert changes_of(draft) == {"last_name": ("MCDONALD", "McDonald")}


# --- emails ----------------------------------------------------------------------------------


def test_a_role_account_gets_a_note_that_does_not_call_it_invalid() -> None:
    [draft] = invalid_emails([contact("C1", email="info@acme.io")], NOTHING_RESERVED)
    assert draft.check == "invalid_email"
    assert draft.evidence["finding"] == "role_account"
    assert "shared role inbox (info@)" in note_of(draft)
    assert "invalid" not in note_of(draft).split("[ref")[0]


def test_disposable_and_malformed_emails_are_told_apart() -> None:
    drafts = invalid_emails(
        [lead("L1", email="x@mailinator.com"), lead("L2", email="a@@b")], NOTHING_RESERVED
    )
    assert [d.evidence["finding"] for d in drafts] == ["disposable", "invalid"]


def test_a_personal_work_email_gets_no_note() -> None:
    assert invalid_emails([lead("L1", email="jane.doe@acme.io")], NOTHING_RESERVED) == []


# --- missing required fields -----------------------------------------------------------------


def test_a_qualified_lead_missing_company_gets_a_note_naming_it() -> None:
    [draft] = missing_required([lead("L1", status="Qualified", company="  ")], NOTHING_RESERVED)
    assert draft.check == "missing_required"
    assert note_of(draft).startswith("Missing required fields: company (required on every lead). ")


def test_each_missing_field_says_why_it_is_required() -> None:
    [draft] = missing_required([lead("L1", status="Qualified", company=None, email=None)], NOTHING_RESERVED)
    assert "company (required on every lead); email or phone (required on a Qualified lead)" in note_of(draft)
    assert draft.evidence["missing"] == "company; email or phone"


def test_stage_rules_ask_for_a_way_to_reach_a_worked_lead() -> None:
    [draft] = missing_required([lead("L1", status="working", email=None)], NOTHING_RESERVED)
    assert "email or phone (required on a Working lead)" in note_of(draft)
    assert missing_required([lead("L2", status="Working", email=None, phone="+16502530000")], set()) == []
    assert missing_required([lead("L3", status="New", email=None)], NOTHING_RESERVED) == []


def test_every_object_has_its_required_fields() -> None:
    drafts = missing_required(
        [contact("C1", last_name=None), account("A1", name=""), account("A2")], NOTHING_RESERVED
    )
    assert [(d.object_type, d.evidence["missing"]) for d in drafts] == [
        ("account", "name"),
        ("contact", "last_name"),
    ]


def test_reserved_records_get_no_quality_notes() -> None:
    messy = lead("L1", status="Qualified", company=None, industry="Widgets")
    reserved: set[RecordKey] = {("lead", "L1")}
    assert missing_required([messy], reserved) == []
    assert invalid_picklists([messy], reserved) == []


# --- picklists -------------------------------------------------------------------------------


def test_a_status_near_miss_becomes_a_status_update() -> None:
    [draft] = invalid_picklists([lead("L1", status="working ")], NOTHING_RESERVED)
    assert (draft.check, draft.kind) == ("invalid_picklist", "update_lead_status")
    assert changes_of(draft) == {"status": ("working ", "Working")}
    assert draft.evidence["confidence"] == 1.0


def test_other_near_misses_and_aliases_become_one_normalize_field() -> None:
    [draft] = invalid_picklists([lead("L1", lead_source="Paid search", industry="SaaS")], NOTHING_RESERVED)
    assert draft.kind == "normalize_field"
    assert changes_of(draft) == {
        "lead_source": ("Paid search", "Paid Search"),
        "industry": ("SaaS", "Software"),
    }
    assert draft.evidence["match"] == "alias, spelling"
    assert draft.evidence["confidence"] == 0.9


def test_an_unknown_picklist_value_gets_a_note_listing_what_is_allowed() -> None:
    [draft] = invalid_picklists([account("A1", industry="Widgets")], NOTHING_RESERVED)
    assert draft.kind == "add_note"
    assert "industry 'Widgets' (allowed: Software, Financial Services" in note_of(draft)


def test_allowed_values_and_fields_the_object_lacks_are_left_alone() -> None:
    assert invalid_picklists([lead("L1", lead_source="Web", industry="Retail")], NOTHING_RESERVED) == []
    assert invalid_picklists([contact("C1", status="whatever")], NOTHING_RESERVED) == []


def test_a_status_another_draft_changes_is_not_fixed_twice() -> None:
    stale = lead("L1", status="new", last_activity_at=(T0 - timedelta(days=200)).date().isoformat())
    [moved] = stale_leads([stale], NOTHING_RESERVED, now=T0, stale_after_days=90)
    taken = {(moved.object_type, t.record_id) for t in moved.targets}
    assert invalid_picklists([stale], NOTHING_RESERVED, status_taken=taken) == []
    assert [d.kind for d in invalid_picklists([stale], NOTHING_RESERVED)] == ["update_lead_status"]


# --- lifecycle -------------------------------------------------------------------------------


def test_a_qualified_lead_without_activity_gets_a_lifecycle_note() -> None:
    [draft] = lifecycle_inconsistencies(
        [lead("L1", status="Qualified", last_activity_at=None)], set(), now=T0
    )
    assert draft.check == "lifecycle"
    assert draft.evidence["rules"] == "closed_without_activity"
    assert "it is Qualified but has no activity logged" in note_of(draft)


def test_a_quiet_working_lead_and_a_future_activity_date_are_inconsistent() -> None:
    quiet = lead("L1", status="Working", last_activity_at=(T0 - timedelta(days=120)).date().isoformat())
    future = lead("L2", status="New", last_activity_at=(T0 + timedelta(days=30)).date().isoformat())
    drafts = lifecycle_inconsistencies([quiet, future], NOTHING_RESERVED, now=T0, stale_after_days=90)
    assert [d.evidence["rules"] for d in drafts] == ["working_gone_quiet", "activity_in_future"]


def test_a_stale_new_lead_is_left_to_stale_lead_and_not_reported_twice() -> None:
    old = lead("L1", status="New", last_activity_at=(T0 - timedelta(days=200)).date().isoformat())
    assert lifecycle_inconsistencies([old], NOTHING_RESERVED, now=T0) == []
    assert len(stale_leads([old], NOTHING_RESERVED, now=T0, stale_after_days=90)) == 1


def test_consistent_leads_and_unreadable_dates_get_no_lifecycle_note() -> None:
    leads = [
        lead("L1"),
        lead("L2", status="Qualified"),
        lead("L3", status="Qualified", last_activity_at="soon"),
    ]
    assert lifecycle_inconsistencies(leads, NOTHING_RESERVED, now=T0) == []


# --- stale contacts and accounts -------------------------------------------------------------


def test_contacts_and_accounts_with_no_recent_activity_get_a_note() -> None:
    old = (T0 - timedelta(days=500)).date().isoformat()
    contacts = [
        contact("C1", account_id="A1", last_activity_at=old),
        contact("C2", account_id="A2", last_activity_at=old),
        contact("C3", account_id="A2", last_activity_at=RECENT),
    ]
    accounts = [account("A1"), account("A2"), account("A3")]
    drafts = stale_records(contacts, accounts, NOTHING_RESERVED, now=T0, stale_after_days=365)
    assert [(d.object_type, d.targets[0].record_id) for d in drafts] == [
        ("contact", "C1"),
        ("contact", "C2"),
        ("account", "A1"),
    ]
    assert all(d.check == "stale_record" and d.evidence["last_activity"] == old for d in drafts)


# --- owners of contacts and accounts ---------------------------------------------------------


def test_an_unowned_contact_follows_its_accounts_owner_else_the_least_loaded() -> None:
    accounts = [account("A1", owner="u2"), account("A2", owner="u9"), account("A3", owner=None)]
    contacts = [contact("C1", owner=None, account_id="A1"), contact("C2", owner=None, account_id="A2")]
    drafts = unowned_records(contacts, accounts, OWNERS, NOTHING_RESERVED)
    assert [(d.targets[0].record_id, d.kind, changes_of(d)["owner_id"]) for d in drafts] == [
        ("A3", "assign_owner", (None, "u1")),  # u1 owns no account yet; u9 is inactive
        ("C1", "assign_owner", (None, "u2")),  # u2 owns A1
        ("C2", "assign_owner", (None, "u1")),  # A2's owner is inactive: the least loaded instead
    ]
    assert all(d.check == "unowned_record" for d in drafts)
    assert "Ben Okafor owns its account" in drafts[1].rationale


def test_open_leads_and_contacts_of_an_inactive_owner_are_handed_over_and_accounts_left_to_their_check() -> (
    None
):
    leads = [lead("L1", owner="u9"), lead("L2", owner="u9", status="Unqualified")]
    contacts = [contact("C1", owner="gone", account_id="A9"), contact("C2", owner="u9", account_id="A3")]
    accounts = [account("A1", owner="u9", annual_revenue=5_000), account("A3", owner="u2")]
    drafts = inactive_owner_records(leads, contacts, accounts, OWNERS, NOTHING_RESERVED)
    assert [(d.object_type, d.targets[0].record_id, d.kind, changes_of(d)["owner_id"]) for d in drafts] == [
        ("lead", "L1", "change_owner", ("u9", "u1")),
        ("contact", "C1", "change_owner", ("gone", "u1")),
        ("contact", "C2", "change_owner", ("u9", "u2")),  # follows its account's owner
    ]
    assert "user gone, who is not in the CRM" in drafts[1].rationale
    assert inactive_owners(accounts, OWNERS, field="annual_revenue", minimum=1e6) == []


# --- notes are proposed once per record state ------------------------------------------------


def test_a_note_already_on_the_record_is_not_proposed_again(normaliser: RecordNormaliser) -> None:
    records = [
        lead(
            "L1",
            status="Qualified",
            company=None,
            last_activity_at=None,
            industry="Widgets",
            country="Georgia",
        ),
        contact("C1", email="sales@acme.io"),
    ]

    def notes(noted: set[str]) -> list[Draft]:
        return [
            *missing_required(records, set(), noted=noted),
            *invalid_picklists(records, set(), noted=noted),
            *lifecycle_inconsistencies(records[:1], set(), now=T0, noted=noted),
            *ambiguous_places(records, set(), normaliser, noted=noted),
            *invalid_emails(records, set(), noted=noted),
        ]

    first = notes(set())
    assert {d.check for d in first} == {
        "missing_required",
        "invalid_picklist",
        "lifecycle",
        "ambiguous_value",
        "invalid_email",
    }
    on_the_records = noted_fingerprints(note_of(d) for d in first)
    assert on_the_records == {str(d.evidence["fingerprint"]) for d in first}
    assert notes(on_the_records) == []


def test_a_changed_value_is_worth_a_new_note() -> None:
    before = account("A1", industry="Widgets")
    [first] = invalid_picklists([before], NOTHING_RESERVED)
    after = account("A1", industry="Gadgets")
    [second] = invalid_picklists([after], NOTHING_RESERVED, noted=noted_fingerprints([note_of(first)]))
    assert second.evidence["fingerprint"] == fingerprint("invalid_picklist", after, industry="Gadgets")
    assert second.evidence["fingerprint"] != first.evidence["fingerprint"]


# --- all together ----------------------------------------------------------------------------

NEW_CHECKS = (
    "invalid_picklist",
    "missing_required",
    "ambiguous_value",
    "unowned_record",
    "lifecycle",
    "stale_record",
    "inactive_owner_record",
)


def test_the_checks_never_write_one_field_of_a_record_twice(normaliser: RecordNormaliser) -> None:
    old = (T0 - timedelta(days=300)).date().isoformat()
    leads = [
        lead(
            "L1", status="new", last_activity_at=old, lead_source="ppc", country="United States", owner="u9"
        ),
        lead("L2", status="Qualified", company=None, phone="(650) 253-0000", industry="Widgets"),
        lead("L3", status="Working", last_activity_at=old, country="Georgia", owner=None),
    ]
    contacts = [contact("C1", owner=None, account_id="A1", email="INFO@acme.io", last_activity_at=old)]
    accounts = [account("A1", owner="u9", website="http://www.acme.io/", industry="health care")]
    stale = stale_leads(leads, set(), now=T0, stale_after_days=90)
    taken = {(d.object_type, t.record_id) for d in stale for t in d.targets}
    drafts = [
        *normalize_fields([*leads, *contacts, *accounts], set(), normaliser),
        *invalid_picklists([*leads, *accounts], set(), status_taken=taken),
        *stale,
        *invalid_emails([*leads, *contacts], set()),
        *missing_required([*leads, *contacts, *accounts], set()),
        *ambiguous_places([*leads, *contacts, *accounts], set(), normaliser),
        *lifecycle_inconsistencies(leads, set(), now=T0),
        *stale_records(contacts, accounts, set(), now=T0, stale_after_days=180),
        *unowned_records(contacts, accounts, OWNERS, set()),
        *inactive_owner_records(leads, contacts, accounts, OWNERS, set()),
    ]
    assert {d.check for d in drafts} >= set(NEW_CHECKS)
    written: dict[tuple[str, str], list[str]] = {}
    for draft in drafts:
        for t in draft.targets:
            written.setdefault((draft.object_type, t.record_id), []).extend(t.changes)
    for fields in written.values():
        assert len(fields) == len(set(fields)), fields


def test_every_new_check_is_registered_in_the_planners_order() -> None:
    assert set(NEW_CHECKS) <= set(CHECK_ORDER)
