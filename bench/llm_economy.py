"""Model calls and tokens per 1,000 seeded records, against the targets, in one run.

    .venv/bin/python bench/llm_economy.py [--records 1000] [--seed 7] [--odd-titles 0.05]

Seeds the embedded CRM (SQLite, in a temporary directory), gives a share of the
people job titles the keyword table cannot place (the sample's own titles are
all placed by the table), and runs one hygiene pass with the Claude planner on
the real anthropic client against a local fake Messages API (127.0.0.1) that
answers every case and records every request. Tokens are the fake's estimate
(four characters of JSON a token, prompt cache keyed on system prompt + tools),
so they show how big the prompts are, not a bill.

Targets: at most 1 model call per 25 records that need judgement, and no call
(no record sent) for the records the rules settle.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from agent.crm.seed import seed_crm  # noqa: E402
from agent.planner.base import snapshot_from  # noqa: E402
from agent.planner.cases import reserved_records  # noqa: E402
from agent.planner.fuzzy import candidate_pairs  # noqa: E402
from agent.planner.titles import classify_title, needs_title_enrichment  # noqa: E402
from bot.container import build_services  # noqa: E402
from bot.settings import DEFAULT_MODEL, Settings  # noqa: E402
from tests.support.fake_anthropic import FakeAnthropic, FakeRequest, Turn, tool_use, turn  # noqa: E402

ODD_TITLES = (
    "Rainmaker",
    "Chief Happiness Officer",
    "Growth Ninja",
    "Evangelist",
    "Storyteller in Residence",
)


def judge(request: FakeRequest) -> Turn:
    """A model that answers every case of the batch in one reply."""
    calls, skipped = [], []
    for case in request.data_blocks()[0]["cases"]:
        if case["task"] == "possible_duplicate" and case["signals"]["similarity"] >= 0.9:
            refs = [{"record_id": r["id"], "version": r["version"]} for r in case["records"]]
            calls.append(
                tool_use(
                    "propose_merge",
                    {"object_type": "lead", "records": refs, "survivor_id": refs[0]["record_id"],
                     "rationale": "Same person: one typo, same company domain.", "confidence": 0.9},
                )
            )  # fmt: skip
        elif case["task"] == "job_title":
            record = case["record"]
            changes = {
                "job_function": "other",
                "seniority": case.get("table_hint", {}).get("seniority", "manager"),
            }
            target = {"record_id": record["id"], "version": record["version"], "changes": changes}
            calls.append(
                tool_use(
                    "propose_enrich_data",
                    {
                        "object_type": case["object_type"],
                        "targets": [target],
                        "rationale": "Read from the title.",
                    },
                )
            )
        else:
            skipped.append(case["case"])
    if skipped:
        calls.append(tool_use("skip_cases", {"case_ids": skipped, "reason": "not sure"}))
    return turn(*calls)


def plant_odd_titles(services: Any, share: float, seed: int) -> int:
    rng = random.Random(seed)
    people = [*services.crm.iter_records("lead"), *services.crm.iter_records("contact")]
    chosen = rng.sample(people, round(share * len(people)))
    for n, record in enumerate(chosen):
        services.crm.update(
            record.object_type,
            record.id,
            {"title": rng.choice(ODD_TITLES)},
            expected_version=record.version,
            idempotency_key=f"odd-title-{n}",
        )
    return len(chosen)


def ids_sent(requests: list[FakeRequest]) -> set[str]:
    """Every record id inside a data block of a user turn (cases and tool results) sent to the model."""
    seen: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("id"), str):
                seen.add(value["id"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for request in requests:
        for message in request.messages:
            if message["role"] != "user":
                continue
            content = message["content"]
            texts = [content] if isinstance(content, str) else [str(b.get("content", "")) for b in content]
            for text in texts:
                for chunk in text.split("<crm_data>")[1:]:
                    walk(json.loads(chunk.split("</crm_data>")[0]))
    return seen


def needing_judgement(services: Any) -> set[str]:
    """Records the rules cannot settle, by the rules' own functions: fuzzy pairs, unplaceable titles."""
    snapshot = snapshot_from(services.crm)
    reserved = reserved_records(snapshot)
    ids = {rid for pair in candidate_pairs(snapshot.leads, reserved) for rid in pair.record_ids}
    for record in [*snapshot.leads, *snapshot.contacts]:
        if (record.object_type, record.id) in reserved or not needs_title_enrichment(record):
            continue
        if not classify_title(str(record.fields["title"])).complete:
            ids.add(record.id)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--odd-titles", type=float, default=0.05, help="Share of people given unplaceable titles."
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir, FakeAnthropic(default=judge) as fake:
        settings = Settings(
            DATABASE_URL=f"sqlite:///{workdir}/bench.db",
            ANTHROPIC_API_KEY=SecretStr("sk-bench"),
            REVGATE_ANTHROPIC_URL=fake.base_url,
        )
        services = build_services(settings)
        try:
            seeded = seed_crm(services.crm, records=args.records, seed=args.seed, now=services.clock.now())
            odd = plant_odd_titles(services, args.odd_titles, args.seed)
            judgement = needing_judgement(services)
            started = time.perf_counter()
            report = services.runner.run(services.planner("claude"), trigger="bench")
            seconds = time.perf_counter() - started
        finally:
            services.close()

    stats = report.planner_stats
    sent = ids_sent(fake.requests)
    settled_sent = sent - judgement
    calls = stats["calls"]
    per_25 = calls / len(judgement) * 25 if judgement else 0.0
    scale = 1000 / seeded.records_total
    # With fewer than 25 such records one call is already "more than 1 per 25": the
    # target is read as at most one call per started group of 25.
    allowed = max(1, math.ceil(len(judgement) / 25)) if judgement else 0
    ok = "OK" if calls <= allowed else "MISSED"
    print(
        f"llm_economy: {seeded.records_total:,} seeded records (seed {args.seed}), {odd} odd titles planted,"
    )
    print(f"  model {DEFAULT_MODEL} on a fake Messages API at 127.0.0.1; run took {seconds:.1f}s")
    print(f"records that need judgement (rules cannot settle): {len(judgement)} of {seeded.records_total:,}, "
          f"in {stats['cases']} cases, {stats['batches']} batch(es)")  # fmt: skip
    print(f"model calls: {calls} -> {per_25:.2f} per 25 records that need judgement   "
          f"target <= 1 per 25 (<= {allowed} here)   {ok}")  # fmt: skip
    print(f"records sent to the model: {len(sent)}; of them settled by rules: {len(settled_sent)}   "
          f"target 0   {'OK' if not settled_sent else 'MISSED'}")  # fmt: skip
    print(
        f"tokens per 1,000 records: input {stats['input_tokens'] * scale:,.0f}, "
        f"cache write {stats['cache_creation_input_tokens'] * scale:,.0f}, "
        f"cache read {stats['cache_read_input_tokens'] * scale:,.0f}, "
        f"output {stats['output_tokens'] * scale:,.0f}; "
        f"estimated ${stats['cost_usd'] * scale:.4f} per 1,000 records"
    )
    print(f"model proposals: {stats['proposals']} (tool calls {stats['tool_calls']}, "
          f"errors {stats['tool_errors']}); decided {stats['decided']} of {stats['cases']} cases; "
          f"fallback: {stats['fallback']}")  # fmt: skip
    print(f"requests recorded by the fake: {len(fake.requests)}")


if __name__ == "__main__":
    main()
