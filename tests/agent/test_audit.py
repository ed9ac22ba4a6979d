"""The hash-chained audit log: appends, verification, tamper detection."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, update

from agent.audit import GENESIS_HASH, AuditLog
from agent.errors import AuditChainError
from agent.store.database import Database
from agent.store.rows import AuditEventRow
from tests.support.fakes import FixedClock


def _append(db: Database, log: AuditLog, count: int) -> None:
    for i in range(count):
        with db.transaction() as session:
            log.append(
                session,
                actor="U1",
                event="test",
                subject=f"s{i}",
                rule="r",
                payload={"i": i, "nested": [1.5]},
            )


def test_chain_links_each_event_to_the_one_before(db: Database) -> None:
    log = AuditLog(FixedClock())
    _append(db, log, 3)

    with db.transaction() as session:
        events = log.tail(session, 10)
        report = log.verify(session)

    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert report.events == 3
    assert report.head == events[-1].hash


def test_an_event_edited_by_hand_is_detected(db: Database) -> None:
    log = AuditLog(FixedClock())
    _append(db, log, 4)
    with db.transaction() as session:
        session.execute(update(AuditEventRow).where(AuditEventRow.seq == 2).values(actor="U_MALLORY"))

    with db.transaction() as session, pytest.raises(AuditChainError) as broken:
        log.verify(session)

    assert broken.value.seq == 2
    assert "edited" in str(broken.value)


def test_a_payload_edited_by_hand_is_detected(db: Database) -> None:
    log = AuditLog(FixedClock())
    _append(db, log, 3)
    with db.transaction() as session:
        session.execute(update(AuditEventRow).where(AuditEventRow.seq == 3).values(payload={"i": 99}))

    with db.transaction() as session, pytest.raises(AuditChainError) as broken:
        log.verify(session)

    assert broken.value.seq == 3


def test_a_removed_event_is_detected(db: Database) -> None:
    log = AuditLog(FixedClock())
    _append(db, log, 4)
    with db.transaction() as session:
        session.execute(delete(AuditEventRow).where(AuditEventRow.seq == 2))

    with db.transaction() as session, pytest.raises(AuditChainError, match="missing"):
        log.verify(session)


def test_removing_the_latest_events_is_detected(db: Database) -> None:
    log = AuditLog(FixedClock())
    _append(db, log, 4)
    with db.transaction() as session:
        session.execute(delete(AuditEventRow).where(AuditEventRow.seq == 4))

    with db.transaction() as session, pytest.raises(AuditChainError, match="head"):
        log.verify(session)


def test_an_empty_log_verifies(db: Database) -> None:
    with db.transaction() as session:
        assert AuditLog(FixedClock()).verify(session).events == 0


def test_appends_from_many_threads_never_fork_the_chain(db: Database) -> None:
    log = AuditLog(FixedClock())
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            _append(db, log, 5)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with db.transaction() as session:
        report = log.verify(session)
        hashes = session.execute(select(AuditEventRow.prev_hash)).scalars().all()
    assert errors == []
    assert report.events == 40
    assert len(set(hashes)) == 40
