"""Group matched pairs into entities without chaining weak links.

Plain transitive closure merges A and C because A~B and B~C, even when A and C
plainly contradict each other (one shared phone, one shared address). Here edges
are taken strongest first and two groups merge only if *every* cross pair still
scores at least ``cluster_floor_weight`` and the result stays under
``max_cluster_size`` (complete linkage with a floor).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agent.matching.models import MatchConfig


def cluster(
    edges: Sequence[tuple[float, int, int]],
    pair_score: Callable[[int, int], float],
    config: MatchConfig,
) -> list[tuple[int, ...]]:
    """Groups of two or more indices, each sorted, in order of their smallest member.

    ``edges`` are accepted pairs ``(score, i, j)``; ``pair_score`` scores any pair
    (it is asked only about cross pairs of two groups about to merge).
    """
    group_of: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    for _score, i, j in sorted(edges, key=lambda edge: (-edge[0], edge[1], edge[2])):
        a = members.get(group_of.get(i, i), [i])
        b = members.get(group_of.get(j, j), [j])
        if a is b or i in b:
            continue
        if len(a) + len(b) > config.max_cluster_size:
            continue
        if any(pair_score(x, y) < config.cluster_floor_weight for x in a for y in b):
            continue
        merged = a + b
        root = min(merged)
        for old in (group_of.get(i, i), group_of.get(j, j)):
            members.pop(old, None)
        members[root] = merged
        for index in merged:
            group_of[index] = root
    return sorted(tuple(sorted(group)) for group in members.values())
