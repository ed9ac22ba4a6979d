"""The embedded CRM read in pages, duplicate emails grouped in the database, and seeding in blocks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.crm.local import LocalCRM
from agent.crm.seed.blocks import seed_in_blocks
from agent.models import Owner, Record
from agent.store.database import Database
from tests.support.fakes import T0, FixedClock, sequential_ids


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def crm(db: Database, clock: FixedClock) -> LocalCRM:
    crm = LocalCRM(db, clock=clock, new_id=sequential_ids("N"))
    crm.create_owner(Owner(id="O001", name="Ada Owner", email="ada@example.com"))
    return crm


def _lead(crm: LocalCRM, record_id: str, email: str | None = None) -> Record:
    fields = {"first_name": "Jane", "last_name": "Doe", "email": email}
    return crm.create_record("lead", fields, owner_id="O001", record_id=record_id)


def test_iter_records_pages_through_more_than_one_batch_in_id_order(crm: LocalCRM) -> None:
    for n in reversed(range(11)):
        _lead(crm, f"L{n:03d}")

    ids = [r.id for r in crm.iter_records("lead", batch_size=4)]

    assert ids == [f"L{n:03d}" for n in range(11)]


def test_iter_records_can_write_between_pages_and_sees_only_changes_since(
    crm: LocalCRM, clock: FixedClock
) -> None:
    for n in range(9):
        _lead(crm, f"L{n:03d}")
    clock.advance(days=1)

    for record in crm.iter_records("lead", batch_size=2):
        if record.id in ("L001", "L006"):
            crm.update(
                "lead", record.id, {"phone": "+14155550100"}, expected_version="1", idempotency_key=record.id
            )

    changed = crm.iter_records("lead", changed_since=T0 + timedelta(hours=1), batch_size=1)
    assert [r.id for r in changed] == ["L001", "L006"]


def test_duplicate_email_groups_normalise_and_leave_out_singletons_and_merged_records(crm: LocalCRM) -> None:
    _lead(crm, "L1", "Ann@Example.com")
    _lead(crm, "L2", " ann@example.com ")
    loser = _lead(crm, "L3", "ann@example.com")
    _lead(crm, "L4", "solo@example.com")
    _lead(crm, "L5", "bo@example.com")
    gone = _lead(crm, "L6", "BO@example.com")
    _lead(crm, "L7")
    crm.delete("lead", gone.id, expected_version=gone.version, idempotency_key="del")
    crm.merge("lead", "L1", [loser.id], {}, expected_versions={"L1": "1", "L3": "1"}, idempotency_key="m")

    assert crm.duplicate_email_groups("lead") == {"ann@example.com": ["L1", "L2"]}
    assert crm.duplicate_email_groups("contact") == {}


def test_seeding_in_blocks_gives_each_block_its_own_ids_and_keeps_account_links(db: Database) -> None:
    crm = LocalCRM(db, clock=FixedClock(), new_id=sequential_ids("N"))
    written: list[int] = []

    total = seed_in_blocks(crm, records=130, seed=3, now=T0, block_size=60, progress=written.append)

    assert total == 130
    assert written == [60, 120, 130]
    assert sum(crm.count(t) for t in ("lead", "contact", "account")) == 130
    accounts = {r.id for r in crm.iter_records("account")}
    assert {a[:3] for a in accounts} == {"A00", "A01", "A02"}
    linked = {r.fields["account_id"] for r in crm.iter_records("contact")}
    assert linked <= accounts
    with pytest.raises(ValueError, match="empty CRM"):
        seed_in_blocks(crm, records=60, seed=3, now=T0, block_size=60)


def test_scan_fields_pages_through_live_records_of_one_type_without_building_them(crm: LocalCRM) -> None:
    for n in reversed(range(7)):
        _lead(crm, f"L{n:03d}", email=f"p{n}@acme.io")
    crm.create_record("contact", {"first_name": "Con"}, record_id="C001")
    crm.delete("lead", "L003", expected_version="1", idempotency_key="gone")

    rows = list(crm.scan_fields("lead", batch_size=2))

    assert [record_id for record_id, _, _ in rows] == ["L000", "L001", "L002", "L004", "L005", "L006"]
    assert rows[0][2]["email"] == "p0@acme.io"
    assert all(updated == T0 for _, updated, _ in rows)
