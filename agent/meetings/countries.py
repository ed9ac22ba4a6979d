"""Countries and their clocks: what a lead wrote as a country, and the IANA zones it spans.

Zones per country come from the tz database's ``zone.tab`` (shipped by the ``tzdata``
package, or the system's zoneinfo directory). Within a country that file lists the most
populous zones first; a few countries are corrected below where its geographic order
puts a small zone first (Canada starts at St John's, Australia at Lord Howe).

Two zones "keep the same clock" when their UTC offsets agree across a sample year: a
country whose zones all do (Argentina, Germany with Büsingen) counts as one zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from zoneinfo import TZPATH, ZoneInfo

import pycountry

from agent.normalize import country_code

# The zone most of the country's people and businesses live in, where zone.tab's first
# entry is not it.
_MAIN_ZONE: Mapping[str, str] = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
}
# Everyday names neither agent.normalize nor pycountry (exact names only) knows.
_EVERYDAY_NAMES: Mapping[str, str] = {
    "russia": "RU",
    "uae": "AE",
    "ivory coast": "CI",
    "turkey": "TR",
    "cape verde": "CV",
    "burma": "MM",
    "brunei": "BN",
    "dr congo": "CD",
    "macedonia": "MK",
    "vatican": "VA",
    "palestine": "PS",
}
# Countries tzdata splits but whose business runs on one clock: Xinjiang's Ürümqi time is
# informal (offices and flights keep Beijing time); Crimea (Moscow time in tzdata) is a
# small share of Ukraine's businesses.
_ONE_CLOCK: frozenset[str] = frozenset({"CN", "UA"})
# Four instants a season apart: enough to tell apart zones that differ in offset or in
# whether they keep daylight saving. (Zones whose DST dates differ by a few weeks, New
# York and Toronto before 2007 say, count as the same clock: business-hours-wise they are.)
_SAMPLES = tuple(datetime(2026, month, 15, 12, tzinfo=UTC) for month in (1, 4, 7, 10))


def resolve_country(raw: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code for a country code, alias or name; ``None`` if unknown.

        Tries :func:`agent.normalize.country_code` (common aliases: "USA", "UK", "Deutschland")
        then a few everyday names ("Russia", "Ivory Coast"), then pycountry (alpha-3 codes, and
    English short, official and common names, spelled exactly).
    """
    if raw is None or not raw.strip():
        return None
    code = country_code(raw)
    if code is not None:
        return code
    everyday = _EVERYDAY_NAMES.get(" ".join(raw.casefold().split()))
    if everyday is not None:
        return everyday
    try:
        return str(pycountry.countries.lookup(raw.strip()).alpha_2)
    except LookupError:
        return None


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return code if country is None else str(country.name)


def country_zones(code: str) -> tuple[str, ...]:
    """The country's zones, its main one first; ``()`` for a code the tz database lacks."""
    zones = _zone_table().get(code.upper(), ())
    main = _MAIN_ZONE.get(code.upper())
    if main is None or main not in zones:
        return zones
    return (main, *(zone for zone in zones if zone != main))


def has_one_clock(code: str) -> bool:
    """Whether every zone of the country keeps the same clock (or business treats it so)."""
    zones = country_zones(code)
    return bool(zones) and (code.upper() in _ONE_CLOCK or len({clock(zone) for zone in zones}) == 1)


def clock(zone: str) -> tuple[object, ...]:
    """The zone's UTC offsets at the sample instants: equal tuples, same clock."""
    tz = ZoneInfo(zone)
    return tuple(sample.astimezone(tz).utcoffset() for sample in _SAMPLES)


@lru_cache(maxsize=1)
def _zone_table() -> Mapping[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for line in _zone_tab().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, _coordinates, zone, *_comment = line.split("\t")
        table.setdefault(code, []).append(zone)
    return MappingProxyType({code: tuple(zones) for code, zones in table.items()})


def _zone_tab() -> str:
    try:
        return resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    for directory in TZPATH:
        path = Path(directory) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""  # no table: every country is unknown, and leads fall back to the caller's zone
