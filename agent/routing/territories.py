"""Territory tables: country, state, postcode prefix, industry and segment to a team.

A territory lists the values it covers per dimension; a dimension it leaves empty
covers everything. The first territory (in file order) covering a lead wins, and
:func:`overlaps` lists every pair that could both cover one lead, so a table's
author sees at load time which territory would lose.

Tables come from the routing YAML (``territories:``) or CSV files with the columns
``name, team, country, state, postcode_prefix, industry, segment`` (several values
in one cell separated by ``|``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.normalize import country_code

DIMENSIONS = ("country", "state", "postcode_prefix", "industry", "segment")


class Territory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    team: str = Field(min_length=1)
    """The pool the territory's leads go to."""
    country: frozenset[str] = frozenset()
    state: frozenset[str] = frozenset()
    postcode_prefix: tuple[str, ...] = ()
    industry: frozenset[str] = frozenset()
    segment: frozenset[str] = frozenset()

    @field_validator("country", mode="before")
    @classmethod
    def _countries(cls, value: object) -> object:
        items = value if isinstance(value, list | tuple | set | frozenset) else [value]
        if any(isinstance(item, bool) for item in items):
            # YAML 1.1 reads a bare NO (Norway) as false.
            raise ValueError("a country reads as true/false: write Norway's code in quotes, 'NO'")
        codes = []
        for raw in _listed(value):
            code = country_code(raw)
            if code is None:
                raise ValueError(f"unknown country {raw!r}")
            codes.append(code)
        return frozenset(codes)

    @field_validator("state", "industry", "segment", mode="before")
    @classmethod
    def _folded(cls, value: object) -> object:
        return frozenset(item.strip().casefold() for item in _listed(value))

    @field_validator("postcode_prefix", mode="before")
    @classmethod
    def _prefixes(cls, value: object) -> object:
        return tuple(_postcode(item) for item in _listed(value))

    def covers(self, values: Mapping[str, Any]) -> bool:
        """Whether a lead with these normalised values is in the territory."""
        if self.country and values.get("country") not in self.country:
            return False
        for dimension in ("state", "industry", "segment"):
            allowed: frozenset[str] = getattr(self, dimension)
            if allowed and str(values.get(dimension) or "").strip().casefold() not in allowed:
                return False
        if self.postcode_prefix:
            postcode = _postcode(str(values.get("postcode") or ""))
            if not postcode or not postcode.startswith(self.postcode_prefix):
                return False
        return True

    def describe(self) -> str:
        parts = [
            f"{dimension} {'/'.join(sorted(getattr(self, dimension)))}"
            for dimension in DIMENSIONS
            if getattr(self, dimension)
        ]
        return f"{self.name} ({', '.join(parts) or 'everything'}) -> {self.team}"


@dataclass(frozen=True)
class Overlap:
    first: Territory
    second: Territory

    def __str__(self) -> str:
        return (
            f"territories {self.first.name} and {self.second.name} overlap; "
            f"{self.first.name} wins (it comes first)"
        )


def first_covering(territories: Iterable[Territory], values: Mapping[str, Any]) -> Territory | None:
    return next((t for t in territories if t.covers(values)), None)


def overlaps(territories: Iterable[Territory]) -> list[Overlap]:
    """Every pair of territories some lead could fall in both of, in file order."""
    return [Overlap(a, b) for a, b in combinations(list(territories), 2) if _can_share(a, b)]


def _can_share(a: Territory, b: Territory) -> bool:
    for dimension in ("country", "state", "industry", "segment"):
        mine, theirs = getattr(a, dimension), getattr(b, dimension)
        if mine and theirs and not mine & theirs:
            return False
    if a.postcode_prefix and b.postcode_prefix:
        return any(x.startswith(y) or y.startswith(x) for x in a.postcode_prefix for y in b.postcode_prefix)
    return True


def read_territory_csv(path: Path) -> list[dict[str, Any]]:
    """The rows of a territory CSV as mappings for :class:`Territory` (multi-values split on ``|``).

    Raises:
        OSError: the file cannot be read.
        ValueError: a column is unknown or ``name``/``team`` is missing.
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in reader.fieldnames or []]
        unknown = set(columns) - {"name", "team", *DIMENSIONS}
        if unknown:
            known = ", ".join(("name", "team", *DIMENSIONS))
            raise ValueError(f"unknown column(s) {', '.join(sorted(unknown))} (use {known})")
        if not {"name", "team"} <= set(columns):
            raise ValueError("a territory CSV needs the columns name and team")
        rows = []
        for row in reader:
            cleaned = {key.strip(): (value or "").strip() for key, value in row.items() if key}
            rows.append({k: _split(v) if k in DIMENSIONS else v for k, v in cleaned.items()})
        return rows


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split("|") if part.strip()]


def _listed(value: object) -> list[str]:
    """The values listed, blanks left out: a dimension of blanks covers everything, as in a CSV."""
    if value is None:
        return []
    if isinstance(value, str | int):
        value = [value]
    if isinstance(value, list | tuple | set | frozenset):
        return [text for item in value if (text := str(item).strip())]
    raise ValueError(f"expected a value or a list of values, not {value!r}")


def _postcode(value: str) -> str:
    return "".join(value.split()).upper()
