"""Candidate pairs: only records sharing a blocking key are compared.

Several keys are used so that a typo in one field still leaves another key
intact. A block bigger than ``max_block_size`` is skipped and reported rather
than compared all-to-all: a key shared by hundreds of records (a placeholder
date, a switchboard phone) says nothing about identity and would cost n^2.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from agent.matching.models import BlockingRule, MatchConfig
from agent.matching.prepare import Prepared, soundex

Pair = tuple[int, int]
Blocks = dict[str, list[int]]
"""Blocking key -> indices of the records sharing it."""


@dataclass(frozen=True, slots=True)
class Candidates:
    pairs: frozenset[Pair]
    skipped_blocks: tuple[str, ...]


def blocking_key(record: Prepared, rule: BlockingRule, config: MatchConfig) -> str | None:
    """The record's key under ``rule``, or ``None`` when any part is missing."""
    pieces: list[str] = []
    for part in rule.parts:
        name, _, transform = part.partition(":")
        value = _names_sorted(record, config) if name == "names" else record.get(name)
        if not value:
            return None
        if transform == "initial":
            value = value[0]
        elif transform == "prefix3":
            value = value[:3]
        elif transform == "phonetic":
            value = soundex(value)
        elif transform == "year":
            value = value[:4]
        elif transform == "last7":
            value = value[-7:] if len(value) >= 7 else ""
        if not value:
            return None
        pieces.append(value)
    return "|".join(pieces)


def dedupe_candidates(records: Sequence[Prepared], config: MatchConfig) -> Candidates:
    """Pairs ``(i, j)`` with ``i < j`` that share at least one blocking key."""
    pairs: set[Pair] = set()
    skipped: list[str] = []
    for rule in config.blocking:
        for key, members in _blocks(records, rule, config).items():
            if len(members) > config.max_block_size:
                skipped.append(f"{rule.name}={key}")
                continue
            pairs.update(_within(members))
    return Candidates(frozenset(pairs), tuple(skipped))


def link_candidates(
    left: Sequence[Prepared],
    right: Sequence[Prepared],
    config: MatchConfig,
    right_blocks: Sequence[Blocks] | None = None,
) -> Candidates:
    """Pairs ``(i, j)`` (``i`` in left, ``j`` in right) that share at least one blocking key.

    ``right_blocks``: :func:`blocks_by_rule` of ``right``, when the caller links many
    left sides against one right side and blocks it once.
    """
    pairs: set[Pair] = set()
    skipped: list[str] = []
    blocked = right_blocks if right_blocks is not None else blocks_by_rule(right, config)
    for rule, right_blocks_of_rule in zip(config.blocking, blocked, strict=True):
        left_blocks = _blocks(left, rule, config)
        for key, members in left_blocks.items():
            others = right_blocks_of_rule.get(key)
            if not others:
                continue
            if len(members) + len(others) > config.max_block_size:
                skipped.append(f"{rule.name}={key}")
                continue
            pairs.update((i, j) for i in members for j in others)
    return Candidates(frozenset(pairs), tuple(skipped))


def blocks_by_rule(records: Sequence[Prepared], config: MatchConfig) -> list[Blocks]:
    """Each blocking rule's key -> record indices, in ``config.blocking`` order."""
    return [_blocks(records, rule, config) for rule in config.blocking]


def _blocks(records: Sequence[Prepared], rule: BlockingRule, config: MatchConfig) -> Blocks:
    blocks: Blocks = defaultdict(list)
    for index, record in enumerate(records):
        key = blocking_key(record, rule, config)
        if key is not None:
            blocks[key].append(index)
    return blocks


def _within(members: list[int]) -> Iterator[Pair]:
    for position, i in enumerate(members):
        for j in members[position + 1 :]:
            yield (i, j)


def _names_sorted(record: Prepared, config: MatchConfig) -> str | None:
    names = [record.get(s.name) for s in config.fields if s.kind in ("given_name", "surname")]
    present = sorted(name for name in names if name)
    return " ".join(present) if len(present) == 2 else None
