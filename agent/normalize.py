"""Pure normalisers for CRM field values: emails, phones, countries and person names.

Every function here is total and side-effect free: bad input gives ``None`` (or the
input back, for names), never an exception, so a hygiene run over dirty data cannot
crash on one odd value.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from itertools import pairwise

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from agent.models import FieldValue

DISPOSABLE_EMAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "10minutemail.com",
        "discard.email",
        "dispostable.com",
        "getnada.com",
        "guerrillamail.com",
        "guerrillamail.net",
        "mailinator.com",
        "maildrop.cc",
        "sharklasers.com",
        "temp-mail.org",
        "tempmail.com",
        "throwawaymail.com",
        "trashmail.com",
        "yopmail.com",
    }
)
"""Throwaway-inbox providers; a small built-in list, not a complete one."""

_COUNTRY_ALIASES: Mapping[str, str] = {
    # United States
    "us": "US",
    "usa": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    # United Kingdom (ISO uses GB; "UK" is only reserved)
    "uk": "GB",
    "gb": "GB",
    "gbr": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "de": "DE",
    "deu": "DE",
    "germany": "DE",
    "deutschland": "DE",
    "fra": "FR",
    "france": "FR",
    "nld": "NL",
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "nederland": "NL",
    "can": "CA",
    "canada": "CA",
    "aus": "AU",
    "australia": "AU",
    "esp": "ES",
    "spain": "ES",
    "españa": "ES",
    "espana": "ES",
    "irl": "IE",
    "ireland": "IE",
    "republic of ireland": "IE",
    "eire": "IE",
    "éire": "IE",
    "italy": "IT",
    "italia": "IT",
    "portugal": "PT",
    "belgium": "BE",
    "belgique": "BE",
    "austria": "AT",
    "österreich": "AT",
    "switzerland": "CH",
    "schweiz": "CH",
    "suisse": "CH",
    "sweden": "SE",
    "sverige": "SE",
    "norway": "NO",
    "norge": "NO",
    "denmark": "DK",
    "danmark": "DK",
    "finland": "FI",
    "poland": "PL",
    "polska": "PL",
    "new zealand": "NZ",
    "india": "IN",
    "japan": "JP",
    "singapore": "SG",
    "brazil": "BR",
    "brasil": "BR",
    "mexico": "MX",
    "méxico": "MX",
}
"""Lower-cased, dot-free spellings to ISO 3166-1 alpha-2 codes."""

# Lower-case words between a first name and a surname: "Jan van der Berg", "Maria de la Cruz".
_PARTICLES: frozenset[str] = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "la",
        "le",
        "du",
        "da",
        "di",
        "dos",
        "das",
        "ter",
        "ten",
    }
)
# Only generational suffixes that are not also names ("Vi" is a first name).
_ROMAN_SUFFIXES: frozenset[str] = frozenset({"ii", "iii", "iv"})
# "Mac" is also a plain prefix (Mack, Macy, Machado); only these are known to be Mac + Name.
_MAC_SURNAMES: frozenset[str] = frozenset(
    {
        "macalister",
        "macarthur",
        "macaulay",
        "maccallum",
        "macdonald",
        "macdougall",
        "macfarlane",
        "macgregor",
        "macinnes",
        "macintyre",
        "mackay",
        "mackenzie",
        "mackinnon",
        "maclachlan",
        "maclean",
        "macleod",
        "macmillan",
        "macneil",
        "macpherson",
        "macqueen",
    }
)
_APOSTROPHES = ("'", "\u2019")

JUNK_VALUES: frozenset[str] = frozenset({"test", "asdf", "xxx", "qwerty", "dummy"})
"""Values that on their own mark a lead as test data."""
PLACEHOLDER_VALUES: frozenset[str] = frozenset({"none"})
"""Values that mark a lead as junk only when every name and company field is junk or placeholder."""
JUNK_EMAIL_DOMAINS: frozenset[str] = frozenset({"test.com", "example.com", "example.org", "example.net"})


# --- email ---------------------------------------------------------------------------------


def normalize_email(s: str | None) -> str | None:
    """The address stripped and lower-cased, or ``None`` when blank."""
    if s is None:
        return None
    cleaned = s.strip().lower()
    return cleaned or None


@lru_cache(maxsize=131_072)
def email_syntax(email: str) -> tuple[str, str] | str:
    """``(local part, domain)`` of a syntactically valid address, or why it is not valid.

    email-validator with ``check_deliverability=False`` (no DNS). Cached: a run asks
    about each address from several checks, and parsing it dominated planning time.
    """
    try:
        parsed = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        return reason[:1].lower() + reason[1:]
    return parsed.local_part, parsed.domain


@lru_cache(maxsize=65_536)
def email_problem(s: str | None) -> str | None:
    """Why an address cannot be used (syntax or a disposable domain), or ``None`` if it is fine.

    Checks syntax only (no DNS), after stripping surrounding whitespace. A blank value
    is reported as a problem too; callers that treat "missing" differently check first.
    Cached (a pure function of its text): several checks ask about the same address,
    and parsing it dominated a run's planning time.
    """
    email = normalize_email(s)
    if email is None:
        return "it is empty"
    parsed = email_syntax(email)
    if isinstance(parsed, str):
        return parsed
    labels = email.rpartition("@")[2].split(".")
    for i in range(len(labels) - 1):
        domain = ".".join(labels[i:])
        if domain in DISPOSABLE_EMAIL_DOMAINS:
            return f"{domain} is a disposable (throwaway) email domain"
    return None


# --- country and phone ---------------------------------------------------------------------


def country_code(raw: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code for a country name, alias or code, or ``None`` if unknown.

    Knows the common aliases (``"USA"``, ``"U.S."``, ``"uk"``, ``"Deutschland"``,
    ``"Holland"``...) and any two-letter code phonenumbers has metadata for.
    """
    if raw is None:
        return None
    key = " ".join(raw.replace(".", "").split()).casefold()
    if not key:
        return None
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    if len(key) == 2 and key.upper() in phonenumbers.SUPPORTED_REGIONS:
        return key.upper()
    return None


