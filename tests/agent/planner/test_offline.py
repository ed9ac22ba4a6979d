from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import pytest

from agent.models import FieldValue, ObjectType, Owner, ProposedAction, Record, shape_problems
from agent.planner.base import Planner
from agent.planner.offline import CRMSnapshot, OfflinePlanner, snapshot_from
from agent.ports import CRMClient
from tests.support.fakes import T0, sequential_ids

OWNERS = [
    Owner(id="u1", name="Ada Byron", email="ada@corp.io"),
    Owner(id="u2", name="Ben Okafor", email="ben@corp.io"),
    Owner(id="u3", name="Cleo Park", email="cleo@corp.io"),
    Owner(id="u9", name="Old Timer", email="old@corp.io", active=False),
]
CLEAN_LEAD: dict[str, FieldValue] = {
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane@acme.io",
    "phone": "+16502530000",
    "company": "Acme",
    "status": "Working",
    "country": "US",
    "last_activity_at": (T0 - timedelta(days=5)).isoformat(),
}


def record(
    object_type: ObjectType,
    record_id: str,
    *,
    owner: str | None = "u1",
    created: datetime = T0 - timedelta(days=365),
    updated: datetime = T0 - timedelta(days=5),
    version: str = "1",
    **fields: FieldValue,
) -> Record:
    return Record(
        object_type=object_type,
        id=record_id,
        version=version,
        owner_id=owner,
        fields=fields,
        created_at=created,
        updated_at=updated,
    )


SURNAMES = (
    *("Doe", "Okafor", "Lindqvist", "Haddad", "Moreau", "Tanaka", "Novak", "Silva", "Kowalski"),
    *("Abara", "Brennan", "Castillo", "Dubois", "Eriksen", "Fujita", "Gallagher", "Horvat", "Ivanova"),
    *("Jansen", "Kuznetsov"),
)


def _person(record_id: str) -> dict[str, FieldValue]:
    """A clean person of their own: other people differ in surname and phone (no fuzzy duplicates)."""
    number = int("".join(ch for ch in record_id if ch.isdigit()) or "0")
    return {
        **CLEAN_LEAD,
        "last_name": SURNAMES[number % len(SURNAMES)],
        "email": f"{record_id.lower()}@acme.io",
        "phone": f"+1650253{number:04d}",
    }


def lead(record_id: str, **overrides: Any) -> Record:
    fields = _person(record_id)
    meta = {k: overrides.pop(k) for k in ("owner", "created", "updated", "version") if k in overrides}
    return record("lead", record_id, **meta, **{**fields, **overrides})


def contact(record_id: str, **overrides: Any) -> Record:
    fields = {k: v for k, v in _person(record_id).items() if k not in ("company", "status")}
    return record("contact", record_id, **{**fields, **overrides})


def account(
    record_id: str, *, owner: str | None = "u1", revenue: float = 50_000, **fields: FieldValue
) -> Record:
    return record(
        "account", record_id, owner=owner, name=f"Account {record_id}", annual_revenue=revenue, **fields
    )


def plan(snapshot: CRMSnapshot, **options: Any) -> list[ProposedAction]:
    planner = OfflinePlanner(new_id=sequential_ids("act"), now=lambda: T0, **options)
    return planner.plan(snapshot)


def snap(
    leads: Sequence[Record] = (),
    contacts: Sequence[Record] = (),
    accounts: Sequence[Record] = (),
    owners: Sequence[Owner] = tuple(OWNERS),
) -> CRMSnapshot:
    return CRMSnapshot(
        leads=list(leads), contacts=list(contacts), accounts=list(accounts), owners=list(owners)
    )


def of_check(actions: list[ProposedAction], check: str) -> list[ProposedAction]:
    return [a for a in actions if a.check == check]


def for_record(actions: list[ProposedAction], record_id: str) -> list[ProposedAction]:
    return [a for a in actions if record_id in a.record_ids]


# --- clean data ----------------------------------------------------------------------------


def test_clean_data_gets_no_proposals() -> None:
    snapshot = snap(
        leads=[lead("L1"), lead("L2", owner="u2"), lead("L3", owner="u3", status="New")],
        contacts=[contact("C1")],
        accounts=[account("A1", revenue=5_000_000), account("A2", owner="u9", revenue=10_000)],
    )
    assert plan(snapshot) == []


