"""The matching pipeline: normalise, exact keys, block, compare, score, cluster.

Precision first: a pair is matched by an exact key rule (all key fields equal and
no name disagreeing outright) or by the model when its posterior probability is
at least ``min_probability`` *and* it is identity-plausible (a personal identifier
agrees exactly, or a name agrees and the pair does not look like two members of
one household); dedupe groups never chain weak links (see
:mod:`agent.matching.cluster`). The model is fitted on each run's own data (see
:mod:`agent.matching.scoring`). Pure: no I/O, no clock, the only randomness is
seeded by the config.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import partial

from agent.matching.blocking import Candidates, Pair, blocks_by_rule, dedupe_candidates, link_candidates
from agent.matching.cluster import cluster
from agent.matching.compare import Comparison, compare, compare_values
from agent.matching.models import LEVELS, FieldSpec, Match, MatchConfig, MatchRule, MatchRun, Record
from agent.matching.prepare import Prepared, prepare_records
from agent.matching.scoring import (
    Model,
    compare_sample,
    estimate_model,
    exact_agreement_rates,
    probability,
    random_pairs,
)

_EXACT_KEY_SCORE = 60.0
_STRONG = ("exact", "close")


def find_duplicates(records: Sequence[Record], config: MatchConfig | None = None) -> list[Match]:
    """Every pair of records judged one entity (``left < right``), strongest first."""
    return list(dedupe(records, config or MatchConfig()).matches)


def link(left: Sequence[Record], right: Sequence[Record], config: MatchConfig | None = None) -> list[Match]:
    """Pairs ``(left index, right index)`` judged one entity, strongest first."""
    return list(link_run(left, right, config or MatchConfig()).matches)


def dedupe(records: Sequence[Record], config: MatchConfig) -> MatchRun:
    """:func:`find_duplicates` with the clusters and what the engine did."""
    prepared = prepare_records(records, config)
    candidates = dedupe_candidates(prepared, config)
    exact = _exact_pairs(prepared, prepared, config, same=True)
    scorer = _Scorer(prepared, prepared, config, sorted(candidates.pairs), same=True)
    edges = [(_EXACT_KEY_SCORE, i, j) for i, j in exact]
    edges += [(score, i, j) for (i, j), score in scorer.accepted() if (i, j) not in exact]

    def pair_score(i: int, j: int) -> float:
        # An exact key is decisive inside a group too; everything else is scored.
        return _EXACT_KEY_SCORE if (min(i, j), max(i, j)) in exact else scorer.pair_score(i, j)

    groups = cluster(edges, pair_score, config)
    direct: dict[Pair, MatchRule] = {
        (i, j): "exact_key" if (i, j) in exact else "model" for _s, i, j in edges
    }
    matches = [
        scorer.match(i, j, direct.get((i, j), "cluster"))
        for group in groups
        for position, i in enumerate(group)
        for j in group[position + 1 :]
    ]
    return MatchRun(
        matches=tuple(sorted(matches, key=lambda m: (-m.score, m.left, m.right))),
        clusters=tuple(groups),
        pairs_compared=len(candidates.pairs),
        skipped_blocks=candidates.skipped_blocks,
        weights=scorer.model.as_table(),
    )


def link_run(left: Sequence[Record], right: Sequence[Record], config: MatchConfig) -> MatchRun:
    """:func:`link` with what the engine did."""
    return Linker(right, config).run(left)


class Linker:
    """One right-hand side, normalised and blocked once, linked against any number of left sides.

    ``Linker(right, config).run(left)`` is :func:`link_run`; a caller that links many
    batches against the same records (leads in chunks against every account) saves
    preparing and blocking them for each batch. The model is fitted per ``run``.
    """

    def __init__(self, right: Sequence[Record], config: MatchConfig) -> None:
        self.config = config
        self._right = prepare_records(right, config)
        self._right_blocks = blocks_by_rule(self._right, config)
        self._right_keys = {key: _key_groups(self._right, key) for key in config.exact_keys}

    def __len__(self) -> int:
        return len(self._right)

    def run(self, left: Sequence[Record]) -> MatchRun:
        """Pairs ``(left index, right index)`` judged one entity, strongest first, and what was done."""
        config, prepared_right = self.config, self._right
        prepared_left = prepare_records(left, config)
        candidates = link_candidates(prepared_left, prepared_right, config, self._right_blocks)
        exact = _exact_pairs(prepared_left, prepared_right, config, same=False, right_keys=self._right_keys)
        scorer = _Scorer(prepared_left, prepared_right, config, sorted(candidates.pairs), same=False)
        return _assign(scorer, exact, candidates, config)


def _assign(scorer: _Scorer, exact: set[Pair], candidates: Candidates, config: MatchConfig) -> MatchRun:
    """The accepted link pairs, strongest first (one-to-one when the config says so)."""
    edges = [(_EXACT_KEY_SCORE, i, j) for i, j in exact]
    edges += [(score, i, j) for (i, j), score in scorer.accepted() if (i, j) not in exact]
    edges.sort(key=lambda edge: (-edge[0], edge[1], edge[2]))
    used_left: set[int] = set()
    used_right: set[int] = set()
    matches = []
    for _score, i, j in edges:
        if config.one_to_one and (i in used_left or j in used_right):
            continue  # greedy assignment: the strongest pair claims both records
        used_left.add(i)
        used_right.add(j)
        matches.append(scorer.match(i, j, "exact_key" if (i, j) in exact else "model"))
    return MatchRun(
        matches=tuple(matches),
        pairs_compared=len(candidates.pairs),
        skipped_blocks=candidates.skipped_blocks,
        weights=scorer.model.as_table(),
    )


class _Scorer:
    """Fits the model on one run's data and scores pairs of it, caching comparisons."""

    def __init__(
        self,
        left: Sequence[Prepared],
        right: Sequence[Prepared],
        config: MatchConfig,
        candidates: Sequence[Pair],
        *,
        same: bool,
    ) -> None:
        self._left = left
        self._right = right
        self._config = config
        self._compare = partial(compare, config=config)
        self._cache: dict[Pair, Comparison] = {
            pair: self._compare(left[pair[0]], right[pair[1]]) for pair in candidates
        }
        names = [spec.name for spec in config.fields]
        sample = random_pairs(len(left), len(right), config, same=same)
        self.model: Model = estimate_model(
            list(self._cache.values()),
            compare_sample(sample, left, right, self._compare),
            exact_agreement_rates(left, right, names, same=same),
            config,
        )
        self._name_fields = [
            index
            for index, spec in enumerate(config.fields)
            if spec.kind in ("given_name", "surname", "company")
        ]
        kinds = [spec.kind for spec in config.fields]
        self._given = kinds.index("given_name") if "given_name" in kinds else None
        self._surname = kinds.index("surname") if "surname" in kinds else None
        self._identifiers = [
            index for index, spec in enumerate(config.fields) if spec.kind in config.corroborating_kinds
        ]
        self._name_ok = set(LEVELS[: LEVELS.index(config.min_name_level) + 1])

    def comparison(self, i: int, j: int) -> Comparison:
        pair = (i, j)
        if pair not in self._cache:
            self._cache[pair] = self._compare(self._left[i], self._right[j])
        return self._cache[pair]

    def pair_score(self, i: int, j: int) -> float:
        return self.model.score(
            self.comparison(min(i, j), max(i, j)) if self._left is self._right else self.comparison(i, j)
        )

    def accepted(self) -> list[tuple[Pair, float]]:
        """Candidate pairs the model accepts: probable enough and identity-plausible.

        The score alone is not enough: fields like address and phone are shared by
        households and colleagues. A pair also needs a name to agree (and must not
        look like two members of one household), unless a personal identifier (birth
        date, email) agrees exactly.
        """
        kept = []
        for pair, comparison in self._cache.items():
            identified = any(comparison[index] == "exact" for index in self._identifiers)
            if not identified and not self._names_plausible(comparison):
                continue
            score = self.model.score(comparison)
            if probability(score) >= self._config.min_probability:
                kept.append((pair, score))
        return kept

    def _names_plausible(self, comparison: Comparison) -> bool:
        if not any(comparison[index] in self._name_ok for index in self._name_fields):
            return False
        if self._given is None or self._surname is None:
            return True
        # John and Mary Smith at one address with one phone: same surname, other given name.
        household = comparison[self._given] == "different" and comparison[self._surname] not in (
            "different",
            "missing",
        )
        return not household or any(comparison[index] in _STRONG for index in self._identifiers)

    def match(self, i: int, j: int, rule: MatchRule) -> Match:
        comparison = self.comparison(i, j)
        evidence = self.model.evidence(comparison, self._left[i], self._right[j])
        score = self.model.score(comparison)
        strongest = sorted((e for e in evidence if e.level != "missing"), key=lambda e: -abs(e.weight))[:3]
        detail = ", ".join(f"{e.field} {e.level} ({e.weight:+.1f})" for e in strongest)
        prefix = {"exact_key": "exact key", "model": "model", "cluster": "same group as its other members"}[
            rule
        ]
        return Match(
            i, j, round(score, 3), round(probability(score), 6), rule, f"{prefix}: {detail}", evidence
        )


