"""The seeder's reference data: countries and their places, names, titles, teams and word lists."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

DISPOSABLE_DOMAINS: tuple[str, ...] = ("mailinator.com", "guerrillamail.com", "10minutemail.com")
JUNK_WORDS: frozenset[str] = frozenset({"test", "asdf"})
TRICKY_SURNAMES: tuple[str, ...] = ("McDonald", "MacLeod", "O'Neil", "O'Brien", "van der Berg", "de Vries")
"""Correct as written; a naive ``str.title()`` would break every one of them."""
PARTICLES: frozenset[str] = frozenset({"van", "von", "der", "den", "de", "la", "le", "du", "da", "di", "ter"})


@dataclass(frozen=True)
class Place:
    city: str
    state: str | None
    area: str
    """National destination code (area code without the trunk 0)."""
    digits: int
    """Subscriber number length."""


@dataclass(frozen=True)
class Country:
    code: str
    locale: str
    weight: int
    tld: str
    team: str
    places: tuple[Place, ...]
    variants: tuple[str, ...]
    """How people type the country instead of its ISO code."""


COUNTRIES: tuple[Country, ...] = (
    Country(
        "US", "en_US", 55, "com", "sales-na",
        (
            Place("San Francisco", "CA", "415", 7), Place("Los Angeles", "CA", "310", 7),
            Place("New York", "NY", "212", 7), Place("Austin", "TX", "512", 7),
            Place("Dallas", "TX", "214", 7), Place("Boston", "MA", "617", 7),
            Place("Seattle", "WA", "206", 7), Place("Chicago", "IL", "312", 7),
            Place("Miami", "FL", "305", 7), Place("Denver", "CO", "303", 7),
            Place("Atlanta", "GA", "404", 7),
        ),
        ("USA", "U.S.", "United States", "United States of America", "us", "U.S.A."),
    ),
    Country(
        "GB", "en_GB", 15, "co.uk", "sales-emea",
        (
            Place("London", None, "20", 8), Place("Manchester", None, "161", 7),
            Place("Birmingham", None, "121", 7), Place("Edinburgh", None, "131", 7),
        ),
        ("UK", "uk", "United Kingdom", "Great Britain", "England"),
    ),
    Country(
        "DE", "de_DE", 12, "de", "sales-emea",
        (
            Place("Berlin", None, "30", 8), Place("München", None, "89", 8),
            Place("Hamburg", None, "40", 8), Place("Frankfurt am Main", None, "69", 8),
        ),
        ("Deutschland", "Germany", "germany", "DEU"),
    ),
    Country(
        "FR", "fr_FR", 9, "fr", "sales-emea",
        (Place("Paris", None, "1", 8), Place("Lyon", None, "4", 8), Place("Toulouse", None, "5", 8)),
        ("France", "france", "FRA"),
    ),
    Country(
        "NL", "nl_NL", 9, "nl", "sales-emea",
        (
            Place("Amsterdam", None, "20", 7), Place("Rotterdam", None, "10", 7),
            Place("Utrecht", None, "30", 7), Place("Den Haag", None, "70", 7),
        ),
        ("Netherlands", "The Netherlands", "Holland", "Nederland"),
    ),
)  # fmt: skip

COUNTRY_CUM_WEIGHTS = tuple(itertools.accumulate(c.weight for c in COUNTRIES))
STATUS_CUM_WEIGHTS = tuple(itertools.accumulate((30, 25, 20, 15, 10)))  # New ... Unqualified
US_STATES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "CA": ("California", "Calif."),
        "NY": ("New York", "N.Y."),
        "TX": ("Texas", "Tex."),
        "MA": ("Massachusetts", "Mass."),
        "WA": ("Washington", "Wash."),
        "IL": ("Illinois", "Ill."),
        "FL": ("Florida", "Fla."),
        "CO": ("Colorado", "Colo."),
        "GA": ("Georgia", "Ga."),
    }
)
TITLES = (
    "CEO", "CTO", "CFO", "Founder", "VP Sales", "VP Marketing", "Head of Operations", "IT Director",
    "Sales Manager", "Marketing Manager", "Operations Manager", "Procurement Lead", "Product Manager",
    "Account Executive", "Office Manager",
)  # fmt: skip
LEGAL_WORDS = frozenset((
    "gmbh", "co", "kg", "kgaa", "ag", "ev", "e", "v", "inc", "llc", "ltd", "plc", "group", "and", "und",
    "et", "sa", "sas", "sarl", "bv", "nv", "zn", "en", "ohg", "mbh", "the", "cie", "fils", "partners",
    "son", "sons", "stichting",
))  # fmt: skip
OPTIONAL_LEAD_FIELDS = ("phone", "title", "website", "industry", "lead_source", "postcode")
JUNK_TEMPLATES = (
    ("test", "test", "test@test.com", "test"),
    ("asdf", "asdf", "asdf@example.com", "asdf"),
    ("test", "user", "test@example.com", "test"),
    ("Test", "Lead", "testlead@test.com", "Test"),
)
TEAMS = ("sales-na",) * 3 + ("sales-emea",) * 3 + ("sales-na", "sales-emea")
INACTIVE_OWNERS = (2, 5)  # O003 and O006: one per team
SLACK_ID_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