# --- 1. normalize_field --------------------------------------------------------------------


def test_one_normalize_action_combines_every_field_fix_of_a_record() -> None:
    messy = lead(
        "L1",
        email=" Jane.Doe@ACME.io",
        phone="020 7946 0018",
        country="United Kingdom",
        first_name="JANE",
        last_name="mcdonald",
    )
    [action] = plan(snap(leads=[messy]))
    assert action.kind == "normalize_field"
    assert action.check == "normalize_fields"
    changes = {name: (c.before, c.after) for name, c in action.targets[0].changes.items()}
    assert changes == {
        "email": (" Jane.Doe@ACME.io", "jane.doe@acme.io"),
        "phone": ("020 7946 0018", "+442079460018"),
        "first_name": ("JANE", "Jane"),
        "last_name": ("mcdonald", "McDonald"),
        "country": ("United Kingdom", "GB"),
    }
    assert action.evidence["phone_region"] == "GB"
    assert action.evidence["phone_source"] == "offline:phonenumbers"
    assert action.evidence["country_confidence"] == 0.95  # an alias, not an ISO name
    assert action.evidence["source"] == "offline rules"
    assert action.rationale.startswith("Formatting only:")


@pytest.mark.parametrize(
    ("phone", "country", "e164"),
    [
        ("(650) 253-0000", "USA", "+16502530000"),
        ("030 1234567", "Deutschland", "+49301234567"),
        ("+44 20 7946 0018", None, "+442079460018"),
    ],
)
def test_phone_is_normalised_in_the_records_country(phone: str, country: str | None, e164: str) -> None:
    [action] = plan(snap(leads=[lead("L1", phone=phone, country=country)]))
    assert action.targets[0].changes["phone"].after == e164


def test_a_phone_that_cannot_be_parsed_is_left_alone() -> None:
    assert plan(snap(leads=[lead("L1", phone="ask reception", country="US")])) == []
    assert plan(snap(leads=[lead("L2", phone="020 7946 0018", country=None)])) == []


def test_well_formed_names_are_not_proposed_for_normalisation() -> None:
    people = [lead("L1", first_name="Sean", last_name="O'Neil"), lead("L2", last_name="van der Berg")]
    assert plan(snap(leads=people)) == []


def test_contacts_are_normalised_too() -> None:
    [action] = plan(snap(contacts=[contact("C1", email="C1@ACME.IO")]))
    assert (action.object_type, action.kind) == ("contact", "normalize_field")
    assert action.targets[0].changes["email"].after == "c1@acme.io"


# --- 2. add_note for unusable emails --------------------------------------------------------


def test_an_invalid_email_gets_a_note_and_is_not_normalised() -> None:
    [action] = plan(snap(leads=[lead("L1", email="Jane@@Acme.io")]))
    assert action.kind == "add_note"
    assert action.check == "invalid_email"
    assert action.targets[0].changes == {}
    note = action.targets[0].note or ""
    assert note.startswith("Email 'Jane@@Acme.io' is invalid: ")
    assert ". Please correct it or confirm the contact another way." in note
    assert note.endswith(f"[ref {action.evidence['fingerprint']}]")


def test_a_disposable_email_gets_a_note_naming_the_domain() -> None:
    [action] = plan(snap(contacts=[contact("C1", email="someone@MAILINATOR.com")]))
    assert action.kind == "add_note"
    assert "mailinator.com is a disposable (throwaway) email domain" in (action.targets[0].note or "")


def test_a_missing_email_gets_no_note() -> None:
    assert plan(snap(leads=[lead("L1", email=None), lead("L2", email="  ")])) == []


# --- 3. assign_owner -----------------------------------------------------------------------


def test_an_unowned_lead_goes_to_the_active_owner_with_fewest_open_leads() -> None:
    leads = [
        lead("L1", owner="u1"),
        lead("L2", owner="u1"),
        lead("L3", owner="u2"),
        lead("L4", owner="u3"),
        lead("L5", owner="u3"),
        lead("L9", owner=None),
    ]
    [action] = plan(snap(leads=leads))
    assert action.kind == "assign_owner"
    change = action.targets[0].changes["owner_id"]
    assert (change.before, change.after) == (None, "u2")
    assert action.evidence["owner_open_leads"] == 1
    assert action.evidence["loads"] == "u1=2, u2=1, u3=2"
    assert "Ben Okafor" in action.rationale


