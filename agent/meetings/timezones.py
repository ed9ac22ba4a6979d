"""A lead's time zone, inferred from its country, state and phone, with how sure we are and why.

The rules, in order:

1. **State** (or province): when it names a region of a covered multi-zone country (see
   :mod:`agent.meetings.regions`: US, Canada, Australia, Brazil, Mexico). High confidence;
   medium when the region itself spans zones or the phone points to another clock (the
   address wins: a mobile number travels with its owner, a company's address does not).
2. **Phone**: when the number is valid and all the zones its prefix maps to keep one
   clock (phonenumbers' ``time_zones_for_number``: an area code, a country). High when
   the number's country has one clock, medium when the prefix picks one zone of several.
   A number from another country than the lead's stated one is not used.
3. **Country**: one clock -> high. Several (US, Russia...) -> its most populous zone, low
   confidence, and the sentence says so.
4. **Fallback**: nothing usable -> the caller's zone (the team's), low, stated.

The country comes from ``country`` (a code or a name), or from the phone's own country
prefix when ``country`` is missing. A state is read in that country, or, with no country
at all, in whichever covered country has a region by that name (an ambiguous one, like
"WA", is not used). Every input that was given but not used is named in the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

from agent.meetings.countries import clock, country_name, country_zones, has_one_clock, resolve_country
from agent.meetings.regions import COVERED, Region, find_regions
from agent.normalize import read_phone

Source = Literal["state", "phone", "country", "fallback"]
Confidence = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class LeadZone:
    """Where the lead's clock is, how we know, and the assumption in words for the card."""

    zone: ZoneInfo
    source: Source
    confidence: Confidence
    assumption: str


@dataclass(frozen=True)
class _Phone:
    region: str
    zone: str | None
    """The one clock the number's prefix maps to; ``None``: several (a mobile range, toll-free)."""


def infer_lead_zone(
    *,
    country: str | None = None,
    state: str | None = None,
    phone: str | None = None,
    fallback: ZoneInfo,
    fallback_label: str = "the team's zone",
) -> LeadZone:
    """The lead's zone by the rules above; ``fallback`` when nothing usable was given."""
    unused: list[str] = []
    code = resolve_country(country)
    if country and country.strip() and code is None:
        unused.append(f"country {country.strip()!r} not recognised")
    number = _read_phone(phone, code, unused)
    code = code or (number.region if number else None)
    region = _find_region(code, state, unused)
    if region is not None:
        return _from_region(region, number, unused)
    if number is not None and number.zone is not None:
        confidence: Confidence = "high" if has_one_clock(number.region) else "medium"
        return _result(number.zone, "phone", confidence, f"phone number: {number.zone}", unused)
    zones = country_zones(code) if code else ()
    if code and zones:
        name = country_name(code)
        if has_one_clock(code):
            return _result(zones[0], "country", "high", f"{name}: {zones[0]}", unused)
        # A state the tables do not cover, or no state: the country alone cannot say which clock.
        sentence = f"{name} spans several time zones and no state or phone given narrows it: "
        sentence += f"assumed {zones[0]}, its most populous"
        return _result(zones[0], "country", "low", sentence, unused)
    if code:
        unused.append(f"no time zone known for country {code}")
    given = "no country, state or phone" if not unused else "no usable country, state or phone"
    return _result(
        fallback.key, "fallback", "low", f"{given}: assumed {fallback.key}, {fallback_label}", unused
    )


def _from_region(region: Region, number: _Phone | None, unused: list[str]) -> LeadZone:
    sentence = f"{region.name} ({region.code}): {region.zone}"
    confidence: Confidence = "high"
    if region.spans_zones:
        sentence += f", the zone most of {region.name} uses (it spans several)"
        confidence = "medium"
    if number is not None and number.zone is not None and clock(number.zone) != clock(region.zone):
        sentence += f"; the phone number points to {number.zone}, the address was preferred"
        confidence = "medium"
    return _result(region.zone, "state", confidence, sentence, unused)


def _read_phone(phone: str | None, code: str | None, unused: list[str]) -> _Phone | None:
    if phone is None or not phone.strip():
        return None
    read = read_phone(phone.strip(), code)
    if isinstance(read, str) or read[1] is None:
        unused.append(f"phone {phone.strip()!r} not a valid number" + ("" if code else " without a country"))
        return None
    e164, region = read[0], read[1]
    if code is not None and region != code:
        unused.append(f"phone {phone.strip()!r} is a {region} number, not {code}")
        return None
    # Zones the prefix maps to; "Etc/Unknown" (phonenumbers' no-answer) and names this
    # system's tz database lacks are left out.
    mapped = phone_timezones.time_zones_for_number(phonenumbers.parse(e164))
    zones = [zone for zone in mapped if zone != "Etc/Unknown" and _known(zone)]
    if not zones or len({clock(z) for z in zones}) > 1:
        return _Phone(region, None)
    main = country_zones(region)
    # Several names for one clock (London, Jersey, Guernsey): prefer the country's main zone.
    return _Phone(region, main[0] if main and main[0] in zones else zones[0])


def _find_region(code: str | None, state: str | None, unused: list[str]) -> Region | None:
    if state is None or not state.strip():
        return None
    if code is not None and code not in COVERED:
        if not has_one_clock(code):
            unused.append(f"state {state.strip()!r} not used: zones by state are not known for {code}")
        return None  # a country with one clock needs no state
    regions = find_regions(code, state.strip())
    if len(regions) == 1:
        return regions[0]
    if regions:
        unused.append(f"state {state.strip()!r} is ambiguous: {' or '.join(r.code for r in regions)}")
    else:
        unused.append(f"state {state.strip()!r} not recognised" + (f" in {code}" if code else ""))
    return None


def _result(zone: str, source: Source, confidence: Confidence, sentence: str, unused: list[str]) -> LeadZone:
    if unused:
        sentence += f" ({'; '.join(unused)})"
    return LeadZone(ZoneInfo(zone), source, confidence, sentence)


def _known(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