def normalize_phone(raw: str | None, country: str | None) -> str | None:
    """The number in E.164 (``+442079460018``), or ``None`` when it is not a valid number.

    ``country`` is the record's country in any form :func:`country_code` understands;
    it is the region for numbers written without a ``+`` prefix. A number with an
    extension also gives ``None``: E.164 cannot carry one and dropping it loses data.
    """
    if raw is None or not raw.strip():
        return None
    read = read_phone(raw.strip(), country_code(country))
    if isinstance(read, str) or read[2] is not None:
        return None
    return read[0]


@lru_cache(maxsize=1_048_576)
def read_phone(text: str, region: str | None) -> tuple[str, str | None, str | None] | str:
    """``(E.164, the number's own region, extension)`` of ``text`` read in ``region``, or why it
    is not a valid number.

    Cached, and shared by every check that reads a phone: a run reads each record's number
    several times (formats, duplicates, account matching), and parsing dominated. Room for a
    million numbers (about 275 bytes each when full): a run over 1M records reads each number
    first for the duplicate batches and again in its chunk.
    """
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return f"it is not a phone number ({exc})"
    if not phonenumbers.is_valid_number(number):
        return "it is not a valid number for its country"
    own_region = phonenumbers.region_code_for_number(number)
    return (
        str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)),
        str(own_region) if own_region else None,
        str(number.extension) if number.extension else None,
    )


# --- person names --------------------------------------------------------------------------


def normalize_person_name(s: str) -> str:
    """The name with whitespace collapsed and, only where it is clearly wrong, its casing fixed.

    Casing is rewritten when the whole name is in one case (``"JOHN SMITH"``,
    ``"mary ann"``), and otherwise only for words that are oddly cased (``"jOHN"``,
    a lower-case ``"smith"`` beside a capitalised word). Well-formed names are left
    alone, including McDonald, MacLeod, O'Neil, D'Angelo, DeShawn and Anne-Marie.
    Particles (van, der, de, la...) are lower-case inside a name and capitalised
    when they start it: ``"jan van der berg"`` -> ``"Jan van der Berg"``, ``"DE LA
    CRUZ"`` -> ``"De la Cruz"``.
    """
    words = s.split()
    cased = [c for c in s if c.islower() or c.isupper()]
    one_case = bool(cased) and (all(c.islower() for c in cased) or all(c.isupper() for c in cased))
    fixed: list[str] = []
    for i, word in enumerate(words):
        inside = 0 < i < len(words) - 1
        if one_case or not _well_formed_word(word, first=i == 0):
            fixed.append(_recase_word(word, first=i == 0, inside=inside))
        else:
            fixed.append(word)
    return " ".join(fixed)


