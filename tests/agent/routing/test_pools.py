"""The pool ledger: smooth weighted round-robin, persisted, fair under concurrent routings."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from agent.models import Record
from agent.routing import RoutingService
from agent.routing.pools import Candidate, PoolLedger
from agent.store.rows import RoutingPoolRow
from tests.agent.routing.support import routing_service
from tests.support.fakes import T0
from tests.support.stack import Stack

ALWAYS = 'hours: "00:00-24:00", days: [mon, tue, wed, thu, fri, sat, sun]'
WEIGHTS = {"W1": 5, "W2": 4, "W3": 3, "W4": 2, "W5": 1}
MEMBERS = "".join(f"      - {{owner: {o}, weight: {w}, {ALWAYS}}}\n" for o, w in WEIGHTS.items())
POOL_YAML = f"""
timezone: UTC
rules:
  - name: everyone
    then: {{pool: team}}
  - name: catch-all
    then: {{queue: triage}}
pools:
  team:
    members:
{MEMBERS}
queues:
  triage: {{channel: "#triage"}}
"""


def _picks(ledger: PoolLedger, candidates: list[Candidate], n: int, pool: str = "p") -> str:
    return "".join(ledger.pick(pool, candidates, T0).owner_id for _ in range(n))


def _within_one(counts: Counter[str], weights: dict[str, int], total: int) -> bool:
    whole = sum(weights.values())
    return all(abs(counts[o] - total * w / whole) <= 1 for o, w in weights.items())


def test_weights_three_to_one_are_spread_not_clumped(stack: Stack) -> None:
    ledger = PoolLedger(stack.services.database)
    sequence = _picks(ledger, [Candidate("a", 3), Candidate("b", 1)], 12)
    assert sequence == "aaba" * 3  # b's turns are spread out, never "aaab"


def test_every_prefix_stays_within_one_lead_of_the_weights(stack: Stack) -> None:
    ledger = PoolLedger(stack.services.database)
    weights = {"a": 5, "b": 3, "c": 2}
    candidates = [Candidate(o, w) for o, w in weights.items()]
    counts: Counter[str] = Counter()
    for n in range(1, 41):
        counts[ledger.pick("p", candidates, T0).owner_id] += 1
        assert _within_one(counts, weights, n), (n, counts)
    assert counts == Counter({"a": 20, "b": 12, "c": 8})
    state = ledger.state("p")
    assert {o: picks for o, (_credit, picks) in state.items()} == {"a": 20, "b": 12, "c": 8}
    assert sum(credit for credit, _ in state.values()) == 0  # credits always sum to zero


def test_an_unavailable_member_neither_gains_nor_pays(stack: Stack) -> None:
    ledger = PoolLedger(stack.services.database)
    everyone = [Candidate("a", 1), Candidate("b", 1), Candidate("c", 1)]
    _picks(ledger, everyone, 4)
    b_before = ledger.state("p")["b"]
    away = _picks(ledger, [Candidate("a", 1), Candidate("c", 1)], 6)
    assert "b" not in away
    assert _within_one(Counter(away), {"a": 1, "c": 1}, 6)
    assert ledger.state("p")["b"] == b_before  # b's credit and picks untouched while away
    back = _picks(ledger, everyone, 6)
    assert back.count("b") <= 3
    assert "bb" not in back
    assert _within_one(Counter(back), {"a": 1, "b": 1, "c": 1}, 6)


def test_a_dry_run_gives_the_next_pick_and_writes_nothing(stack: Stack) -> None:
    database = stack.services.database
    ledger = PoolLedger(database)
    candidates = [Candidate("a", 2), Candidate("b", 1)]
    first = ledger.pick("p", candidates, T0, dry_run=True)
    assert ledger.state("p") == {}
    with database.reading() as session:
        assert session.scalars(select(RoutingPoolRow)).all() == []
    _picks(ledger, candidates, 2)
    state = ledger.state("p")
    preview = ledger.pick("p", candidates, T0, dry_run=True)
    assert ledger.state("p") == state
    real = ledger.pick("p", candidates, T0)
    assert (first.owner_id, preview.owner_id) == ("a", real.owner_id)
    assert preview.credits == real.credits
    assert preview.assigned == real.assigned


def test_the_pick_reports_credits_before_and_totals_after(stack: Stack) -> None:
    ledger = PoolLedger(stack.services.database)
    first = ledger.pick("p", [Candidate("a", 3), Candidate("b", 1)], T0)
    assert first.credits == {"a": 0.0, "b": 0.0}
    assert first.assigned == {"a": 1, "b": 0}
    second = ledger.pick("p", [Candidate("a", 3), Candidate("b", 1)], T0)
    assert second.credits == {"a": -1.0, "b": 1.0}
    assert second.assigned == {"a": 2, "b": 0}


def test_pools_keep_separate_state(stack: Stack) -> None:
    ledger = PoolLedger(stack.services.database)
    assert _picks(ledger, [Candidate("a", 1), Candidate("b", 1)], 3, pool="p") == "aba"
    assert _picks(ledger, [Candidate("a", 1), Candidate("b", 1)], 1, pool="q") == "a"


def _pool_service(stack: Stack, tmp_path: Path) -> RoutingService:
    for owner in WEIGHTS:
        stack.owner(owner)
    return routing_service(stack, POOL_YAML, tmp_path)


def test_a_thousand_concurrent_routings_land_within_one_of_the_weights(stack: Stack, tmp_path: Path) -> None:
    """The issue's must-show: on PostgreSQL (and SQLite), 1,000 routings at once from 16 threads."""
    service = _pool_service(stack, tmp_path)
    created = stack.crm.create_records(
        Record(
            object_type="lead",
            id=f"LC{n:05d}",
            version="1",
            fields={"email": f"lead{n}@corp{n}.example", "status": "New"},
            created_at=T0,
            updated_at=T0,
        )
        for n in range(1000)
    )
    assert created == 1000
    leads = list(stack.crm.iter_records("lead"))

    def route(index: int) -> str:
        decision = service.router.decide(leads[index], requested_by="bench")
        assert decision.placement.pool == "team"
        assert decision.chosen is not None
        return decision.chosen.id

    with ThreadPoolExecutor(max_workers=16) as pool:
        chosen = list(pool.map(route, range(1000)))

    counts = Counter(chosen)
    assert sum(counts.values()) == 1000
    assert _within_one(counts, WEIGHTS, 1000), counts
    ledger = PoolLedger(stack.services.database)
    assert {o: picks for o, (_c, picks) in ledger.state("team").items()} == dict(counts)
    with stack.services.database.reading() as session:
        assert session.get(RoutingPoolRow, "team").picks == 1000  # type: ignore[union-attr]
