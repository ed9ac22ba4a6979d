"""Routing throughput: decisions per second over 100k leads and 5k accounts, on one core.

    .venv/bin/python bench/routing.py [--leads 100000] [--accounts 5000] [--decisions N]
        [--database sqlite|postgresql://...] [--routing routing.yaml] [--profile]

1. seed: the sample CRM's generator (:mod:`agent.crm.seed`) drafts a CRM big enough for
   ``--leads`` leads; its owners, its first ``--accounts`` accounts and every lead are
   written (leads unowned and ``New``, as fresh inbound leads), into a new SQLite file or
   a scratch database on the given PostgreSQL server (dropped afterwards);
2. route: ``Router.decide`` for each lead in turn, one process, one thread, with the
   shipped ``routing.yaml`` (account-owner rule, fixed owner, pools, territories from YAML
   and CSV) and the clock fixed on a Tuesday at 16:00 UTC, when both teams work. Each
   pool pick is its own committed transaction (the round-robin state is persisted), as
   in production; the owner change itself is not submitted (that is the policy's and the
   CRM's cost, measured by the hygiene benchmarks);
3. dry run: the same over the same leads with ``dry_run=True`` (nothing written).

The rate counts only the ``decide`` calls (reading the leads is not included); the
account index and open-lead counts are built by the first decision, and that is
included. ``--profile`` prints the top of a cProfile of the routed pass.

Target (issue 7): at least 1,000 decisions per second on one core.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.store.scratch import create_scratch_database, drop_database  # noqa: E402

SEED = 11
SEEDED_AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ROUTED_AT = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # a Tuesday: New York, Chicago, LA and London work
TARGET = 1_000


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--decisions", type=int, help="route only this many leads (default: all)")
    parser.add_argument("--database", default="sqlite", help="sqlite, or a postgresql:// server URL")
    parser.add_argument("--routing", default=str(ROOT / "routing.yaml"))
    parser.add_argument("--profile", action="store_true", help="print a profile of the routed pass")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="revgate-routing-") as tmp:
        url = (
            f"sqlite:///{tmp}/crm.db"
            if args.database == "sqlite"
            else create_scratch_database(args.database, "revgate_routing")
        )
        try:
            _run(args, url)
        finally:
            if args.database != "sqlite":
                drop_database(url)


def _run(args: argparse.Namespace, url: str) -> None:
    from agent.routing import build_routing, load_routing
    from agent.routing.pools import PoolLedger
    from bot.container import build_services
    from bot.settings import Settings

    clock = _Clock(ROUTED_AT)
    counter = iter(range(1, 1 << 62))
    services = build_services(Settings(DATABASE_URL=url), clock=clock, new_id=lambda: f"b{next(counter):09d}")
    try:
        print(
            f"routing bench: {args.leads:,} leads, {args.accounts:,} accounts, {url.split(':')[0]}, "
            f"{os.cpu_count()} cpus (routing runs in one thread)"
        )
        started = time.perf_counter()
        accounts = _seed(services.crm, args.leads, args.accounts)
        seeded = time.perf_counter() - started
        print(f"seed        {seeded:8.1f} s   {args.leads:,} leads, {accounts:,} accounts")
        config, _warnings = load_routing(args.routing)
        total = min(args.decisions or args.leads, args.leads)
        figures: dict[str, float] = {}
        for label, dry_run in (("routed", False), ("dry run", True)):
            # A fresh service per pass: the first decision builds the account index again.
            service = build_routing(
                config,
                crm=services.crm,
                runner=services.runner,
                database=services.database,
                audit=services.audit,
                clock=clock,
                new_id=services.new_id,
            )
            profiler = cProfile.Profile() if args.profile and not dry_run else None
            rate, rules, outcome = _pass(service.router.decide, services.crm, total, dry_run, profiler)
            figures[label] = rate
            print(f"{label:<11} {total / rate:8.1f} s   {rate:8,.0f} decisions/s   rules {dict(rules)}")
            print(f"{'':<11} {'':>8}     {'':>8}               {dict(outcome)}")
            if profiler is not None:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
                print(out.getvalue())
        picks = sum(n for _c, n in PoolLedger(services.database).state("sales-emea").values())
        print(f"pool state  sales-emea picks persisted: {picks:,} (the dry run added none)")
        verdict = "meets" if min(figures.values()) >= TARGET else "MISSES"
        print(
            f"target      >= {TARGET:,} decisions/s on one core: routed {figures['routed']:,.0f}/s, "
            f"dry run {figures['dry run']:,.0f}/s: {verdict} the target"
        )
    finally:
        services.close()


def _pass(
    decide: Callable[..., Any],
    crm: Any,
    total: int,
    dry_run: bool,
    profiler: cProfile.Profile | None,
) -> tuple[float, Counter[str], Counter[str]]:
    rules: Counter[str] = Counter()
    outcome: Counter[str] = Counter()
    spent = 0.0
    for lead in _leads(crm, total):
        if profiler is not None:
            profiler.enable()
        began = time.perf_counter()
        decision = decide(lead, requested_by="bench", dry_run=dry_run)
        spent += time.perf_counter() - began
        if profiler is not None:
            profiler.disable()
        rules[decision.rule] += 1
        outcome["account matched" if decision.account.chosen else "no account"] += 1
        if decision.placement.skipped:
            outcome["members skipped"] += 1
        if decision.alert:
            outcome["alerts"] += 1
    return total / spent, rules, outcome


def _leads(crm: Any, total: int) -> Iterator[Any]:
    for n, lead in enumerate(crm.iter_records("lead", batch_size=5000)):
        if n >= total:
            return
        yield lead


def _seed(crm: Any, leads: int, accounts: int) -> int:
    """Owners, ``accounts`` accounts and ``leads`` unowned New leads from the sample generator."""
    from agent.crm.seed.generator import Generator

    data = Generator(SEED, SEEDED_AT).generate(-(-leads * 5 // 3))  # leads are 60 % of a seeded CRM
    for owner in data.owners:
        crm.create_owner(owner)
    kept = data.accounts[:accounts]
    crm.create_records(kept)
    fresh = (
        lead.model_copy(update={"owner_id": None, "fields": {**lead.fields, "status": "New"}})
        for lead in data.leads[:leads]
    )
    crm.create_records(fresh)
    return len(kept)


if __name__ == "__main__":
    main()