def _exact_pairs(
    left: Sequence[Prepared],
    right: Sequence[Prepared],
    config: MatchConfig,
    *,
    same: bool,
    right_keys: dict[tuple[str, ...], dict[tuple[str, ...], list[int]]] | None = None,
) -> set[Pair]:
    """Pairs equal on every field of some exact key, unless a name disagrees outright."""
    pairs: set[Pair] = set()
    name_fields = [s for s in config.fields if s.kind in ("given_name", "surname", "company")]
    for key in config.exact_keys:
        left_groups = _key_groups(left, key)
        if same:
            right_groups = left_groups
        elif right_keys is not None:
            right_groups = right_keys[key]
        else:
            right_groups = _key_groups(right, key)
        for value, members in left_groups.items():
            others = right_groups.get(value, [])
            if len(members) * len(others) > config.max_block_size**2:
                continue
            for i in members:
                for j in others:
                    if (same and i >= j) or _names_contradict(left[i], right[j], name_fields):
                        continue
                    pairs.add((i, j))
    return pairs


def _key_groups(records: Sequence[Prepared], key: tuple[str, ...]) -> dict[tuple[str, ...], list[int]]:
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        values = tuple(record.get(name) or "" for name in key)
        if all(values):
            groups[values].append(index)
    return groups


def _names_contradict(a: Prepared, b: Prepared, name_fields: Sequence[FieldSpec]) -> bool:
    return any(compare_values(a.get(s.name), b.get(s.name), s.kind) == "different" for s in name_fields)
