"""Hygiene runs at scale: a full pass over 100k (or 1M) seeded records, then an incremental one.

    .venv/bin/python bench/hygiene_scale.py [--records 100000] [--changed 1000] [--dry-run]
        [--database sqlite|postgresql://...] [--block-size 50000]

Each step runs in its own child process, so its wall time and peak RSS (from
``os.wait4``'s rusage, ``ru_maxrss``) are its own:

1. seed: ``--records`` local-CRM records into a fresh database (a new SQLite file,
   or a scratch database created on the given PostgreSQL server and dropped afterwards), in blocks
   (:func:`agent.crm.seed.blocks.seed_in_blocks`);
2. full: ``Runner.run`` with the offline planner over every record (a real run
   unless ``--dry-run``: safe changes are written, the rest queued for approval);
3. touch: ``--changed`` leads get a new phone number through the CRM's versioned update;
4. incremental: ``Runner.run`` again, planning only over what changed since the full run.

Targets (issue 6): the full run in 60 s for 100k and 10 min for 1M on 2 cores, under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 11
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--database", default="sqlite", help="sqlite, or a postgresql:// URL to reuse")
    parser.add_argument("--block-size", type=int, default=50_000)
    parser.add_argument("--dry-run", action="store_true", help="plan and classify, write nothing")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args)))
        return
    with tempfile.TemporaryDirectory(prefix="revgate-scale-") as tmp:
        url = f"sqlite:///{tmp}/crm.db" if args.database == "sqlite" else _scratch_database(args.database)
        try:
            print(
                f"hygiene_scale: {args.records:,} records, {args.changed:,} changed, "
                f"{'dry run' if args.dry_run else 'real run'}, {url.split(':')[0]}, {os.cpu_count()} cpus"
            )
            for step in ("seed", "full", "touch", "incremental"):
                result, wall, peak_mb = _child(step, args, url, tmp)
                print(f"{step:<12} wall {wall:8.1f} s   peak RSS {peak_mb:7.0f} MB   {json.dumps(result)}")
        finally:
            if args.database != "sqlite":
                _drop_database(url)


def _child(step: str, args: argparse.Namespace, url: str, state: str) -> tuple[dict[str, Any], float, float]:
    command = [
        sys.executable,
        __file__,
        "--step",
        step,
        "--url",
        url,
        "--state",
        state,
        "--records",
        str(args.records),
        "--changed",
        str(args.changed),
        "--block-size",
        str(args.block_size),
        *(["--dry-run"] if args.dry_run else []),
    ]
    env = {**os.environ, "REVGATE_SCHEDULER": "false"}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, cwd=ROOT)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"step {step} failed with exit status {process.returncode}")
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    return json.loads(output.decode().strip().splitlines()[-1]), wall, peak_mb


def _step(step: str, args: argparse.Namespace) -> dict[str, Any]:
    from bot.container import build_services
    from bot.settings import Settings

    services = build_services(Settings(DATABASE_URL=args.url))
    try:
        if step == "seed":
            from agent.crm.seed.blocks import seed_in_blocks

            written = seed_in_blocks(
                services.crm, records=args.records, seed=SEED, now=NOW, block_size=args.block_size
            )
            return {"records": written}
        if step == "touch":
            return {"changed": _touch(services, args.changed)}
        planner = services.offline_planner()
        runner = services.runner
        if not hasattr(runner, "last_cursor"):  # before incremental runs existed: always full
            report = runner.run(planner, job="hygiene", trigger="bench", dry_run=args.dry_run)
            return {"proposals": len(report.outcomes), **_dispositions(report)}
        # A dry run leaves the job's cursor alone: the bench hands the full run's on itself.
        cursor_file = Path(args.state) / "cursor"
        since = None
        if step == "incremental":
            since = datetime.fromisoformat(cursor_file.read_text()) if args.dry_run else runner.last_cursor()
        report = runner.run(planner, job="hygiene", trigger="bench", dry_run=args.dry_run, since=since)
        if step == "full" and report.cursor is not None:
            cursor_file.write_text(report.cursor.isoformat())
        return {
            "read": report.records_read,
            "context": report.context_records,
            "proposals": len(report.outcomes),
            **_dispositions(report),
        }
    finally:
        services.close()


def _dispositions(report: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in report.outcomes:
        counts[outcome.disposition] = counts.get(outcome.disposition, 0) + 1
    return counts


def _touch(services: Any, changed: int) -> int:
    """Give ``changed`` leads, spread over the id range, a new phone number (a real versioned update)."""
    crm = services.crm
    total = crm.count("lead")
    step = max(1, total // max(1, changed))
    done = 0
    for n, lead in enumerate(crm.iter_records("lead", batch_size=5000)):
        if n % step or done >= changed:
            continue
        crm.update(
            "lead",
            lead.id,
            {"phone": f"+1 415 555 {done % 10_000:04d}"},
            expected_version=lead.version,
            idempotency_key=f"bench-touch-{lead.id}",
        )
        done += 1
    return done


def _scratch_database(server_url: str) -> str:
    """A new, empty database on the server of ``server_url`` (the given database is left alone)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from agent.store.database import normalise_url, upgrade

    name = f"revgate_scale_{os.getpid()}"
    engine = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def _drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from agent.store.database import normalise_url

    scratch = make_url(url)
    engine = create_engine(
        normalise_url(scratch.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    engine.dispose()


if __name__ == "__main__":
    main()
