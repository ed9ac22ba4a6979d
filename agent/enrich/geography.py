"""Country and state canonicalisation on pycountry's ISO 3166 data plus a curated alias table.

Precision first: a value is mapped only when the reading is certain (an ISO code or
name, or an unambiguous alias). A value with two readings ("Georgia": the country or
the US state typed into the country field; "Korea": north or south) comes back
``ambiguous`` with every candidate and a low confidence, so a check can ask a person
instead of silently picking one.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from importlib.resources import files

import pycountry

COUNTRY_ALIASES_FILE = "country_aliases.csv"
SUBDIVISION_ALIASES_FILE = "subdivision_aliases.csv"
SOURCE = "offline:pycountry"
ALIAS_SOURCE = "offline:country-aliases"
CERTAIN = 1.0
ALIAS_CONFIDENCE = 0.95
UNIQUE_NAME_CONFIDENCE = 0.7
AMBIGUOUS_CONFIDENCE = 0.3
COUNTRY_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class GeoMatch:
    """The canonical reading of a country or subdivision value.

    ``code`` is the ISO code (``"DE"``, ``"US-CA"``) when the value has one reading,
    else ``None``; ``candidates`` lists every reading (more than one when ambiguous).
    """

    code: str | None
    name: str | None
    confidence: float
    source: str
    candidates: tuple[str, ...] = ()
    note: str | None = None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


NO_MATCH = GeoMatch(code=None, name=None, confidence=0.0, source=SOURCE)


class Geography:
    """Canonicalises countries and subdivisions; build once, it indexes pycountry lazily."""

    def __init__(
        self,
        aliases: dict[str, tuple[str, ...]] | None = None,
        subdivision_aliases: dict[str, str] | None = None,
    ) -> None:
        self._aliases = aliases if aliases is not None else load_country_aliases()
        self._subdivision_aliases = (
            subdivision_aliases if subdivision_aliases is not None else load_subdivision_aliases()
        )
        self._subdivisions: dict[str, dict[str, list[str]]] | None = None
        self._names: dict[str, str] = {}
        # Country columns repeat a few dozen spellings across millions of rows; pycountry's
        # lookup is a linear scan, so answers are remembered (bounded, per instance).
        self._country_cache: dict[str, GeoMatch] = {}

    def country(self, raw: str | None) -> GeoMatch:
        """The ISO 3166-1 alpha-2 reading of ``raw`` (a code, a name or an alias)."""
        if raw is None:
            return NO_MATCH
        cached = self._country_cache.get(raw)
        if cached is None:
            cached = self._country(raw)
            if len(self._country_cache) < COUNTRY_CACHE_SIZE:
                self._country_cache[raw] = cached
        return cached

    def _country(self, raw: str) -> GeoMatch:
        key = lookup_key(raw)
        if not key:
            return NO_MATCH
        codes = self._aliases.get(key)
        if codes is not None and len(codes) > 1:
            names = ", ".join(f"{c} ({_country_name(c)})" for c in codes)
            return GeoMatch(
                code=None,
                name=None,
                confidence=AMBIGUOUS_CONFIDENCE,
                source=ALIAS_SOURCE,
                candidates=codes,
                note=f"'{raw}' has more than one reading: {names}; a person should choose",
            )
        if codes is not None:
            return _country_match(codes[0], ALIAS_CONFIDENCE, ALIAS_SOURCE)
        # pycountry names keep their accents ("Türkiye"), so try the value as typed as well.
        for candidate in (key, " ".join(raw.replace(".", "").split())):
            try:
                found = pycountry.countries.lookup(candidate)
            except LookupError:
                continue
            return _country_match(found.alpha_2, CERTAIN, SOURCE)
        return NO_MATCH

    def subdivision(self, raw: str | None, country: str | None) -> GeoMatch:
        """The ISO 3166-2 reading of a state/region, within ``country`` when it is known.

        ``country`` may be any spelling :meth:`country` understands. Without a country
        only a name that exists in exactly one country is mapped, and then with
        moderate confidence ("Texas" needs no country; "CA" does).
        """
        key = lookup_key(raw)
        if not key:
            return NO_MATCH
        country_code = self.country(country).code if country else None
        if country_code is not None:
            codes = self._indexes().get(country_code, {}).get(key, [])
            confidence = CERTAIN
        else:
            codes = sorted({c for index in self._indexes().values() for c in index.get(key, [])})
            confidence = UNIQUE_NAME_CONFIDENCE
            # "Georgia" in a state field with no country: the US state or the country?
            also_country = self.country(raw).candidates
            if codes and also_country:
                codes += [c for c in also_country if not any(x.startswith(f"{c}-") for x in codes)]
        if len(codes) == 1:
            return GeoMatch(
                code=codes[0],
                name=self._names.get(codes[0], codes[0]),
                confidence=confidence,
                source=SOURCE,
                candidates=(codes[0],),
            )
        if codes:
            return GeoMatch(
                code=None,
                name=None,
                confidence=AMBIGUOUS_CONFIDENCE,
                source=SOURCE,
                candidates=tuple(codes),
                note=f"'{raw}' names a region in several places ({', '.join(codes[:5])}); give a country",
            )
        return NO_MATCH

    def _indexes(self) -> dict[str, dict[str, list[str]]]:
        """Country -> lookup key -> subdivision codes, keyed by code, code suffix and name."""
        if self._subdivisions is None:
            # One pass over pycountry's ~5000 subdivisions, on first use only.
            by_country: dict[str, dict[str, list[str]]] = {}
            for sub in pycountry.subdivisions:
                code, name = str(sub.code), lookup_free_name(str(sub.name))
                self._names[code] = name
                index = by_country.setdefault(str(sub.country_code), {})
                for k in {lookup_key(code), lookup_key(code.partition("-")[2]), lookup_key(name)}:
                    if k:
                        index.setdefault(k, []).append(code)
            for alias, code in self._subdivision_aliases.items():
                by_country.setdefault(code.partition("-")[0], {}).setdefault(alias, []).append(code)
            self._subdivisions = by_country
        return self._subdivisions


def lookup_key(raw: str | None) -> str:
    """Casefolded, dot-free, single-spaced, without a bracketed aside: ``"U.S."`` -> ``"us"``."""
    if raw is None:
        return ""
    text = re.sub(r"\[.*?\]|\(.*?\)", " ", unicodedata.normalize("NFKD", raw))
    # Accents dropped so "Mahārāshtra", "Maharashtra" and "São Paulo"/"Sao Paulo" meet.
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.replace(".", "").split()).casefold()


def load_country_aliases() -> dict[str, tuple[str, ...]]:
    """The bundled country aliases: lookup key -> ISO codes (more than one when ambiguous)."""
    return {lookup_key(row["alias"]): tuple(row["codes"].split()) for row in _data_rows(COUNTRY_ALIASES_FILE)}


def load_subdivision_aliases() -> dict[str, str]:
    """The bundled region aliases ("Bavaria" -> ``DE-BY``): lookup key -> ISO 3166-2 code."""
    return {lookup_key(row["alias"]): row["code"].strip() for row in _data_rows(SUBDIVISION_ALIASES_FILE)}


def _data_rows(name: str) -> list[dict[str, str]]:
    text = files("agent").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#")))


def _country_match(code: str, confidence: float, source: str) -> GeoMatch:
    return GeoMatch(
        code=code, name=_country_name(code), confidence=confidence, source=source, candidates=(code,)
    )


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(country.name) if country is not None else code


def lookup_free_name(name: str) -> str:
    """A subdivision name without pycountry's bracketed aside ("Isle of Anglesey [Sir Ynys Môn]")."""
    return re.sub(r"\s*\[.*?\]", "", name).strip()
