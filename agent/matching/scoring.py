"""A Fellegi-Sunter model whose weights are estimated from the data itself.

For every field level the model holds ``m`` (how often true duplicates agree
this way) and ``u`` (how often unrelated records do); the level's weight is
``log2(m / u)`` and a pair's score is the prior log-odds plus the sum of its
weights. No labels are needed:

- ``u`` of the ``exact`` level is computed exactly from value frequencies
  (the chance two random records share a value is the sum of squared shares);
  the other levels' ``u`` come from a seeded sample of random pairs.
- ``m`` and the prior come from expectation maximisation over the blocked
  candidate pairs with ``u`` held fixed (the approach splink documents too).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.matching.compare import Comparison
from agent.matching.models import LEVELS, FieldEvidence, FieldKind, Level, MatchConfig
from agent.matching.prepare import Prepared

_M_START: dict[Level, float] = {"exact": 0.85, "close": 0.08, "similar": 0.04, "different": 0.03}
_FLOOR = 1e-6
# Chance agreement of unrelated records per kind (exact, close, similar, different): a
# prior that small runs lean on and large runs wash out (see _U_PSEUDO_PAIRS).
_U_DEFAULT: dict[FieldKind, tuple[float, float, float, float]] = {
    "given_name": (0.01, 0.01, 0.03, 0.95),
    "surname": (0.005, 0.005, 0.02, 0.97),
    "company": (0.002, 0.003, 0.01, 0.985),
    "date": (0.0003, 0.003, 0.03, 0.9667),
    "street_number": (0.01, 0.03, 0.001, 0.959),
    "address": (0.001, 0.002, 0.01, 0.987),
    "suburb": (0.005, 0.005, 0.02, 0.97),
    "postcode": (0.003, 0.02, 0.001, 0.976),
    "state": (0.2, 0.01, 0.01, 0.78),
    "phone": (0.0001, 0.0005, 0.001, 0.9984),
    "email": (0.00001, 0.0001, 0.001, 0.99889),
    "text": (0.01, 0.01, 0.03, 0.95),
}
_U_PSEUDO_PAIRS = 1_000
_M_PSEUDO_MATCHES = 100.0


@dataclass(frozen=True, slots=True)
class Model:
    """Estimated weights; :meth:`score` turns a comparison into log2 odds."""

    fields: tuple[str, ...]
    weights: tuple[dict[Level, float], ...]
    prior: float
    """log2 odds that a candidate pair is a match, before looking at any field."""

    def score(self, comparison: Comparison) -> float:
        total = self.prior
        for weights, level in zip(self.weights, comparison, strict=True):
            total += weights.get(level, 0.0)
        return total

    def evidence(self, comparison: Comparison, left: Prepared, right: Prepared) -> tuple[FieldEvidence, ...]:
        return tuple(
            FieldEvidence(name, left.get(name), right.get(name), level, round(weights.get(level, 0.0), 2))
            for name, weights, level in zip(self.fields, self.weights, comparison, strict=True)
        )

    def as_table(self) -> dict[str, dict[Level, float]]:
        return {name: dict(weights) for name, weights in zip(self.fields, self.weights, strict=True)}


def probability(score: float) -> float:
    """The match probability for log2 odds ``score``."""
    if score > 60:
        return 1.0
    odds: float = 2.0**score
    return odds / (1.0 + odds)


def estimate_model(
    candidates: Sequence[Comparison],
    random_comparisons: Sequence[Comparison],
    exact_u: Sequence[float],
    config: MatchConfig,
) -> Model:
    """Estimate ``u`` (random pairs + exact frequencies), then ``m`` and the prior by EM."""
    names = tuple(spec.name for spec in config.fields)
    u = [
        _u_levels(random_comparisons, index, exact_u[index], spec.kind)
        for index, spec in enumerate(config.fields)
    ]
    patterns = Counter(candidates)
    m = [dict(_M_START) for _ in names]
    prior = 0.1
    for _ in range(config.em_iterations):
        prior, m = _em_step(patterns, m, u, prior)
    weights = tuple(
        {level: math.log2(max(m[i][level], _FLOOR) / max(u[i][level], _FLOOR)) for level in LEVELS}
        for i in range(len(names))
    )
    prior = min(max(prior, _FLOOR), 1 - _FLOOR)
    return Model(names, weights, math.log2(prior / (1 - prior)))


def exact_agreement_rates(
    records: Sequence[Prepared], others: Sequence[Prepared], names: Sequence[str], *, same: bool
) -> list[float]:
    """Per field: the chance a random pair (one from each side, two different records
    when ``same``) shares its exact value."""
    rates = []
    for name in names:
        left = Counter(r[name] for r in records if name in r)
        right = left if same else Counter(r[name] for r in others if name in r)
        n_left, n_right = sum(left.values()), sum(right.values())
        if same:
            total = n_left * (n_left - 1)
            shared = sum(count * (count - 1) for count in left.values())
        else:
            total = n_left * n_right
            shared = sum(count * right[value] for value, count in left.items())
        rates.append(shared / total if total else 0.0)
    return rates


def random_pairs(
    size_left: int, size_right: int, config: MatchConfig, *, same: bool
) -> list[tuple[int, int]]:
    """Random record pairs (``i != j`` when deduping one list): all of them when there
    are at most ``u_sample_pairs``, else a seeded sample of that many."""
    total = size_left * (size_left - 1) // 2 if same else size_left * size_right
    if total <= config.u_sample_pairs:
        if same:
            return [(i, j) for i in range(size_left) for j in range(i + 1, size_left)]
        return [(i, j) for i in range(size_left) for j in range(size_right)]
    rng = random.Random(config.seed)
    pairs: list[tuple[int, int]] = []
    for _ in range(config.u_sample_pairs):
        i, j = rng.randrange(size_left), rng.randrange(size_right)
        if same and i == j:
            continue
        pairs.append((i, j))
    return pairs


def compare_sample(
    pairs: Sequence[tuple[int, int]],
    left: Sequence[Prepared],
    right: Sequence[Prepared],
    comparer: Callable[[Prepared, Prepared], Comparison],
) -> list[Comparison]:
    return [comparer(left[i], right[j]) for i, j in pairs]


def _u_levels(
    comparisons: Sequence[Comparison], index: int, exact_rate: float, kind: FieldKind
) -> dict[Level, float]:
    """Observed chance agreement, shrunk toward the kind's default by pseudo-pairs."""
    default = dict(zip(LEVELS, _U_DEFAULT[kind], strict=True))
    counts = Counter(c[index] for c in comparisons if c[index] != "missing")
    seen = sum(counts.values())
    if seen == 0:
        return default
    inexact = sum(counts[level] for level in LEVELS if level != "exact")
    observed: dict[Level, float] = {"exact": exact_rate}
    for level in ("close", "similar", "different"):
        observed[level] = (1.0 - exact_rate) * counts[level] / inexact if inexact else 0.0
    share = seen / (seen + _U_PSEUDO_PAIRS)
    return {level: share * observed[level] + (1 - share) * default[level] for level in LEVELS}


