"""Merge survivorship: which record survives a merge, and what its fields become.

Master selection (:func:`choose_master`): the most complete record (most non-blank
fields, the owner counted as one), then the oldest, then the smallest id. Complete
first because the master keeps its own values: the record that already holds the
most data loses the least when a duplicate disagrees with it.

Field plan (:func:`field_plan`): the master keeps every non-blank value it has; each
blank is filled from the most recently updated duplicate that has the field (ties
by id), so the fill is the freshest value known; a multi-value field (``;``-separated,
as HubSpot's multi-select properties are) becomes the union of every record's values.
Only fields that change are listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agent.models import OWNER_FIELD, FieldValue, Record

MULTI_VALUE_SEPARATOR = ";"


def completeness(record: Record) -> int:
    """How many fields (the owner included) hold a non-blank value."""
    filled = sum(1 for value in record.fields.values() if not is_blank(value))
    return filled + (0 if is_blank(record.owner_id) else 1)


def master_order(records: Iterable[Record]) -> list[Record]:
    """The records, master first: most complete, then oldest, then smallest id."""
    return sorted(records, key=lambda r: (-completeness(r), r.created_at, r.id))


def choose_master(records: Iterable[Record]) -> Record:
    """The record a merge keeps (see the module docstring for the rule)."""
    return master_order(records)[0]


def field_plan(
    master: Record,
    duplicates: Sequence[Record],
    *,
    skip: frozenset[str] = frozenset(),
    multi_value: frozenset[str] = frozenset(),
) -> dict[str, FieldValue]:
    """The master's fields that change in the merge, field name -> value after it.

    ``skip``: fields never filled (the email an exact-email merge matched on).
    ``multi_value``: fields whose values are unioned rather than filled.
    """
    donors = sorted(sorted(duplicates, key=lambda r: r.id), key=lambda r: r.updated_at, reverse=True)
    names = [*sorted({name for r in duplicates for name in r.fields} - skip - {OWNER_FIELD}), OWNER_FIELD]
    plan: dict[str, FieldValue] = {}
    for name in names:
        if name in multi_value:
            union = _union([master, *donors], name)
            if union != _text(master.get(name)):
                plan[name] = union
            continue
        if not is_blank(master.get(name)):
            continue
        value = next((d.get(name) for d in donors if not is_blank(d.get(name))), None)
        if value is not None:
            plan[name] = value
    return plan


def is_blank(value: FieldValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _union(records: Sequence[Record], name: str) -> str:
    """Every distinct value (case aside) in first-seen order, master's first."""
    seen: dict[str, str] = {}
    for record in records:
        for part in _text(record.get(name)).split(MULTI_VALUE_SEPARATOR):
            if part.strip():
                seen.setdefault(part.strip().casefold(), part.strip())
    return MULTI_VALUE_SEPARATOR.join(seen.values())


def _text(value: FieldValue) -> str:
    return value.strip() if isinstance(value, str) else ""
