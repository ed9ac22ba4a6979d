"""Routing conditions: a small, explicit language over a lead's normalised values.

A condition is one of::

    {field: country, equals: US}            {field: country, in: [US, CA]}
    {field: title, contains: founder}       {field: email, regex: '@(gov|mil)\\.'}
    {field: employees, range: {min: 200, max: 999}}
    {all: [...]}   {any: [...]}   {not: {...}}

Text comparisons ignore case and surrounding space; ``range`` bounds are inclusive and
a value that is not a (finite) number never falls in one. A missing field equals nothing.
Each evaluation reports which leaf decided it, for the explanation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Values = Mapping[str, Any]
"""A lead's normalised values (see :mod:`agent.routing.values`)."""

_LEAF_OPS = ("equals", "in_", "contains", "regex", "range")


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


class Condition(BaseModel):
    """One test on the lead's values, or a combination of tests."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str | None = Field(None, min_length=1)
    equals: str | int | float | bool | None = None
    in_: tuple[str | int | float | bool, ...] | None = Field(None, alias="in")
    contains: str | None = Field(None, min_length=1)
    regex: str | None = Field(None, min_length=1)
    range: Range | None = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(None, alias="not")

    @model_validator(mode="after")
    def _one_shape(self) -> Condition:
        leaf_ops = [op for op in _LEAF_OPS if getattr(self, op) is not None]
        groups = [name for name in ("all", "any", "not_") if getattr(self, name) is not None]
        if self.field is not None:
            if groups:
                raise ValueError("a condition on a field cannot also hold all/any/not")
            if len(leaf_ops) != 1:
                raise ValueError(
                    f"a condition on '{self.field}' needs exactly one of equals, in, contains, regex, range"
                    + (f" (it has {', '.join(op.rstrip('_') for op in leaf_ops)})" if leaf_ops else "")
                )
            if self.in_ is not None and not self.in_:
                raise ValueError(f"'in' on '{self.field}' needs at least one value")
            if self.regex is not None:
                try:
                    re.compile(self.regex)
                except re.error as exc:
                    raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from exc
            return self
        if leaf_ops:
            raise ValueError(f"'{leaf_ops[0].rstrip('_')}' needs a field to compare")
        if len(groups) != 1:
            raise ValueError("a condition needs a field, or exactly one of all, any, not")
        if groups[0] in ("all", "any") and not getattr(self, groups[0]):
            raise ValueError(f"'{groups[0]}' needs at least one condition")
        return self

    def test(self, values: Values) -> tuple[bool, str]:
        """Whether the values pass, and the leaf that decided it (``country in [US, CA]: US``)."""
        if self.all is not None:
            for part in self.all:
                passed, why = part.test(values)
                if not passed:
                    return False, why
            return True, " and ".join(part.test(values)[1] for part in self.all)
        if self.any is not None:
            reasons = []
            for part in self.any:
                passed, why = part.test(values)
                if passed:
                    return True, why
                reasons.append(why)
            return False, " and ".join(reasons)
        if self.not_ is not None:
            passed, why = self.not_.test(values)
            return not passed, f"not ({why})"
        return self._leaf(values)

    def _leaf(self, values: Values) -> tuple[bool, str]:
        assert self.field is not None  # by _one_shape
        value = values.get(self.field)
        shown = "missing" if value is None or value == "" else repr(value)
        if self.equals is not None:
            return _same(value, self.equals), f"{self.field} = {self.equals!r}: {shown}"
        if self.in_ is not None:
            listed = ", ".join(str(v) for v in self.in_)
            return any(_same(value, option) for option in self.in_), f"{self.field} in [{listed}]: {shown}"
        if self.contains is not None:
            found = value is not None and self.contains.casefold() in str(value).casefold()
            return found, f"{self.field} contains {self.contains!r}: {shown}"
        if self.regex is not None:
            found = value is not None and re.search(self.regex, str(value), re.IGNORECASE) is not None
            return found, f"{self.field} matches /{self.regex}/: {shown}"
        assert self.range is not None
        number = as_number(value)
        inside = number is not None and (
            (self.range.min is None or number >= self.range.min)
            and (self.range.max is None or number <= self.range.max)
        )
        bounds = f"{_bound(self.range.min)}..{_bound(self.range.max)}"
        return inside, f"{self.field} in {bounds}: {shown}"


def _same(value: Any, expected: Any) -> bool:
    if value is None:
        return False
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected or str(value).casefold() == str(expected).casefold()
    if isinstance(expected, int | float) and (number := as_number(value)) is not None:
        return number == float(expected)
    return str(value).strip().casefold() == str(expected).strip().casefold()


def as_number(value: Any) -> float | None:
    """A finite number read from ``value`` (``"1,200"`` -> 1200.0), or ``None``; booleans are not numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(str(value).replace(",", "").strip())
        except ValueError:
            return None
    # "nan" and "inf" parse as floats but are not amounts a range can hold.
    return number if math.isfinite(number) else None


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