def _em_step(
    patterns: Counter[Comparison],
    m: list[dict[Level, float]],
    u: list[dict[Level, float]],
    prior: float,
) -> tuple[float, list[dict[Level, float]]]:
    log_prior = math.log(prior / (1 - prior))
    tallies: list[dict[Level, float]] = [dict.fromkeys(LEVELS, 0.0) for _ in m]
    expected_matches = 0.0
    total = 0
    for pattern, count in patterns.items():
        log_odds = log_prior
        for i, level in enumerate(pattern):
            if level != "missing":
                log_odds += math.log(max(m[i][level], _FLOOR) / u[i][level])
        posterior = 1.0 / (1.0 + math.exp(-log_odds)) if log_odds > -700 else 0.0
        weight = posterior * count
        expected_matches += weight
        total += count
        for i, level in enumerate(pattern):
            if level != "missing":
                tallies[i][level] += weight
    new_m = []
    for tally in tallies:
        # Pseudo-matches at the starting values keep small runs from degenerate m (0 or 1).
        seen = sum(tally.values()) + _M_PSEUDO_MATCHES
        new_m.append({level: (tally[level] + _M_PSEUDO_MATCHES * _M_START[level]) / seen for level in LEVELS})
    # Pseudo-pairs at a 5% match rate keep a run with three candidates from a prior near 1.
    new_prior = (expected_matches + _M_PSEUDO_MATCHES * 0.05) / (total + _M_PSEUDO_MATCHES)
    return new_prior, new_m
