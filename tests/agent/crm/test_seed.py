"""The sample CRM is reproducible, and every defect the report claims is really in the data.

The checks below recount each defect from the stored records with their own
rules (email_validator, phonenumbers, plain predicates) instead of trusting the
seeder's report.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email

from agent.crm.fields import LEAD_STATUSES, fields_of
from agent.crm.local import LocalCRM
from agent.crm.seed import DEFECTS, SeedReport, seed_crm
from agent.models import ObjectType, Record
from agent.store.database import Database
from tests.support.fakes import T0, FixedClock, sequential_ids

TYPES: tuple[ObjectType, ...] = ("lead", "contact", "account")
ISO_COUNTRIES = {"US", "GB", "DE", "FR", "NL"}
DISPOSABLE = {"mailinator.com", "guerrillamail.com", "10minutemail.com"}
PARTICLES = {"van", "von", "der", "den", "de", "la", "le", "du", "da", "di", "ter"}
REQUIRED = {"lead": ("last_name", "company"), "contact": ("last_name",), "account": ("name",)}


def _crm(database: Database) -> LocalCRM:
    return LocalCRM(database, clock=FixedClock(), new_id=sequential_ids("N"))


def _all(crm: LocalCRM) -> list[Record]:
    return [r for t in TYPES for r in crm.iter_records(t, batch_size=97)]


def _dump(crm: LocalCRM) -> str:
    owners = [o.model_dump(mode="json") for o in crm.owners()]
    records = [r.model_dump(mode="json") for r in _all(crm)]
    return json.dumps({"owners": owners, "records": records}, sort_keys=True)


@pytest.fixture
def seeded(db: Database) -> tuple[LocalCRM, SeedReport]:
    crm = _crm(db)
    return crm, seed_crm(crm, records=200, seed=42, now=T0)


# -- reproducibility ---------------------------------------------------------------------------


def test_same_seed_and_now_give_identical_data_in_two_databases(sqlite_url: str, tmp_path: Path) -> None:
    first, second = Database(sqlite_url), Database(f"sqlite:///{tmp_path / 'second.db'}")
    crm_a, crm_b = _crm(first), _crm(second)

    report_a = seed_crm(crm_a, records=200, seed=7, now=T0)
    report_b = seed_crm(crm_b, records=200, seed=7, now=T0)

    assert _dump(crm_a) == _dump(crm_b)
    assert report_a == report_b
    first.dispose()
    second.dispose()


def test_a_different_seed_gives_different_data(sqlite_url: str, tmp_path: Path) -> None:
    first, second = Database(sqlite_url), Database(f"sqlite:///{tmp_path / 'second.db'}")
    crm_a, crm_b = _crm(first), _crm(second)

    seed_crm(crm_a, records=200, seed=7, now=T0)
    seed_crm(crm_b, records=200, seed=8, now=T0)

    names_a = [r.fields.get("last_name") for r in crm_a.iter_records("lead")]
    names_b = [r.fields.get("last_name") for r in crm_b.iter_records("lead")]
    assert names_a != names_b
    first.dispose()
    second.dispose()


def test_the_data_does_not_depend_on_the_process_hash_seed(sqlite_url: str, tmp_path: Path) -> None:
    database = Database(sqlite_url)
    crm = _crm(database)
    seed_crm(crm, records=120, seed=3, now=T0)
    here = hashlib.sha256(_dump(crm).encode()).hexdigest()
    script = (
        "import hashlib, sys\n"
        "from agent.store.database import Database\n"
        "from tests.agent.crm.test_seed import _crm, _dump, seed_crm, T0\n"
        "crm = _crm(Database(sys.argv[1]))\n"
        "seed_crm(crm, records=120, seed=3, now=T0)\n"
        "print(hashlib.sha256(_dump(crm).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{tmp_path / 'other.db'}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert other.stdout.strip() == here
    database.dispose()


# -- shape -------------------------------------------------------------------------------------


def test_counts_per_type_add_up_to_records(seeded: tuple[LocalCRM, SeedReport]) -> None:
    crm, report = seeded

    assert report.records_total == 200
    assert report.leads + report.contacts + report.accounts == 200
    assert (report.leads, report.contacts, report.accounts) == (120, 50, 30)
    for object_type in TYPES:
        assert crm.count(object_type) == report.count(object_type)


@pytest.mark.parametrize(("records", "expected"), [(0, (0, 0, 0)), (3, (1, 1, 1)), (20, (12, 5, 3))])
def test_small_samples_add_up_too(db: Database, records: int, expected: tuple[int, int, int]) -> None:
    crm = _crm(db)

    report = seed_crm(crm, records=records, seed=1, now=T0)

    assert (report.leads, report.contacts, report.accounts) == expected
    assert tuple(crm.count(t) for t in TYPES) == expected


def test_records_use_only_canonical_fields_and_ids_follow_creation_order(
    seeded: tuple[LocalCRM, SeedReport],
) -> None:
    crm, _ = seeded
    prefixes: tuple[tuple[ObjectType, str], ...] = (("lead", "L"), ("contact", "C"), ("account", "A"))
    for object_type, prefix in prefixes:
        records = list(crm.iter_records(object_type))
        assert [r.id for r in records] == [f"{prefix}{n:06d}" for n in range(1, len(records) + 1)]
        assert [r.created_at for r in records] == sorted(r.created_at for r in records)
        for record in records:
            assert set(record.fields) <= fields_of(object_type)
            assert record.version == "1"
            assert record.created_at <= record.updated_at <= T0
    accounts = {r.id for r in crm.iter_records("account")}
    assert {r.fields["account_id"] for r in crm.iter_records("contact")} <= accounts
    assert {r.fields["status"] for r in crm.iter_records("lead")} <= set(LEAD_STATUSES)


def test_owners_have_teams_slack_ids_and_two_are_inactive(seeded: tuple[LocalCRM, SeedReport]) -> None:
    crm, report = seeded
    owners = crm.owners()

    assert [o.id for o in owners] == [f"O{n:03d}" for n in range(1, 9)]
    assert sum(not o.active for o in owners) == report.inactive_owners == 2
    assert {o.team for o in owners} == {"sales-na", "sales-emea"}
    assert {o.team for o in owners if not o.active} == {"sales-na", "sales-emea"}
    assert all(re.fullmatch(r"U[0-9A-Z]{10}", o.slack_user_id or "") for o in owners)
    team = {o.id: o.team for o in owners if o.active}
    for lead in crm.iter_records("lead"):
        if lead.owner_id in team and lead.fields.get("country") in ISO_COUNTRIES:
            expected = "sales-na" if lead.fields["country"] == "US" else "sales-emea"
            assert team[lead.owner_id] == expected, lead


# -- the planted defects, recounted from the data ----------------------------------------------


def _invalid(email: str) -> bool:
    try:
        validate_email(email.strip().lower(), check_deliverability=False)
    except EmailNotValidError:
        return True
    return False


def _badly_cased(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return (
        name != name.strip()
        or "  " in name
        or (len(letters) > 1 and name.isupper())
        or any(word[:1].islower() and word not in PARTICLES for word in name.split())
    )


def _junk(fields: Mapping[str, object]) -> bool:
    values = {str(fields.get(n, "")).strip().lower() for n in ("first_name", "last_name", "company")}
    local = str(fields.get("email", "")).strip().lower().partition("@")[0]
    return bool(values & {"test", "asdf"}) or local in {"test", "asdf"}


def _recount(crm: LocalCRM) -> Counter[str]:
    inactive = {o.id for o in crm.owners() if not o.active}
    cutoff = T0 - timedelta(days=120)
    found: Counter[str] = Counter()
    lead_emails: Counter[str] = Counter()
    for r in _all(crm):
        f = r.fields
        email, phone = f.get("email"), f.get("phone")
        if any(isinstance(f.get(n), str) and _badly_cased(str(f[n])) for n in ("first_name", "last_name")):
            found["bad_name_casing"] += 1
        if isinstance(email, str):
            if _invalid(email):
                found["invalid_email"] += 1
            elif email.strip().lower().split("@")[1] in DISPOSABLE:
                found["disposable_email"] += 1
            found["messy_email"] += email != email.strip().lower()
            if r.object_type == "lead":
                lead_emails[email.strip().lower()] += 1
        found["unformatted_phone"] += isinstance(phone, str) and not re.fullmatch(r"\+\d{8,15}", phone)
        found["country_variant"] += "country" in f and f["country"] not in ISO_COUNTRIES
        found["state_variant"] += "state" in f and not re.fullmatch(r"[A-Z]{2}", str(f["state"]))
        found["missing_required"] += any(not f.get(n) for n in REQUIRED[r.object_type])
        if r.object_type == "lead":
            found["unowned_lead"] += r.owner_id is None
            found["inactive_owner_lead"] += r.owner_id in inactive
            found["stale_lead"] += (
                f.get("status") == "New"
                and r.updated_at < cutoff
                and str(f["last_activity_at"]) < cutoff.date().isoformat()
            )
            found["junk_lead"] += _junk(f)
        if r.object_type == "account" and int(f.get("annual_revenue") or 0) >= 1_000_000:
            found["high_value_account"] += 1
            found["high_value_account_inactive_owner"] += r.owner_id in inactive
    found["exact_duplicate"] = sum(n - 1 for n in lead_emails.values())
    return found


def test_every_defect_is_planted_at_200_records(seeded: tuple[LocalCRM, SeedReport]) -> None:
    _, report = seeded

    assert set(report.defects) == set(DEFECTS)
    assert {name for name, count in report.defects.items() if count == 0} == set()
    assert report.defects["high_value_account"] >= 2
    assert report.tricky_names >= 1


def test_reported_counts_match_the_data(seeded: tuple[LocalCRM, SeedReport]) -> None:
    crm, report = seeded

    recounted = _recount(crm)

    for name in DEFECTS:
        if name != "fuzzy_duplicate":
            assert recounted[name] == report.defects[name], name
    assert report.defects["fuzzy_duplicate"] == len(report.fuzzy_duplicate_pairs)
    assert report.defects["exact_duplicate"] == len(report.exact_duplicate_pairs)


def test_every_defect_is_planted_from_50_records(tmp_path: Path) -> None:
    for seed in range(4):
        database = Database(f"sqlite:///{tmp_path / f'seed{seed}.db'}")
        crm = _crm(database)
        report = seed_crm(crm, records=50, seed=seed, now=T0)
        assert [name for name, count in report.defects.items() if count == 0] == [], seed
        assert report.defects["high_value_account"] >= 2
        recounted = _recount(crm)
        assert all(recounted[n] == report.defects[n] for n in DEFECTS if n != "fuzzy_duplicate"), seed
        database.dispose()


def test_exact_duplicates_share_an_email_and_one_fills_the_others_blanks(
    seeded: tuple[LocalCRM, SeedReport],
) -> None:
    crm, report = seeded
    for original_id, copy_id in report.exact_duplicate_pairs:
        original, copy = crm.get("lead", original_id), crm.get("lead", copy_id)
        assert original is not None
        assert copy is not None
        assert str(original.fields["email"]).lower() == str(copy.fields["email"]).lower()
        assert copy.created_at > original.created_at
        assert set(original.fields) ^ set(copy.fields), "one should have blanks the other fills"
        for name in ("first_name", "last_name", "company"):
            assert original.fields.get(name) == copy.fields.get(name)
        found = {r.id for r in crm.search("lead", "email", str(original.fields["email"]))}
        assert original_id in found
        assert (copy_id in found) == (copy.fields["email"] == original.fields["email"])


def test_fuzzy_duplicates_are_the_same_person_with_a_typo_and_another_email(
    seeded: tuple[LocalCRM, SeedReport],
) -> None:
    crm, report = seeded
    assert report.fuzzy_duplicate_pairs
    for original_id, copy_id in report.fuzzy_duplicate_pairs:
        original, copy = crm.get("lead", original_id), crm.get("lead", copy_id)
        assert original is not None
        assert copy is not None

        def person(r: Record) -> str:
            return " ".join(str(r.fields.get(n, "")) for n in ("first_name", "last_name", "company"))

        assert person(original) != person(copy)
        assert difflib.SequenceMatcher(None, person(original), person(copy)).ratio() > 0.9
        email_a, email_b = str(original.fields["email"]), str(copy.fields["email"])
        assert email_a.lower() != email_b.lower()
        assert email_a.split("@")[1].lower() == email_b.split("@")[1].lower()
        assert email_b.split("@")[1] != email_b.split("@")[1].lower()
        assert copy.created_at > original.created_at


def test_phones_are_valid_numbers_of_the_records_country(seeded: tuple[LocalCRM, SeedReport]) -> None:
    crm, _ = seeded
    checked = 0
    for record in _all(crm):
        phone, country = record.fields.get("phone"), record.fields.get("country")
        if not isinstance(phone, str) or country not in ISO_COUNTRIES:
            continue
        number = phonenumbers.parse(phone, str(country))
        assert phonenumbers.is_valid_number(number), phone
        assert phonenumbers.region_code_for_number(number) == country, (phone, country)
        checked += 1
    assert checked > 100


def test_tricky_surnames_are_stored_correctly_cased(seeded: tuple[LocalCRM, SeedReport]) -> None:
    crm, report = seeded
    tricky = {"McDonald", "MacLeod", "O'Neil", "O'Brien", "van der Berg", "de Vries"}
    stored = [r.fields["last_name"] for r in _all(crm) if r.fields.get("last_name") in tricky]

    assert len(stored) == report.tricky_names
    assert not any(_badly_cased(str(name)) for name in stored)


def test_stale_leads_are_new_and_untouched_for_over_120_days(seeded: tuple[LocalCRM, SeedReport]) -> None:
    crm, report = seeded
    cutoff = T0 - timedelta(days=120)
    new_leads = [r for r in crm.iter_records("lead") if r.fields["status"] == "New"]
    stale = [r for r in new_leads if r.updated_at < cutoff]

    assert len(stale) == report.defects["stale_lead"]
    assert all(str(r.fields["last_activity_at"]) < cutoff.date().isoformat() for r in stale)
    assert len(new_leads) > len(stale)


# -- guard rails -------------------------------------------------------------------------------


def test_seeding_refuses_a_crm_that_already_has_data(seeded: tuple[LocalCRM, SeedReport]) -> None:
    crm, _ = seeded

    with pytest.raises(ValueError, match="empty"):
        seed_crm(crm, records=10, seed=1, now=T0)


def test_seeding_needs_an_aware_now_and_a_non_negative_size(db: Database) -> None:
    crm = _crm(db)

    with pytest.raises(ValueError, match="timezone"):
        seed_crm(crm, records=10, seed=1, now=T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="zero or more"):
        seed_crm(crm, records=-1, seed=1, now=T0)
    assert crm.owners() == []
