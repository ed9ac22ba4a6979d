"""Claims on scheduled runs, on SQLite and PostgreSQL: one winner per slot, takeover after the lease."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from agent.claims import MAX_ATTEMPTS, Claim, JobClaims
from agent.store.database import Database
from tests.support.fakes import FixedClock

LEASE = timedelta(minutes=15)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def claims(db: Database, clock: FixedClock) -> JobClaims:
    return JobClaims(db, clock=clock, retry_after=timedelta(minutes=5))


def _race(contenders: int, attempt: Callable[[int], Claim | None]) -> list[Claim]:
    """Start ``contenders`` threads at once; return the claims they won."""
    barrier = threading.Barrier(contenders)
    won: list[Claim] = []
    errors: list[BaseException] = []

    def contend(n: int) -> None:
        barrier.wait()
        try:
            claim = attempt(n)
        except BaseException as error:  # surfaced below: a contender must lose quietly, not crash
            errors.append(error)
            return
        if claim is not None:
            won.append(claim)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return won


def test_the_first_claim_wins_and_the_next_gets_none(claims: JobClaims) -> None:
    first = claims.claim("hygiene", "2026-11-24T07:00:00Z", holder="a", lease=LEASE)
    second = claims.claim("hygiene", "2026-11-24T07:00:00Z", holder="b", lease=LEASE)

    assert first is not None
    assert first.holder == "a"
    assert first.attempt == 1
    assert second is None
    record = claims.get("hygiene", "2026-11-24T07:00:00Z")
    assert record is not None
    assert (record.holder, record.status, record.attempts) == ("a", "running", 1)


def test_other_slots_and_other_jobs_are_claimed_independently(claims: JobClaims) -> None:
    assert claims.claim("hygiene", "k1", holder="a", lease=LEASE) is not None
    assert claims.claim("hygiene", "k2", holder="b", lease=LEASE) is not None
    assert claims.claim("enrichment", "k1", holder="b", lease=LEASE) is not None


def test_concurrent_claims_on_one_slot_have_exactly_one_winner(db: Database, clock: FixedClock) -> None:
    # Each contender has its own engine, as separate replicas would.
    replicas = [Database(db.url, auto_upgrade=False) for _ in range(6)]
    try:
        won = _race(
            6,
            lambda n: JobClaims(replicas[n], clock=clock).claim(
                "hygiene", "slot", holder=f"r{n}", lease=LEASE
            ),
        )
    finally:
        for replica in replicas:
            replica.dispose()

    assert len(won) == 1
    record = JobClaims(db, clock=clock).get("hygiene", "slot")
    assert record is not None
    assert record.holder == won[0].holder


def test_a_done_slot_is_never_claimed_again(claims: JobClaims, clock: FixedClock) -> None:
    claim = claims.claim("summary:#revops", "2026-11-24", holder="a", lease=LEASE)
    assert claim is not None
    assert claims.finish(claim, {"posted": True})

    clock.advance(days=2)

    assert claims.claim("summary:#revops", "2026-11-24", holder="b", lease=LEASE) is None
    record = claims.get("summary:#revops", "2026-11-24")
    assert record is not None
    assert (record.status, record.holder, record.result) == ("done", "a", {"posted": True})
    assert record.finished_at == clock.now() - timedelta(days=2)


def test_a_running_claim_is_taken_over_only_once_its_lease_has_passed(
    claims: JobClaims, clock: FixedClock
) -> None:
    dead = claims.claim("hygiene", "slot", holder="dead", lease=LEASE)
    assert dead is not None

    clock.advance(minutes=14, seconds=59)
    too_early = claims.claim("hygiene", "slot", holder="b", lease=LEASE)
    clock.advance(seconds=2)
    taken = claims.claim("hygiene", "slot", holder="b", lease=LEASE)

    assert too_early is None
    assert taken is not None
    assert (taken.holder, taken.attempt) == ("b", 2)
    assert taken.lease_until == clock.now() + LEASE
    # The dead holder, should it wake up, no longer holds anything.
    assert claims.renew(dead) is None
    assert not claims.finish(dead, {"late": True})
    assert claims.finish(taken, {"ok": True})
    record = claims.get("hygiene", "slot")
    assert record is not None
    assert (record.status, record.holder, record.attempts, record.result) == ("done", "b", 2, {"ok": True})


def test_two_replicas_taking_over_a_dead_claim_cannot_both_win(db: Database, clock: FixedClock) -> None:
    claims = JobClaims(db, clock=clock)
    assert claims.claim("hygiene", "slot", holder="dead", lease=LEASE) is not None
    clock.advance(minutes=16)
    replicas = [Database(db.url, auto_upgrade=False) for _ in range(6)]
    try:
        won = _race(
            6,
            lambda n: JobClaims(replicas[n], clock=clock).claim(
                "hygiene", "slot", holder=f"r{n}", lease=LEASE
            ),
        )
    finally:
        for replica in replicas:
            replica.dispose()

    assert len(won) == 1
    record = claims.get("hygiene", "slot")
    assert record is not None
    assert (record.holder, record.attempts) == (won[0].holder, 2)


def test_renewing_keeps_a_live_claim_from_being_taken_over(claims: JobClaims, clock: FixedClock) -> None:
    claim = claims.claim("hygiene", "slot", holder="a", lease=LEASE)
    assert claim is not None

    for _ in range(4):  # an hour of work, renewed every ten minutes
        clock.advance(minutes=10)
        renewed = claims.renew(claim)
        assert renewed is not None
        assert renewed.lease_until == clock.now() + LEASE
        assert claims.claim("hygiene", "slot", holder="b", lease=LEASE) is None


def test_a_failed_slot_is_retried_after_the_delay_until_attempts_run_out(
    claims: JobClaims, clock: FixedClock
) -> None:
    claim = claims.claim("hygiene", "slot", holder="a", lease=LEASE)
    holders = []
    while claim is not None:
        holders.append(claim.holder)
        assert claims.fail(claim, f"CRMError: attempt {claim.attempt}")
        assert claims.claim("hygiene", "slot", holder="early", lease=LEASE) is None
        clock.advance(minutes=5, seconds=1)
        claim = claims.claim("hygiene", "slot", holder=f"retry{len(holders)}", lease=LEASE)

    assert holders == ["a", "retry1", "retry2"]
    assert len(holders) == MAX_ATTEMPTS
    record = claims.get("hygiene", "slot")
    assert record is not None
    assert (record.status, record.attempts, record.error) == ("failed", 3, "CRMError: attempt 3")


def test_a_dead_holder_counts_as_an_attempt(claims: JobClaims, clock: FixedClock) -> None:
    """A job that kills its process every time is not restarted forever."""
    won = []
    for n in range(5):
        claim = claims.claim("hygiene", "slot", holder=f"crash{n}", lease=LEASE)
        if claim is not None:
            won.append(claim.attempt)
        clock.advance(minutes=16)  # the holder "dies": no renew, no finish

    assert won == [1, 2, 3]


def test_only_the_holder_can_finish_or_fail(claims: JobClaims) -> None:
    claim = claims.claim("hygiene", "slot", holder="a", lease=LEASE)
    assert claim is not None
    impostor = Claim("hygiene", "slot", "b", claim.attempt, claim.lease, claim.lease_until)

    assert not claims.finish(impostor, {})
    assert not claims.fail(impostor, "no")
    assert claims.fail(claim, "x" * 5000)
    assert not claims.finish(claim, {})  # settled already

    record = claims.get("hygiene", "slot")
    assert record is not None
    assert record.status == "failed"
    assert record.error is not None
    assert len(record.error) == 2000


def test_takeable_lists_dead_and_due_slots_of_the_named_jobs(claims: JobClaims, clock: FixedClock) -> None:
    old = claims.claim("hygiene", "old", holder="dead", lease=LEASE)
    clock.advance(days=2)
    dead = claims.claim("hygiene", "dead", holder="dead", lease=LEASE)
    failed = claims.claim("enrichment", "failed", holder="a", lease=LEASE)
    done = claims.claim("enrichment", "done", holder="a", lease=LEASE)
    other = claims.claim("other", "dead", holder="dead", lease=LEASE)
    alive = claims.claim("hygiene", "alive", holder="a", lease=timedelta(hours=2))
    assert None not in (old, dead, failed, done, other, alive)
    assert failed is not None
    assert done is not None
    claims.fail(failed, "boom")
    claims.finish(done, {})

    assert claims.takeable(["hygiene", "enrichment"], within=timedelta(days=1)) == []
    clock.advance(minutes=16)

    # Oldest claim first, then by job and key; the slot from two days ago is past the horizon.
    assert claims.takeable(["hygiene", "enrichment"], within=timedelta(days=1)) == [
        ("enrichment", "failed"),
        ("hygiene", "dead"),
    ]


def test_pruning_deletes_only_old_settled_slots(claims: JobClaims, clock: FixedClock) -> None:
    lease = timedelta(minutes=5)
    done = claims.claim("hygiene", "old-done", holder="a", lease=lease)
    assert done is not None
    claims.finish(done, {})
    running = claims.claim("hygiene", "old-running", holder="a", lease=lease)
    assert running is not None
    clock.advance(days=31)
    recent = claims.claim("hygiene", "recent-done", holder="a", lease=lease)
    assert recent is not None
    claims.finish(recent, {})

    assert claims.prune(keep_for=timedelta(days=30)) == 1

    assert claims.get("hygiene", "old-done") is None
    assert claims.get("hygiene", "old-running") is not None  # a dead holder's slot stays for the rescue
    assert claims.get("hygiene", "recent-done") is not None