def test_closed_leads_do_not_count_towards_load() -> None:
    leads = [
        lead("L1", owner="u1", status="Qualified"),
        lead("L2", owner="u1", status="Unqualified"),
        lead("L3", owner="u2"),
        lead("L4", owner="u3"),
        lead("L9", owner=None),
    ]
    [action] = plan(snap(leads=leads))
    assert action.targets[0].changes["owner_id"].after == "u1"


def test_inactive_owners_are_never_assigned() -> None:
    owners = [OWNERS[0], OWNERS[3]]
    [action] = plan(snap(leads=[lead("L1", owner=None)], owners=owners))
    assert action.targets[0].changes["owner_id"].after == "u1"
    assert plan(snap(leads=[lead("L1", owner=None)], owners=[OWNERS[3]])) == []


def test_ties_go_to_the_lowest_owner_id() -> None:
    [action] = plan(snap(leads=[lead("L1", owner=None)]))
    assert action.targets[0].changes["owner_id"].after == "u1"


def test_a_batch_of_unowned_leads_is_spread_across_owners() -> None:
    leads = [lead(f"L{i:02d}", owner=None) for i in range(10)]
    actions = plan(snap(leads=[*leads, lead("X99", owner="u1")]))
    chosen = Counter(a.targets[0].changes["owner_id"].after for a in actions)
    assert chosen == {"u2": 4, "u3": 3, "u1": 3}
    assert sum(chosen.values()) == 10


# --- 4. update_lead_status -----------------------------------------------------------------


def test_a_stale_new_lead_moves_to_nurturing() -> None:
    old = (T0 - timedelta(days=120)).isoformat()
    [action] = plan(snap(leads=[lead("L1", status="New", last_activity_at=old)]))
    assert action.kind == "update_lead_status"
    change = action.targets[0].changes["status"]
    assert (change.before, change.after) == ("New", "Nurturing")
    assert action.evidence["days_inactive"] == 120
    assert "120 days" in action.rationale


@pytest.mark.parametrize("last_activity_at", ["2026-01-02", "2026-01-02T10:00:00Z", "2026-01-02 10:00:00"])
def test_dates_and_datetimes_are_both_read(last_activity_at: str) -> None:
    [action] = plan(snap(leads=[lead("L1", status="New", last_activity_at=last_activity_at)]))
    assert action.kind == "update_lead_status"


def test_recent_or_worked_leads_are_not_stale() -> None:
    old = (T0 - timedelta(days=200)).isoformat()
    recent = (T0 - timedelta(days=89)).isoformat()
    leads = [
        lead("L1", status="New", last_activity_at=recent),
        lead("L2", status="Working", last_activity_at=old),
        lead("L3", status="Nurturing", last_activity_at=old),
    ]
    actions = plan(snap(leads=leads))
    assert [a.check for a in actions if a.check == "stale_lead"] == []
    # A Working lead quiet for 200 days is a lifecycle question for a person, not a stale New lead.
    assert [(a.check, a.kind, a.record_ids) for a in actions] == [("lifecycle", "add_note", ["L2"])]


def test_staleness_threshold_is_configurable() -> None:
    recent = (T0 - timedelta(days=40)).isoformat()
    assert (
        len(plan(snap(leads=[lead("L1", status="New", last_activity_at=recent)]), stale_after_days=30)) == 1
    )


def test_a_lead_without_activity_is_judged_by_its_creation_date() -> None:
    never = lead("L1", status="New", last_activity_at=None, created=T0 - timedelta(days=100))
    fresh = lead("L2", status="New", last_activity_at=None, created=T0 - timedelta(days=10))
    [action] = plan(snap(leads=[never, fresh]))
    assert action.record_ids == ["L1"]
    assert action.evidence["basis"] == "created_at"


def test_an_unreadable_activity_date_is_not_guessed_at() -> None:
    assert plan(snap(leads=[lead("L1", status="New", last_activity_at="last spring")])) == []


# --- 5. merge ------------------------------------------------------------------------------


