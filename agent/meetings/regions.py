"""States and provinces of the countries that span several time zones, and their zones.

Coverage, honestly: the United States (states, DC and the inhabited territories), Canada,
Australia, Brazil and Mexico. Other multi-zone countries (Russia, Indonesia, Chile...) are
not covered: their leads get the country's main zone at low confidence, or the phone's.

The zones themselves are in :mod:`agent.meetings.region_table`.

A region is read as its code ("TX", "US-TX"), its name ("Texas", "Sao Paulo": accents,
case and dots do not matter) or one of a few common short names ("Veracruz", "CDMX").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import pycountry

from agent.meetings.region_table import ALIASES, SPANS_ZONES, ZONES

COVERED: frozenset[str] = frozenset(code.split("-")[0] for code in ZONES)
"""Countries whose regions are known here."""


@dataclass(frozen=True)
class Region:
    code: str
    """ISO 3166-2, e.g. ``US-TX``."""
    name: str
    zone: str
    spans_zones: bool

    @property
    def country(self) -> str:
        return self.code.split("-")[0]


def find_regions(country: str | None, raw: str) -> tuple[Region, ...]:
    """The regions ``raw`` may name, in ``country`` or (``None``) in any covered country.

    Several results mean the text is ambiguous ("WA": Washington or Western Australia).
    """
    codes = _index().get(_fold(raw), ())
    return tuple(_region(code) for code in codes if country is None or code.startswith(f"{country}-"))


def _region(code: str) -> Region:
    name = _names().get(code, code)
    return Region(code=code, name=name, zone=ZONES[code], spans_zones=code in SPANS_ZONES)


@lru_cache(maxsize=1)
def _names() -> Mapping[str, str]:
    """ISO 3166-2 code -> its English name, for the covered regions."""
    return MappingProxyType({s.code: str(s.name) for s in pycountry.subdivisions if s.code in ZONES})


@lru_cache(maxsize=1)
def _index() -> Mapping[str, tuple[str, ...]]:
    """Folded spelling -> ISO 3166-2 codes it may name."""
    index: dict[str, list[str]] = {}
    for code in sorted(ZONES):
        for spelling in {code, code.split("-")[1], _names().get(code, code)}:
            index.setdefault(_fold(spelling), []).append(code)
    for alias, code in ALIASES.items():
        index.setdefault(alias, []).append(code)
    return MappingProxyType({key: tuple(codes) for key, codes in index.items()})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.replace(".", "").casefold().split())
