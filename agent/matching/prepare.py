"""Normalise each compared value once, before any pair is looked at.

Normalisation removes differences that carry no information (case, punctuation,
``Street`` vs ``St``, phone formatting, date separators) so that the comparison
step only sees real disagreements. Every function is total: odd input gives
``None`` (missing), never an exception.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from agent.matching.models import FieldKind, MatchConfig, Record
from agent.normalize import normalize_email, normalize_phone

Prepared = dict[str, str]
"""Field name -> normalised value; missing fields are absent."""

_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "mx"})
_COMPANY_SUFFIXES = frozenset(
    {"inc", "incorporated", "ltd", "limited", "llc", "plc", "gmbh", "bv", "sa", "ag", "co", "corp", "pty"}
)
_ADDRESS_WORDS = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "drive": "dr",
    "place": "pl",
    "court": "ct",
    "crescent": "cres",
    "lane": "ln",
    "terrace": "tce",
    "highway": "hwy",
    "parade": "pde",
    "boulevard": "blvd",
    "circuit": "cct",
    "close": "cl",
    "square": "sq",
}
_STATES = {
    "new south wales": "nsw",
    "victoria": "vic",
    "queensland": "qld",
    "south australia": "sa",
    "western australia": "wa",
    "tasmania": "tas",
    "northern territory": "nt",
    "australian capital territory": "act",
    "california": "ca",
    "new york": "ny",
    "texas": "tx",
}
_NON_WORD = re.compile(r"[^0-9a-z ]+")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def prepare_records(records: Sequence[Record], config: MatchConfig) -> list[Prepared]:
    """Every record's compared fields, normalised (see :func:`normalize_value`)."""
    return [prepare_record(record, config) for record in records]


def prepare_record(record: Record, config: MatchConfig) -> Prepared:
    prepared: Prepared = {}
    for spec in config.fields:
        value = normalize_value(record.get(spec.name), spec.kind, config.default_country)
        if value:
            prepared[spec.name] = value
    return prepared


def normalize_value(raw: str | None, kind: FieldKind, country: str | None = None) -> str | None:
    """The comparable form of one value, or ``None`` when it is blank or unusable."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text or text.casefold() in {"nan", "none", "null", "n/a"}:
        return None
    if kind == "email":
        return normalize_email(text)
    if kind == "phone":
        if _E164.fullmatch(text):
            return text  # already canonical (callers often hand over E.164): no second parse
        e164 = normalize_phone(text, country)
        if e164 is not None:
            return e164
        digits = re.sub(r"\D", "", text)
        return digits if len(digits) >= 7 else None
    if kind == "date":
        return _date(text)
    words = _words(text)
    if kind in ("given_name", "surname"):
        kept = [word for word in words.split() if word not in _HONORIFICS]
        return " ".join(kept) or None
    if kind == "company":
        kept = [word for word in words.split() if word not in _COMPANY_SUFFIXES]
        return " ".join(kept) or None
    if kind == "address":
        return " ".join(_ADDRESS_WORDS.get(word, word) for word in words.split()) or None
    if kind in ("postcode", "street_number"):
        return words.replace(" ", "") or None
    if kind == "state":
        return _STATES.get(words, words) or None
    return words or None


def _words(text: str) -> str:
    """Lower case, accents folded, punctuation dropped, spaces collapsed."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", ascii_only.replace("'", "").replace("\u2019", "")).split())


def _date(text: str) -> str | None:
    """``YYYYMMDD`` from ``1956-04-09``, ``19560409`` or ``09/04/1956`` (day first)."""
    parts: list[str] = re.findall(r"\d+", text)
    if len(parts) == 1 and len(parts[0]) == 8:
        return parts[0]
    if len(parts) == 3:
        if len(parts[0]) == 4:
            year, month, day = parts
        elif len(parts[2]) == 4:
            day, month, year = parts
        else:
            return None
        return f"{year}{int(month):02d}{int(day):02d}"
    return None


def soundex(word: str) -> str:
    """American Soundex (``robert`` -> ``R163``); blocks names that sound alike."""
    letters = [ch for ch in word.lower() if "a" <= ch <= "z"]
    if not letters:
        return ""
    codes = {
        **dict.fromkeys("bfpv", "1"),
        **dict.fromkeys("cgjkqsxz", "2"),
        **dict.fromkeys("dt", "3"),
        "l": "4",
        **dict.fromkeys("mn", "5"),
        "r": "6",
    }
    out = [letters[0].upper()]
    previous = codes.get(letters[0], "")
    for ch in letters[1:]:
        code = codes.get(ch, "")
        if code and code != previous:
            out.append(code)
        if ch not in "hw":  # h and w do not separate equal codes; vowels do
            previous = code
    return ("".join(out) + "000")[:4]