def test_exact_email_duplicates_merge_into_the_oldest_record() -> None:
    older = lead("L2", email="jane@acme.io", created=T0 - timedelta(days=300), title=None, city="")
    newer = lead("L1", email=" JANE@acme.io", created=T0 - timedelta(days=10), title="CTO", city="Leeds")
    [action] = plan(snap(leads=[newer, older]))
    assert action.kind == "merge"
    assert action.record_ids == ["L2", "L1"]
    assert action.merge is not None
    assert action.merge.survivor_id == "L2"
    assert action.merge.field_plan == {"title": "CTO", "city": "Leeds"}
    assert action.merge.caveats
    assert action.evidence["match"] == "exact email"
    assert action.evidence["score"] == 1.0
    assert action.evidence["email"] == "jane@acme.io"
    assert all(t.changes == {} for t in action.targets)


def test_blank_survivor_fields_are_filled_from_the_most_recently_updated_duplicate() -> None:
    survivor = lead("L1", email="jane@acme.io", created=T0 - timedelta(days=300), title=None, owner=None)
    later = {"email": "jane@acme.io", "created": T0 - timedelta(days=100)}
    stale = lead("L2", **later, updated=T0 - timedelta(days=50), title="VP Sales", industry="Retail")
    fresh = lead("L3", **later, updated=T0 - timedelta(days=1), title="CRO", owner="u2")
    [action] = plan(snap(leads=[survivor, stale, fresh]))
    assert action.merge is not None
    # title from the freshest duplicate; industry only the older one has; the owner comes along
    assert action.merge.field_plan == {"title": "CRO", "industry": "Retail", "owner_id": "u2"}
    assert action.record_ids == ["L1", "L2", "L3"]


def test_survivor_ties_on_creation_time_go_to_the_lowest_id() -> None:
    same = T0 - timedelta(days=30)
    [action] = plan(
        snap(leads=[lead("L7", email="a@acme.io", created=same), lead("L3", email="a@acme.io", created=same)])
    )
    assert action.merge is not None
    assert action.merge.survivor_id == "L3"


@pytest.mark.parametrize("email", ["not-an-email", "", "x@mailinator.com"])
def test_invalid_blank_or_disposable_emails_never_match(email: str) -> None:
    actions = plan(snap(leads=[lead("L1", email=email), lead("L2", email=email)]))
    assert of_check(actions, "duplicate_email") == []


def test_contacts_sharing_an_email_under_other_names_are_not_merged() -> None:
    assert plan(snap(contacts=[contact("C1", email="a@acme.io"), contact("C2", email="a@acme.io")])) == []


def test_records_in_a_merge_get_no_other_proposal() -> None:
    old = (T0 - timedelta(days=200)).isoformat()
    a = lead("L1", email="JANE@acme.io", owner=None, status="New", last_activity_at=old, first_name="JANE")
    b = lead("L2", email="jane@acme.io", owner=None, created=T0)
    actions = plan(snap(leads=[a, b]))
    assert [x.kind for x in actions] == ["merge"]


# --- 6. change_owner -----------------------------------------------------------------------


def test_a_high_value_account_with_an_inactive_owner_is_handed_to_an_active_owner() -> None:
    accounts = [
        account("A1", owner="u9", revenue=2_500_000),
        account("A2", owner="u1", revenue=3_000_000),
        account("A3", owner="u2", revenue=1_000_000),
        account("A4", owner="u3", revenue=10),  # not high value: does not count
    ]
    [action] = plan(snap(accounts=accounts))
    assert (action.kind, action.object_type, action.check) == ("change_owner", "account", "inactive_owner")
    change = action.targets[0].changes["owner_id"]
    assert (change.before, change.after) == ("u9", "u3")
    assert "Old Timer, who is inactive" in action.rationale
    assert "Cleo Park" in action.rationale
    assert action.targets[0].label == "Account A1"
    assert action.evidence["inactive_owner"] == "u9"


def test_an_owner_missing_from_the_crm_counts_as_inactive() -> None:
    [action] = plan(snap(accounts=[account("A1", owner="gone", revenue=1_500_000)]))
    assert action.targets[0].changes["owner_id"].after == "u1"
    assert "user gone, who is not in the CRM" in action.rationale