def _well_formed_word(word: str, *, first: bool) -> bool:
    lower = word.lower()
    if word == lower and lower in _PARTICLES:
        return True  # a lower-case particle is a deliberate spelling wherever it stands
    if not first and lower.rstrip(".") in _ROMAN_SUFFIXES:
        return word.rstrip(".").isupper()
    for part in word.split("-"):
        pieces = _split_apostrophes(part)
        for i, piece in enumerate(pieces):
            # A lone letter before an apostrophe: O'Neil, D'Angelo, d'Alembert.
            if i == 0 and len(pieces) > 1 and len(piece) == 1:
                continue
            if not all(_capitalised_chunks(initial) for initial in piece.split(".") if initial):
                return False
    return True


def _capitalised_chunks(piece: str) -> bool:
    """True for "John", "McDonald", "DeShawn", "J": capitalised chunks, never "JOhn" or "jOHN"."""
    letters = [c for c in piece if c.isalpha()]
    if not letters:
        return True
    if len(letters) == 1:
        return letters[0].isupper()
    if not letters[0].isupper():
        return False
    # Every capital starts a chunk, so it must be followed by a lower-case letter.
    two_capitals = any(a.isupper() and b.isupper() for a, b in pairwise(letters))
    return not two_capitals and not letters[-1].isupper()


def _split_apostrophes(part: str) -> list[str]:
    for apostrophe in _APOSTROPHES[1:]:
        part = part.replace(apostrophe, _APOSTROPHES[0])
    return part.split(_APOSTROPHES[0])


def _recase_word(word: str, *, first: bool, inside: bool) -> str:
    lower = word.lower()
    if inside and lower in _PARTICLES:
        return lower
    if not first and lower.rstrip(".") in _ROMAN_SUFFIXES:
        return word.upper()
    return "-".join(_recase_part(part) for part in lower.split("-"))


def _recase_part(part: str) -> str:
    for apostrophe in _APOSTROPHES:
        head, found, tail = part.partition(apostrophe)
        if found:
            if len(head) == 1:
                return head.upper() + apostrophe + _recase_part(tail)
            return _capitalise(head) + apostrophe + tail
    if part.startswith("mc") and len(part) > 3:
        return "Mc" + _capitalise(part[2:])
    if part in _MAC_SURNAMES:
        return "Mac" + _capitalise(part[3:])
    return _capitalise(part)


def _capitalise(part: str) -> str:
    """Upper-case the first letter and every letter after a dot ("j.r." -> "J.R.")."""
    out: list[str] = []
    upper_next = True
    for c in part:
        if c.isalpha():
            out.append(c.upper() if upper_next else c)
            upper_next = False
        else:
            out.append(c)
            upper_next = upper_next or c == "."
    return "".join(out)


# --- junk leads ----------------------------------------------------------------------------


def is_junk_lead(fields: Mapping[str, FieldValue]) -> str | None:
    """Why a lead is obviously test data, or ``None``. Precision first: when unsure, ``None``.

    Junk when the first name, last name or company is one of :data:`JUNK_VALUES`, when
    at least two of those three are filled in and all of them are junk or a placeholder
    (``"none"`` alone is an honest answer to a required company field), or when
    the email is ``test@``/``asdf@``... at a test domain (test.com, example.com).
    """
    named = {"first name": "first_name", "last name": "last_name", "company": "company"}
    values = {label: _token(fields.get(name)) for label, name in named.items()}
    for label, value in values.items():
        if value in JUNK_VALUES:
            return f"its {label} is '{value}'"
    filled = {label: value for label, value in values.items() if value}
    if len(filled) >= 2 and all(v in JUNK_VALUES | PLACEHOLDER_VALUES for v in filled.values()):
        return "its " + " and ".join(f"{label} is '{v}'" for label, v in filled.items())
    email = _token(fields.get("email"))
    local, at, domain = email.rpartition("@")
    if at and local in JUNK_VALUES and domain in JUNK_EMAIL_DOMAINS:
        return f"its email '{email}' is a test address"
    return None


def _token(value: FieldValue) -> str:
    return value.strip().casefold() if isinstance(value, str) else ""
