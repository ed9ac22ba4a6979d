"""The inbox: listener work is stored after the ack and run once by whichever consumer claims it."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from agent.store.database import Database
from agent.store.rows import InboxRow
from bot.inbox import InboxConsumer, InboxWriter, pending_count
from tests.support.fakes import FixedClock


def _rows(db: Database) -> list[InboxRow]:
    with db.reading() as session:
        rows = list(session.execute(select(InboxRow).order_by(InboxRow.seq)).scalars())
        session.expunge_all()
    return rows


def _stored(db: Database, clock: FixedClock, tasks: list[tuple[str, dict[str, Any]]]) -> None:
    writer = InboxWriter(db, clock)
    writer.start()
    for name, payload in tasks:
        writer.put(name, payload)
    writer.stop()


def test_writer_stores_every_task_in_order_and_says_so(db: Database) -> None:
    clock = FixedClock()
    stored = threading.Event()
    writer = InboxWriter(db, clock, on_stored=stored.set)
    writer.start()
    for n in range(25):
        writer.put("approve", {"approval_id": f"a{n}", "user": "U1"})
    assert stored.wait(5)
    writer.stop()
    rows = _rows(db)
    assert [r.payload["approval_id"] for r in rows] == [f"a{n}" for n in range(25)]
    assert {r.status for r in rows} == {"pending"}
    assert pending_count(db) == 25


def test_stop_stores_what_is_still_queued(db: Database) -> None:
    writer = InboxWriter(db, FixedClock(), linger=5.0)  # would wait long for more
    writer.start()
    writer.put("approvals", {"user": "U1"})
    writer.stop()
    assert [r.task for r in _rows(db)] == ["approvals"]


def test_consumer_runs_each_task_once_and_forgets_it(db: Database) -> None:
    clock = FixedClock()
    _stored(db, clock, [("approve", {"approval_id": "a1"}), ("approvals", {"user": "U2"})])
    seen: list[tuple[str, dict[str, Any]]] = []
    consumer = InboxConsumer(
        db,
        clock,
        {
            "approve": lambda task: seen.append(("approve", task)),
            "approvals": lambda task: seen.append(("approvals", task)),
        },
        holder="w1",
    )
    try:
        assert consumer.run_until_empty() == 2
        assert consumer.run_until_empty() == 0
    finally:
        consumer.stop()
    assert sorted(seen, key=lambda item: item[0]) == [
        ("approvals", {"user": "U2"}),
        ("approve", {"approval_id": "a1"}),
    ]
    assert _rows(db) == []


def test_a_failing_task_is_retried_after_a_backoff_then_given_up(db: Database) -> None:
    clock = FixedClock()
    _stored(db, clock, [("approve", {"approval_id": "a1"})])
    calls = Counter[str]()

    def flaky(task: dict[str, Any]) -> None:
        calls[task["approval_id"]] += 1
        raise RuntimeError("database went away")

    consumer = InboxConsumer(db, clock, {"approve": flaky}, holder="w1", max_attempts=3)
    try:
        assert consumer.run_until_empty() == 1
        assert consumer.run_until_empty() == 0  # backing off
        for _ in range(2):
            clock.advance(minutes=1)
            assert consumer.run_until_empty() == 1
        clock.advance(hours=1)
        assert consumer.run_until_empty() == 0
    finally:
        consumer.stop()
    (row,) = _rows(db)
    assert calls["a1"] == 3
    assert row.status == "dead"
    assert row.last_error == "RuntimeError: database went away"


def test_an_unknown_task_is_set_aside_not_retried(db: Database) -> None:
    clock = FixedClock()
    _stored(db, clock, [("no_such_task", {})])
    consumer = InboxConsumer(db, clock, {}, holder="w1")
    try:
        assert consumer.run_until_empty() == 1
        clock.advance(hours=1)
        assert consumer.run_until_empty() == 0
    finally:
        consumer.stop()
    (row,) = _rows(db)
    assert row.status == "dead"
    assert "no task named 'no_such_task'" in (row.last_error or "")


def test_a_claim_left_by_a_dead_consumer_is_taken_over_after_the_lease(db: Database) -> None:
    clock = FixedClock()
    _stored(db, clock, [("approve", {"approval_id": "a1"})])
    started = threading.Event()
    never = threading.Event()

    def hangs(task: dict[str, Any]) -> None:
        started.set()
        never.wait(10)

    dead = InboxConsumer(db, clock, {"approve": hangs}, holder="dead", lease=timedelta(minutes=2))
    runner = threading.Thread(target=dead.run_until_empty, daemon=True)
    runner.start()
    assert started.wait(5)
    ran: list[str] = []
    alive = InboxConsumer(
        db,
        clock,
        {"approve": lambda t: ran.append(t["approval_id"])},
        holder="alive",
        lease=timedelta(minutes=2),
    )
    try:
        assert alive.run_until_empty() == 0  # still leased to the other one
        clock.advance(minutes=3)
        assert alive.run_until_empty() == 1
    finally:
        never.set()
        runner.join(5)
        alive.stop()
        dead.stop()
    assert ran == ["a1"]
    # The slow one finishing late must not delete or re-run what the other one did.
    assert _rows(db) == []


def test_consumers_racing_on_one_database_run_each_task_exactly_once(db: Database) -> None:
    clock = FixedClock()
    _stored(db, clock, [("approve", {"approval_id": f"a{n}"}) for n in range(60)])
    ran: Counter[str] = Counter()
    lock = threading.Lock()

    def record(task: dict[str, Any]) -> None:
        with lock:
            ran[task["approval_id"]] += 1

    consumers = [InboxConsumer(db, clock, {"approve": record}, holder=f"w{n}") for n in range(3)]
    threads = [threading.Thread(target=c.run_until_empty) for c in consumers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for consumer in consumers:
        consumer.stop()
    assert sorted(ran) == sorted(f"a{n}" for n in range(60))
    assert set(ran.values()) == {1}
    assert pending_count(db) == 0