def test_several_orphaned_accounts_are_spread_across_owners() -> None:
    accounts = [account(f"A{i}", owner="u9", revenue=2_000_000) for i in range(3)]
    actions = plan(snap(accounts=accounts))
    assert sorted(a.targets[0].changes["owner_id"].after or "" for a in actions) == ["u1", "u2", "u3"]


def test_low_value_or_actively_owned_accounts_are_left_alone() -> None:
    accounts = [account("A1", owner="u9", revenue=999_999), account("A2", owner="u1", revenue=9_000_000)]
    assert plan(snap(accounts=accounts)) == []


def test_the_high_value_field_and_threshold_are_configurable() -> None:
    accounts = [account("A1", owner="u9", employees=5_000), account("A2", owner="u9", employees="12,000")]
    actions = plan(snap(accounts=accounts), high_value_field="employees", high_value_min=10_000)
    assert [a.record_ids for a in actions] == [["A2"]]


# --- 7. delete -----------------------------------------------------------------------------


def test_a_junk_lead_is_proposed_for_delete_with_the_reason() -> None:
    [action] = plan(snap(leads=[lead("L1", first_name="asdf")]))
    assert (action.kind, action.check) == ("delete", "junk_lead")
    assert "its first name is 'asdf'" in action.rationale
    assert action.evidence["reason"] == "its first name is 'asdf'"


def test_junk_lead_is_only_proposed_for_delete() -> None:
    old = (T0 - timedelta(days=200)).isoformat()
    junk = lead(
        "L1",
        first_name="TEST",
        email="Real@Acme.io",
        owner=None,
        status="New",
        last_activity_at=old,
        phone="(650) 253-0000",
    )
    twin = lead("L2", email="real@acme.io", created=T0)
    actions = plan(snap(leads=[junk, twin]))
    assert [(a.kind, a.record_ids) for a in for_record(actions, "L1")] == [("delete", ["L1"])]
    assert of_check(actions, "duplicate_email") == []


def test_contacts_are_never_proposed_for_delete() -> None:
    assert plan(snap(contacts=[contact("C1", first_name="Test")])) == []


# --- conflict rules, shape and determinism -------------------------------------------------


FIRST = ("Ann", "Bo", "Cy", "Di", "Ed", "Flo")


def messy_snapshot() -> CRMSnapshot:
    old = (T0 - timedelta(days=200)).isoformat()
    leads = [
        lead("L01", email="DUP@acme.io", owner=None, first_name="ANN"),
        lead("L02", email="dup@acme.io", created=T0 - timedelta(days=1), title="CEO"),
        lead("L03", first_name="dummy"),
        lead("L04", owner=None, status="New", last_activity_at=old, first_name="bob", phone="650 253 0000"),
        lead("L05", email="bad@@acme.io", owner=None, status="New", last_activity_at=old),
        lead("L06", email="x@yopmail.com"),
        lead("L07", owner=None),
        lead("L08", email="test@example.com", owner=None),
        *[lead(f"L1{i}", owner=None, last_name="SMITH", first_name=name) for i, name in enumerate(FIRST)],
        lead("L20", first_name="Jonathan", last_name="Kerr", company="Globex", phone="+14155550100"),
        lead("L21", first_name="Jonathon", last_name="Kerr", company="Globex", phone="+14155550100"),
        lead("L22", email="li@initech.com", company="Initech Old Name"),
    ]
    contacts = [contact("C1", email="C1@Acme.io"), contact("C2", email="nope")]
    accounts = [
        account("A1", owner="u9", revenue=7_000_000),
        account("A2", owner="u1", revenue=2_000_000, domain="initech.com"),
    ]
    return snap(leads=leads, contacts=contacts, accounts=accounts)


def test_merge_and_delete_records_are_exclusive_and_other_actions_touch_disjoint_fields() -> None:
    actions = plan(messy_snapshot())
    by_record: dict[tuple[str, str], list[ProposedAction]] = defaultdict(list)
    for action in actions:
        for t in action.targets:
            by_record[(action.object_type, t.record_id)].append(action)
    assert by_record[("lead", "L03")]
    assert by_record[("lead", "L01")]
    for key, group in by_record.items():
        if any(a.kind in ("merge", "delete") for a in group):
            assert len(group) == 1, key
        fields = [name for a in group for t in a.targets if t.record_id == key[1] for name in t.changes]
        assert len(fields) == len(set(fields)), key


