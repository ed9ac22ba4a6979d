"""The slice of SOQL the fake Salesforce answers: one object, ANDed comparisons, ORDER BY, LIMIT.

Written from the SOQL reference: string literals in single quotes with backslash escapes,
``null``, ``true``/``false``, numbers, date-time literals (``2026-11-24T09:00:00Z``) and date
literals; ``=`` on text compares case-insensitively, as Salesforce does. Anything else is a
``SoqlError`` (the server answers it with ``MALFORMED_QUERY``), so an adapter that starts
sending SOQL the fake does not understand fails loudly instead of getting a wrong answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

Row = Mapping[str, Any]

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<sobject>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>[\w\s,]+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    r"\s*(?P<field>\w+)\s*(?P<op>=|!=|>=|<=|>|<)\s*"
    r"(?P<literal>'(?:[^'\\]|\\.)*'|[\w.:+-]+)\s*(?:\bAND\b|$)",
    re.IGNORECASE | re.DOTALL,
)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "'": "'", '"': '"', "\\": "\\"}


class SoqlError(ValueError):
    """A query outside the slice of SOQL the fake answers."""


@dataclass(frozen=True)
class Query:
    fields: list[str]
    sobject: str
    conditions: list[Callable[[Row], bool]]
    order: list[str]
    limit: int | None

    def matches(self, row: Row) -> bool:
        return all(condition(row) for condition in self.conditions)

    def sort_key(self, row: Row) -> tuple[Any, ...]:
        return tuple("" if row.get(name) is None else row.get(name) for name in self.order)


def parse(soql: str) -> Query:
    """The query, or ``SoqlError``."""
    match = _QUERY.match(soql)
    if match is None:
        raise SoqlError(f"unexpected query shape: {soql!r}")
    fields = [name.strip() for name in match["fields"].split(",")]
    if not all(re.fullmatch(r"\w+", name) for name in fields):
        raise SoqlError(f"only plain field names can be selected: {match['fields']!r}")
    conditions = _conditions(match["where"] or "")
    order = [name.strip() for name in (match["order"] or "").split(",") if name.strip()]
    limit = int(match["limit"]) if match["limit"] else None
    return Query(fields, match["sobject"], conditions, order, limit)


def _conditions(where: str) -> list[Callable[[Row], bool]]:
    conditions: list[Callable[[Row], bool]] = []
    position = 0
    while position < len(where):
        match = _CONDITION.match(where, position)
        if match is None:
            raise SoqlError(f"cannot read the condition at {where[position:]!r}")
        conditions.append(_comparison(match["field"], match["op"], _literal(match["literal"])))
        position = match.end()
    return conditions


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), text[1:-1])
    lowered = text.lower()
    if lowered in ("null", "true", "false"):
        return {"null": None, "true": True, "false": False}[lowered]
    if _DATETIME.match(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    if _DATE.match(text):
        return date.fromisoformat(text)
    if _NUMBER.match(text):
        return float(text) if "." in text else int(text)
    raise SoqlError(f"unexpected literal {text!r}")


def _comparable(stored: Any, literal: Any) -> Any:
    """The stored value in the literal's terms (stamps are stored as Salesforce writes them)."""
    if isinstance(literal, datetime) and isinstance(stored, str):
        return datetime.strptime(stored, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
    if isinstance(literal, date) and isinstance(stored, str):
        return date.fromisoformat(stored)
    if isinstance(literal, str) and isinstance(stored, str):
        return stored.casefold()
    return stored


def _comparison(field: str, op: str, literal: Any) -> Callable[[Row], bool]:
    wanted = literal.casefold() if isinstance(literal, str) else literal

    def compare(row: Row) -> bool:
        stored = row.get(field)
        if stored == "":
            stored = None
        if wanted is None or stored is None:
            equal = stored is None and wanted is None
            return equal if op == "=" else (not equal if op == "!=" else False)
        value = _comparable(stored, literal)
        outcomes = {
            "=": lambda: value == wanted,
            "!=": lambda: value != wanted,
            ">=": lambda: value >= wanted,
            "<=": lambda: value <= wanted,
            ">": lambda: value > wanted,
            "<": lambda: value < wanted,
        }
        return bool(outcomes[op]())

    return compare
