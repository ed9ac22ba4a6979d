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
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.store.scratch import create_scratch_database, drop_database  # noqa: E402

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
        url = (
            f"sqlite:///{tmp}/crm.db"
            if args.database == "sqlite"
            else create_scratch_database(args.database, "revgate_scale")
        )
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
                drop_database(url)


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
    sampler = _TreeRSS(process.pid)
    sampler.start()
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    sampler.stop()
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"step {step} failed with exit status {process.returncode}")
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    result = json.loads(output.decode().strip().splitlines()[-1])
    # ru_maxrss is one process's peak: with planner workers, the sum over the process tree
    # (sampled every 0.2 s) is the figure the memory target is about.
    result["tree_peak_mb"] = round(sampler.peak_kb / 1024)
    return result, wall, peak_mb


class _TreeRSS(threading.Thread):
    """Samples the summed resident set of a process and its descendants (Linux ``/proc``)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(pid) for pid in _tree(self.pid)))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue  # gone meanwhile
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


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
            "worker_peak_mb": round(planner.pool_stats.worker_peak_kb / 1024),
            "worker_batches": planner.pool_stats.remote,
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


if __name__ == "__main__":
    main()