def test_every_check_fires_on_the_messy_snapshot() -> None:
    checks = {a.check for a in plan(messy_snapshot())}
    assert checks == {
        "normalize_fields",
        "invalid_email",
        "lead_account_match",
        "unowned_lead",
        "stale_lead",
        "duplicate_email",
        "fuzzy_duplicate",
        "inactive_owner",
        "junk_lead",
    }


def test_every_action_has_a_valid_shape_and_full_provenance() -> None:
    snapshot = messy_snapshot()
    versions = {
        (r.object_type, r.id): r.version for r in [*snapshot.leads, *snapshot.contacts, *snapshot.accounts]
    }
    actions = plan(snapshot)
    assert [a.id for a in actions] == [f"act{i:06d}" for i in range(1, len(actions) + 1)]
    for action in actions:
        assert shape_problems(action) == []
        assert ProposedAction.model_validate(action.model_dump()) == action
        assert (action.planner, action.requested_by) == ("offline", "agent")
        assert action.rationale
        # An account match's values come from the account it names.
        assert action.evidence["source"] == "offline rules" or (
            action.check == "lead_account_match" and action.evidence["source"] == "crm:accounts:A2"
        )
        assert action.evidence["rule"]
        for t in action.targets:
            assert t.version == versions[(action.object_type, t.record_id)]
            assert t.label


def test_labels_name_the_person_and_their_email() -> None:
    [action] = plan(
        snap(leads=[lead("L1", owner=None, first_name="Jane", last_name="Doe", email="jane@x.com")])
    )
    assert action.targets[0].label == "Jane Doe <jane@x.com>"


def test_targets_carry_the_version_the_plan_saw() -> None:
    [action] = plan(snap(leads=[lead("L1", owner=None, version="v42")]))
    assert action.targets[0].version == "v42"


def test_actions_are_sorted_by_check_then_record_id() -> None:
    actions = plan(messy_snapshot())
    order = [
        "normalize_fields",
        "invalid_email",
        "lead_account_match",
        "unowned_lead",
        "stale_lead",
        "duplicate_email",
        "fuzzy_duplicate",
        "inactive_owner",
        "junk_lead",
    ]
    keys = [(order.index(a.check), a.targets[0].record_id) for a in actions]
    assert keys == sorted(keys)


def test_the_same_snapshot_gives_the_same_plan_whatever_the_input_order() -> None:
    snapshot = messy_snapshot()
    shuffled = list(snapshot.leads)
    random.Random(7).shuffle(shuffled)
    reordered = snap(
        leads=shuffled,
        contacts=snapshot.contacts[::-1],
        accounts=snapshot.accounts[::-1],
        owners=OWNERS[::-1],
    )
    first = plan(snapshot)
    assert plan(snapshot) == first
    assert plan(reordered) == first


def test_the_offline_planner_satisfies_the_planner_protocol() -> None:
    planner: Planner = OfflinePlanner(new_id=sequential_ids(), now=lambda: T0)
    assert planner.name == "offline"
    assert planner.plan(CRMSnapshot()) == []


# --- snapshot_from -------------------------------------------------------------------------


class ReadOnlyCRM:
    """Just the reads snapshot_from needs."""

    def __init__(self, records: list[Record], owners: list[Owner]) -> None:
        self.records = records
        self._owners = owners
        self.asked: list[str] = []

    def iter_records(self, object_type: ObjectType, **_: object) -> Iterator[Record]:
        self.asked.append(object_type)
        return iter([r for r in self.records if r.object_type == object_type])

    def owners(self) -> list[Owner]:
        return list(self._owners)


def test_snapshot_from_reads_every_object_type_and_the_owners() -> None:
    crm = ReadOnlyCRM([lead("L1"), contact("C1"), account("A1")], OWNERS)
    snapshot = snapshot_from(cast(CRMClient, crm))
    assert sorted(crm.asked) == ["account", "contact", "lead"]
    assert [r.id for r in snapshot.leads] == ["L1"]
    assert [r.id for r in snapshot.contacts] == ["C1"]
    assert [r.id for r in snapshot.accounts] == ["A1"]
    assert snapshot.owners == OWNERS
