"""Likely duplicate people across a whole CRM, found without holding it in memory.

A run that reads the CRM in chunks cannot compare a chunk's people with the rest,
so the fuzzy duplicate check runs before the chunks, on groups this scan forms:

1. every person (lead or contact) gives a few cheap blocking keys, the ones
   :data:`agent.planner.fuzzy.PERSON_MATCH` blocks on (sorted names, a phonetic surname
   with the given name's initial, the company's first letters with the surname's initial),
   with the phone reduced to its last 9 digits (two numbers equal in E.164 are equal
   there too) and the normalised email (so a batch holds exact-email partners and can
   leave them to the exact-email check, as a whole-snapshot plan does);
   each key is kept as a stable 64-bit hash, so the index costs about 12 bytes per key;
2. records sharing a key with 2 to ``max_block`` members (the engine's own limit: a
   key shared by hundreds says nothing about identity) are joined into groups,
   smallest blocks first, and a join that would make a group bigger than
   ``max_group`` is skipped, so one common name cannot chain the CRM into one group;
3. in an incremental run, only blocks holding a record changed since the cursor join
   anybody, so a group is changed people and the people they share a key with.

Each group is then read back whole and fuzzy-matched on its own; the engine blocks
again inside it. Every candidate pair of step 2 that was joined lands in one group,
so the only pairs lost are those of skipped joins (recall, never precision).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator, Mapping

import numpy as np

from agent.matching.blocking import blocking_key
from agent.matching.prepare import normalize_value
from agent.models import FieldValue
from agent.normalize import normalize_email
from agent.planner.fuzzy import PERSON_MATCH

SCAN_FIELDS: tuple[str, ...] = ("first_name", "last_name", "company", "phone", "email")
"""The fields the scan reads of each person."""
_NAME_RULES = tuple(
    rule
    for rule in PERSON_MATCH.blocking
    if not any(part.partition(":")[0] in ("phone", "email") for part in rule.parts)
)
_KINDS = {spec.name: spec.kind for spec in PERSON_MATCH.fields}


def scan_keys(fields: Mapping[str, FieldValue]) -> list[str]:
    """The person's blocking keys, each prefixed by its rule (see the module docstring)."""
    prepared: dict[str, str] = {}
    for name in ("first_name", "last_name", "company"):
        raw = fields.get(name)
        value = normalize_value(raw, _KINDS[name]) if isinstance(raw, str) else None
        if value:
            prepared[name] = value
    keys = []
    for number, rule in enumerate(_NAME_RULES):
        value = blocking_key(prepared, rule, PERSON_MATCH)
        if value is not None:
            keys.append(f"{number}:{value}")
    email = fields.get("email")
    if isinstance(email, str) and (address := normalize_email(email)):
        keys.append(f"e:{address}")  # exact-email partners share a batch, so it can set them aside
    phone = fields.get("phone")
    if isinstance(phone, str):
        digits = "".join(ch for ch in phone if ch.isdigit())
        if len(digits) >= 7:
            keys.append(f"p:{digits[-9:]}")
    return keys


class DuplicateScan:
    """Collects people's keys (:meth:`add`), then gives the groups to match (:meth:`groups`)."""

    def __init__(self, *, max_block: int = PERSON_MATCH.max_block_size, max_group: int = 400) -> None:
        self.max_block = max_block
        self.max_group = max_group
        self._ids: list[str] = []
        self._changed = bytearray()
        self._hashes = array("q")
        self._rows = array("i")
        self.skipped_joins = 0
        """Joins left out because the group would have grown past ``max_group``."""

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, record_id: str, fields: Mapping[str, FieldValue], *, changed: bool = True) -> None:
        row = len(self._ids)
        self._ids.append(record_id)
        self._changed.append(1 if changed else 0)
        for key in scan_keys(fields):
            digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
            self._hashes.append(int.from_bytes(digest, "little", signed=True))
            self._rows.append(row)

    def groups(self) -> list[list[str]]:
        """Record ids of each group of two or more holding a changed record, by first id."""
        parent = list(range(len(self._ids)))
        size = [1] * len(self._ids)

        def root(row: int) -> int:
            while parent[row] != row:
                parent[row] = parent[parent[row]]
                row = parent[row]
            return row

        for members in self._blocks():
            if not any(self._changed[row] for row in members):
                continue  # incremental: pairs of unchanged people were judged by an earlier run
            for other in members[1:]:
                a, b = root(members[0]), root(other)
                if a == b:
                    continue
                if size[a] + size[b] > self.max_group:
                    self.skipped_joins += 1
                    continue
                if size[a] < size[b]:
                    a, b = b, a
                parent[b] = a
                size[a] += size[b]
        grouped: dict[int, list[int]] = {}
        for row in range(len(self._ids)):
            top = root(row)
            if size[top] > 1:
                grouped.setdefault(top, []).append(row)
        out = [
            sorted(self._ids[row] for row in rows)
            for rows in grouped.values()
            if any(self._changed[row] for row in rows)
        ]
        return sorted(out)

    def _blocks(self) -> Iterator[list[int]]:
        """The rows of each usable block, smallest blocks first (ties by key)."""
        if not self._hashes:
            return
        hashes = np.frombuffer(self._hashes, dtype=np.int64)
        rows = np.frombuffer(self._rows, dtype=np.int32)
        order = np.argsort(hashes, kind="stable")
        sorted_hashes = hashes[order]
        starts = np.flatnonzero(np.r_[True, sorted_hashes[1:] != sorted_hashes[:-1]])
        lengths = np.diff(np.r_[starts, len(sorted_hashes)])
        usable = np.flatnonzero((lengths >= 2) & (lengths <= self.max_block))
        for index in sorted(usable.tolist(), key=lambda i: (int(lengths[i]), int(sorted_hashes[starts[i]]))):
            start = int(starts[index])
            block = rows[order[start : start + int(lengths[index])]]
            members = sorted(set(block.tolist()))
            if len(members) > 1:
                yield members


def batches(groups: list[list[str]], size: int) -> Iterator[list[str]]:
    """The groups packed, whole, into batches of about ``size`` ids (a group is never split)."""
    batch: list[str] = []
    for group in groups:
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch
