from __future__ import annotations

from dataclasses import replace

from agent.matching import MatchConfig
from agent.matching.cluster import cluster


def _scores(table: dict[tuple[int, int], float]):  # type: ignore[no-untyped-def]
    return lambda i, j: table.get((min(i, j), max(i, j)), -10.0)


def test_a_chain_through_a_middle_record_is_not_merged() -> None:
    # A~B and B~C are strong, but A and C contradict each other.
    scores = {(0, 1): 20.0, (1, 2): 15.0, (0, 2): -8.0}
    edges = [(20.0, 0, 1), (15.0, 1, 2)]

    assert cluster(edges, _scores(scores), MatchConfig()) == [(0, 1)]


def test_a_consistent_group_is_merged_whole() -> None:
    scores = {(0, 1): 20.0, (1, 2): 15.0, (0, 2): 3.0, (3, 4): 12.0}
    edges = [(20.0, 0, 1), (15.0, 1, 2), (12.0, 3, 4)]

    assert cluster(edges, _scores(scores), MatchConfig()) == [(0, 1, 2), (3, 4)]


def test_groups_never_grow_past_the_size_cap() -> None:
    scores = {(i, j): 30.0 for i in range(6) for j in range(i + 1, 6)}
    edges = [(30.0, i, i + 1) for i in range(5)]

    groups = cluster(edges, _scores(scores), replace(MatchConfig(), max_cluster_size=3))

    assert all(len(group) <= 3 for group in groups)
    assert sum(len(group) for group in groups) == 6
