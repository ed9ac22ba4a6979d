"""The embedded CRM honours the CRMClient contract on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from agent.crm.local import LocalCRM
from agent.errors import CRMConflictError, CRMNotFoundError, CRMValidationError
from agent.models import Owner, Record
from agent.store.database import Database
from agent.store.rows import CRMRecordRow
from tests.support.fakes import T0, FixedClock, sequential_ids


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def crm(db: Database, clock: FixedClock) -> LocalCRM:
    crm = LocalCRM(db, clock=clock, new_id=sequential_ids("N"))
    crm.create_owner(Owner(id="O001", name="Ada Owner", email="ada@example.com", team="sales-na"))
    crm.create_owner(Owner(id="O002", name="Bob Gone", email="bob@example.com", active=False))
    return crm


def _lead(crm: LocalCRM, record_id: str, email: str = "jane@acme.com", **fields: str | int) -> Record:
    return crm.create_record(
        "lead",
        {"first_name": "Jane", "last_name": "Doe", "email": email, "company": "Acme", **fields},
        owner_id="O001",
        record_id=record_id,
    )


def _version(crm: LocalCRM, record_id: str) -> str | None:
    record = crm.get("lead", record_id)
    return None if record is None else record.version


def _row(db: Database, record_id: str) -> CRMRecordRow:
    with db.transaction() as session:
        row = session.scalar(select(CRMRecordRow).where(CRMRecordRow.id == record_id))
        assert row is not None
        return row


# -- create and read -----------------------------------------------------------------------


def test_created_record_reads_back_as_written(crm: LocalCRM) -> None:
    created = crm.create_record(
        "lead",
        {"first_name": "Jane", "email": "jane@acme.com", "employees": 12, "phone": None},
        owner_id="O001",
        created_at=T0 - timedelta(days=3),
        record_id="L1",
    )

    assert crm.get("lead", "L1") == created
    assert created.version == "1"
    assert created.fields == {"first_name": "Jane", "email": "jane@acme.com", "employees": 12}
    assert created.created_at == created.updated_at == T0 - timedelta(days=3)


def test_record_ids_come_from_the_injected_generator(crm: LocalCRM) -> None:
    record = crm.create_record("account", {"name": "Acme"})

    assert record.id == "N000001"
    assert record.created_at == T0


def test_get_is_none_for_a_missing_record_or_another_type(crm: LocalCRM) -> None:
    _lead(crm, "L1")

    assert crm.get("lead", "nope") is None
    assert crm.get("contact", "L1") is None


def test_get_many_returns_only_live_records_of_the_type(crm: LocalCRM) -> None:
    for rid in ("L1", "L2", "L3"):
        _lead(crm, rid, email=f"{rid}@acme.com")
    crm.delete("lead", "L3", expected_version="1", idempotency_key="del-L3")

    found = crm.get_many("lead", ["L1", "L2", "L3", "missing", "L1"])

    assert sorted(found) == ["L1", "L2"]
    assert crm.get_many("contact", ["L1"]) == {}


def test_count_counts_live_records_of_one_type(crm: LocalCRM) -> None:
    _lead(crm, "L1")
    _lead(crm, "L2", email="other@acme.com")
    crm.create_record("account", {"name": "Acme"}, record_id="A1")
    crm.delete("lead", "L2", expected_version="1", idempotency_key="del")

    assert crm.count("lead") == 1
    assert crm.count("account") == 1


def test_creating_a_record_with_an_unknown_field_or_owner_is_refused(crm: LocalCRM) -> None:
    with pytest.raises(CRMValidationError, match="no field"):
        crm.create_record("lead", {"Email": "x@y.com"})
    with pytest.raises(CRMValidationError, match="unknown owner"):
        crm.create_record("lead", {"email": "x@y.com"}, owner_id="O999")
    assert crm.count("lead") == 0


def test_owners_lists_active_and_inactive_owners(crm: LocalCRM) -> None:
    assert [(o.id, o.active) for o in crm.owners()] == [("O001", True), ("O002", False)]
    assert crm.get_owner("O002") == Owner(id="O002", name="Bob Gone", email="bob@example.com", active=False)
    assert crm.get_owner("O999") is None


# -- update ----------------------------------------------------------------------------------


def test_update_increments_the_version_and_stamps_updated_at(crm: LocalCRM, clock: FixedClock) -> None:
    _lead(crm, "L1")
    clock.advance(hours=1)

    written = crm.update("lead", "L1", {"status": "Working"}, expected_version="1", idempotency_key="k1")

    assert written.version == "2"
    assert written.updated_at == T0 + timedelta(hours=1)
    assert written.fields["status"] == "Working"
    assert crm.get("lead", "L1") == written


def test_update_with_a_stale_version_raises_conflict_and_writes_nothing(crm: LocalCRM, db: Database) -> None:
    _lead(crm, "L1")
    crm.update("lead", "L1", {"status": "Working"}, expected_version="1", idempotency_key="k1")

    with pytest.raises(CRMConflictError) as raised:
        crm.update("lead", "L1", {"status": "Qualified"}, expected_version="1", idempotency_key="k2")

    assert (raised.value.expected, raised.value.actual) == ("1", "2")
    record = crm.get("lead", "L1")
    assert record is not None
    assert (record.version, record.fields["status"]) == ("2", "Working")
    # The failed key was not recorded: retrying it with the right version works.
    retried = crm.update("lead", "L1", {"status": "Qualified"}, expected_version="2", idempotency_key="k2")
    assert retried.version == "3"


def test_a_version_that_is_not_a_number_is_a_conflict(crm: LocalCRM) -> None:
    _lead(crm, "L1")

    with pytest.raises(CRMConflictError):
        crm.update("lead", "L1", {"status": "Working"}, expected_version="abc", idempotency_key="k1")


def test_replaying_an_idempotency_key_writes_nothing_and_returns_the_record(crm: LocalCRM) -> None:
    _lead(crm, "L1")
    first = crm.update("lead", "L1", {"status": "Working"}, expected_version="1", idempotency_key="k1")

    replay = crm.update("lead", "L1", {"status": "Working"}, expected_version="1", idempotency_key="k1")

    assert replay == first
    assert replay.version == "2"


def test_a_replay_returns_the_record_as_it_is_now(crm: LocalCRM) -> None:
    _lead(crm, "L1")
    crm.update("lead", "L1", {"status": "Working"}, expected_version="1", idempotency_key="k1")
    later = crm.update("lead", "L1", {"title": "CEO"}, expected_version="2", idempotency_key="k2")

    assert (
        crm.update("lead", "L1", {"status": "Working"}, expected_version="1", idempotency_key="k1") == later
    )


def test_an_idempotency_key_reused_for_another_record_is_refused(crm: LocalCRM) -> None:
    _lead(crm, "L1")
    _lead(crm, "L2", email="two@acme.com")
    crm.update("lead", "L1", {"status": "Working"}, expected_version="1", idempotency_key="k1")

    with pytest.raises(CRMValidationError, match="already used"):
        crm.update("lead", "L2", {"status": "Working"}, expected_version="1", idempotency_key="k1")
    assert _version(crm, "L2") == "1"


def test_update_of_a_missing_or_deleted_record_raises_not_found(crm: LocalCRM) -> None:
    _lead(crm, "L1")
    crm.delete("lead", "L1", expected_version="1", idempotency_key="del")

    with pytest.raises(CRMNotFoundError):
        crm.update("lead", "nope", {"status": "Working"}, expected_version="1", idempotency_key="k1")
    with pytest.raises(CRMNotFoundError):
        crm.update("lead", "L1", {"status": "Working"}, expected_version="2", idempotency_key="k2")
    with pytest.raises(CRMNotFoundError):
        crm.update("contact", "L1", {"title": "CEO"}, expected_version="2", idempotency_key="k3")


def test_update_sets_and_clears_the_owner(crm: LocalCRM) -> None:
    _lead(crm, "L1")

    moved = crm.update("lead", "L1", {"owner_id": "O002"}, expected_version="1", idempotency_key="k1")
    cleared = crm.update("lead", "L1", {"owner_id": None}, expected_version="2", idempotency_key="k2")

    assert moved.owner_id == "O002"
    assert "owner_id" not in moved.fields
    assert cleared.owner_id is None
    assert crm.get("lead", "L1") == cleared


def test_update_to_an_unknown_owner_or_field_is_refused_and_writes_nothing(crm: LocalCRM) -> None:
    _lead(crm, "L1")

    with pytest.raises(CRMValidationError, match="unknown owner"):
        crm.update("lead", "L1", {"owner_id": "O999"}, expected_version="1", idempotency_key="k1")
    with pytest.raises(CRMValidationError, match="no field"):
        crm.update("lead", "L1", {"account_id": "A1"}, expected_version="1", idempotency_key="k2")
    assert _version(crm, "L1") == "1"


def test_setting_a_field_to_none_clears_it(crm: LocalCRM) -> None:
    _lead(crm, "L1", phone="+14155550134")

    written = crm.update("lead", "L1", {"phone": None}, expected_version="1", idempotency_key="k1")

    assert "phone" not in written.fields
    assert written.get("phone") is None


def test_an_email_change_moves_the_record_in_email_search(crm: LocalCRM, db: Database) -> None:
    _lead(crm, "L1", email=" Jane@ACME.com ")

    crm.update("lead", "L1", {"email": "jane@acme.com"}, expected_version="1", idempotency_key="k1")

    assert crm.search("lead", "email", " Jane@ACME.com ") == []
    assert [r.id for r in crm.search("lead", "email", "jane@acme.com")] == ["L1"]
    assert _row(db, "L1").email == "jane@acme.com"


def _race(attempt: Callable[[int], str], n: int = 6) -> list[str]:
    """Run ``attempt`` in ``n`` threads released at once; their outcomes, sorted."""
    outcomes: list[str] = []
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        outcomes.append(attempt(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_concurrent_updates_from_the_same_version_let_exactly_one_win(crm: LocalCRM) -> None:
    _lead(crm, "L1")

    def attempt(i: int) -> str:
        try:
            crm.update("lead", "L1", {"title": f"T{i}"}, expected_version="1", idempotency_key=f"k{i}")
        except CRMConflictError:
            return "conflict"
        return "won"

    assert _race(attempt) == ["conflict"] * 5 + ["won"]
    assert _version(crm, "L1") == "2"


def test_concurrent_replays_of_one_key_all_succeed_and_write_once(crm: LocalCRM) -> None:
    _lead(crm, "L1")

    def attempt(i: int) -> str:
        record = crm.update("lead", "L1", {"title": "CEO"}, expected_version="1", idempotency_key="same")
        note = crm.add_note("lead", "L1", "called", idempotency_key="same-note")
        return f"{record.version}/{note.id}"

    outcomes = _race(attempt)

    assert len(set(outcomes)) == 1
    assert outcomes[0].startswith("2/")
    assert len(crm.notes("lead", "L1")) == 1


# -- merge -----------------------------------------------------------------------------------


def _three_duplicates(crm: LocalCRM) -> None:
    _lead(crm, "L1", email="jane@acme.com")
    _lead(crm, "L2", email="Jane@acme.com", phone="+14155550134")
    _lead(crm, "L3", email="jane.doe@acme.com")
    crm.add_note("lead", "L2", "called twice", idempotency_key="n2")
    crm.add_note("lead", "L3", "met at expo", idempotency_key="n3")


def test_merge_applies_the_plan_hides_the_others_and_moves_their_notes(crm: LocalCRM, db: Database) -> None:
    _three_duplicates(crm)
    crm.add_note("lead", "L1", "first", idempotency_key="n1")

    survivor = crm.merge(
        "lead",
        "L1",
        ["L2", "L3"],
        {"phone": "+14155550134", "title": "CTO"},
        expected_versions={"L1": "1", "L2": "1", "L3": "1"},
        idempotency_key="m1",
    )

    assert survivor.version == "2"
    assert survivor.fields["phone"] == "+14155550134"
    assert survivor.fields["title"] == "CTO"
    assert crm.get("lead", "L1") == survivor
    assert crm.get("lead", "L2") is None
    assert crm.get_many("lead", ["L2", "L3"]) == {}
    assert [r.id for r in crm.iter_records("lead")] == ["L1"]
    assert crm.search("lead", "email", "Jane@acme.com") == []
    assert [n.body for n in crm.notes("lead", "L1")] == ["called twice", "met at expo", "first"]
    assert crm.notes("lead", "L2") == []
    loser = _row(db, "L2")
    assert (loser.merged_into, loser.deleted_at) == ("L1", T0)


def test_merge_replay_changes_nothing_and_returns_the_survivor(crm: LocalCRM) -> None:
    _three_duplicates(crm)
    versions = {"L1": "1", "L2": "1", "L3": "1"}
    first = crm.merge(
        "lead", "L1", ["L2", "L3"], {"title": "CTO"}, expected_versions=versions, idempotency_key="m"
    )

    replay = crm.merge(
        "lead", "L1", ["L2", "L3"], {"title": "CTO"}, expected_versions=versions, idempotency_key="m"
    )

    assert replay == first
    assert replay.version == "2"


def test_merge_with_a_stale_version_changes_nothing(crm: LocalCRM, db: Database) -> None:
    _three_duplicates(crm)
    crm.update("lead", "L3", {"title": "CEO"}, expected_version="1", idempotency_key="u3")

    with pytest.raises(CRMConflictError) as raised:
        crm.merge(
            "lead",
            "L1",
            ["L2", "L3"],
            {"title": "CTO"},
            expected_versions={"L1": "1", "L2": "1", "L3": "1"},
            idempotency_key="m1",
        )

    assert (raised.value.record_id, raised.value.actual) == ("L3", "2")
    assert {rid: r.version for rid, r in crm.get_many("lead", ["L1", "L2", "L3"]).items()} == {
        "L1": "1",
        "L2": "1",
        "L3": "2",
    }
    assert "title" not in _row(db, "L1").fields
    assert [n.body for n in crm.notes("lead", "L2")] == ["called twice"]


def test_merge_of_a_missing_record_raises_not_found_and_changes_nothing(crm: LocalCRM) -> None:
    _three_duplicates(crm)

    with pytest.raises(CRMNotFoundError):
        crm.merge(
            "lead", "L1", ["L2", "L9"], {"title": "CTO"},
            expected_versions={"L1": "1", "L2": "1", "L9": "1"}, idempotency_key="m1",
        )  # fmt: skip

    assert crm.get("lead", "L2") is not None
    assert _version(crm, "L1") == "1"


def test_merge_needs_a_version_for_every_record(crm: LocalCRM) -> None:
    _three_duplicates(crm)

    with pytest.raises(ValueError, match="L3"):
        crm.merge(
            "lead", "L1", ["L2", "L3"], {}, expected_versions={"L1": "1", "L2": "1"}, idempotency_key="m"
        )
    with pytest.raises(ValueError, match="survivor"):
        crm.merge("lead", "L1", ["L1"], {}, expected_versions={"L1": "1"}, idempotency_key="m")


def test_records_merged_into_a_merged_record_follow_it_to_the_new_survivor(
    crm: LocalCRM, db: Database
) -> None:
    _three_duplicates(crm)
    crm.merge("lead", "L2", ["L3"], {}, expected_versions={"L2": "1", "L3": "1"}, idempotency_key="m1")

    crm.merge("lead", "L1", ["L2"], {}, expected_versions={"L1": "1", "L2": "2"}, idempotency_key="m2")

    assert _row(db, "L3").merged_into == "L1"
    assert [n.body for n in crm.notes("lead", "L1")] == ["called twice", "met at expo"]


# -- delete ----------------------------------------------------------------------------------


def test_delete_hides_the_record_but_keeps_the_row(crm: LocalCRM, db: Database, clock: FixedClock) -> None:
    _lead(crm, "L1")
    clock.advance(minutes=5)

    crm.delete("lead", "L1", expected_version="1", idempotency_key="d1")

    assert crm.get("lead", "L1") is None
    assert crm.search("lead", "email", "jane@acme.com") == []
    row = _row(db, "L1")
    assert (row.deleted_at, row.version) == (T0 + timedelta(minutes=5), 2)


def test_delete_with_a_stale_version_raises_conflict_and_keeps_the_record(crm: LocalCRM) -> None:
    _lead(crm, "L1")
    crm.update("lead", "L1", {"status": "Working"}, expected_version="1", idempotency_key="u1")

    with pytest.raises(CRMConflictError):
        crm.delete("lead", "L1", expected_version="1", idempotency_key="d1")

    assert crm.get("lead", "L1") is not None


def test_delete_replay_is_a_no_op(crm: LocalCRM) -> None:
    _lead(crm, "L1")
    crm.delete("lead", "L1", expected_version="1", idempotency_key="d1")

    crm.delete("lead", "L1", expected_version="1", idempotency_key="d1")

    with pytest.raises(CRMNotFoundError):
        crm.delete("lead", "L1", expected_version="2", idempotency_key="d2")


# -- notes -----------------------------------------------------------------------------------


def test_notes_do_not_change_the_record_version(crm: LocalCRM, clock: FixedClock) -> None:
    _lead(crm, "L1")
    clock.advance(minutes=1)

    note = crm.add_note("lead", "L1", "called, no answer", idempotency_key="n1")

    record = crm.get("lead", "L1")
    assert record is not None
    assert (record.version, record.updated_at) == ("1", T0)
    assert note.id == "N000001"
    assert note.created_at == T0 + timedelta(minutes=1)
    assert crm.notes("lead", "L1") == [note]


def test_a_replayed_note_is_the_same_note_and_is_stored_once(crm: LocalCRM) -> None:
    _lead(crm, "L1")
    first = crm.add_note("lead", "L1", "called", idempotency_key="n1")

    replay = crm.add_note("lead", "L1", "called", idempotency_key="n1")

    assert replay == first
    assert len(crm.notes("lead", "L1")) == 1


def test_notes_come_oldest_first_and_need_a_live_record(crm: LocalCRM, clock: FixedClock) -> None:
    _lead(crm, "L1")
    crm.add_note("lead", "L1", "one", idempotency_key="n1")
    clock.advance(seconds=1)
    crm.add_note("lead", "L1", "two", idempotency_key="n2")

    assert [n.body for n in crm.notes("lead", "L1")] == ["one", "two"]
    with pytest.raises(CRMNotFoundError):
        crm.add_note("lead", "nope", "three", idempotency_key="n3")


# -- iteration and search ----------------------------------------------------------------------


def test_iter_records_pages_across_batch_boundaries_in_id_order(crm: LocalCRM) -> None:
    for n in range(25, 0, -1):
        _lead(crm, f"L{n:03d}", email=f"p{n}@acme.com")
    crm.create_record("contact", {"last_name": "Other"}, record_id="C001")
    crm.delete("lead", "L010", expected_version="1", idempotency_key="d")

    ids = [r.id for r in crm.iter_records("lead", batch_size=10)]

    assert ids == [f"L{n:03d}" for n in range(1, 26) if n != 10]


def test_iter_records_on_an_exact_multiple_of_the_batch_size(crm: LocalCRM) -> None:
    for n in range(1, 21):
        _lead(crm, f"L{n:03d}", email=f"p{n}@acme.com")

    assert len(list(crm.iter_records("lead", batch_size=10))) == 20
    assert list(crm.iter_records("account", batch_size=10)) == []


def test_iter_records_lets_the_caller_write_between_batches(crm: LocalCRM) -> None:
    for n in range(1, 6):
        _lead(crm, f"L{n:03d}", email=f"p{n}@acme.com")

    for record in crm.iter_records("lead", batch_size=2):
        crm.update(
            "lead",
            record.id,
            {"status": "Working"},
            expected_version=record.version,
            idempotency_key=record.id,
        )

    assert {r.fields["status"] for r in crm.iter_records("lead")} == {"Working"}


def test_iter_records_changed_since_returns_records_updated_at_or_after(
    crm: LocalCRM, clock: FixedClock
) -> None:
    for n in range(1, 6):
        _lead(crm, f"L{n:03d}", email=f"p{n}@acme.com")
    cursor = clock.advance(hours=1)
    crm.update("lead", "L004", {"status": "Working"}, expected_version="1", idempotency_key="u4")
    crm.add_note("lead", "L005", "notes are not changes", idempotency_key="n5")
    clock.advance(hours=1)
    crm.update("lead", "L002", {"status": "Working"}, expected_version="1", idempotency_key="u2")

    changed = [r.id for r in crm.iter_records("lead", changed_since=cursor, batch_size=1)]

    assert changed == ["L002", "L004"]


def test_iter_records_rejects_a_batch_size_below_one(crm: LocalCRM) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        list(crm.iter_records("lead", batch_size=0))


def test_search_by_email_matches_exactly(crm: LocalCRM) -> None:
    _lead(crm, "L1", email="jane@acme.com")
    _lead(crm, "L2", email="Jane@acme.com")
    _lead(crm, "L3", email="jane@acme.com")
    crm.create_record("contact", {"email": "jane@acme.com"}, record_id="C1")

    assert [r.id for r in crm.search("lead", "email", "jane@acme.com")] == ["L1", "L3"]
    assert [r.id for r in crm.search("lead", "email", "Jane@acme.com")] == ["L2"]
    assert [r.id for r in crm.search("contact", "email", "jane@acme.com")] == ["C1"]
    assert crm.search("lead", "email", "nobody@acme.com") == []


def test_search_by_other_fields_and_by_owner(crm: LocalCRM) -> None:
    _lead(crm, "L1", company="Acme", employees=10)
    _lead(crm, "L2", email="b@globex.com", company="Globex", employees=10)
    crm.update("lead", "L2", {"owner_id": None}, expected_version="1", idempotency_key="u")

    assert [r.id for r in crm.search("lead", "company", "Globex")] == ["L2"]
    assert [r.id for r in crm.search("lead", "employees", 10)] == ["L1", "L2"]
    assert [r.id for r in crm.search("lead", "owner_id", "O001")] == ["L1"]
    assert [r.id for r in crm.search("lead", "owner_id", None)] == ["L2"]
    with pytest.raises(CRMValidationError, match="no field"):
        crm.search("lead", "colour", "red")
