"""Compare two prepared records field by field into agreement levels.

Each field kind has its own notion of "close" (one typo in a postcode, a
transposed day and month in a date, Jaro-Winkler >= 0.92 for a name) so that the
scoring model can learn how much each level is worth. A given name and surname
written the wrong way round are compared crossed when that agrees better.
"""

from __future__ import annotations

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.fuzz import token_sort_ratio

from agent.matching.models import FieldKind, Level, MatchConfig
from agent.matching.prepare import Prepared

Comparison = tuple[Level, ...]
"""One level per configured field, in ``MatchConfig.fields`` order."""

_NAME_KINDS = ("given_name", "surname", "company", "suburb", "text")


def compare(left: Prepared, right: Prepared, config: MatchConfig) -> Comparison:
    """The agreement level of every configured field for one pair."""
    swapped = _names_swapped(left, right, config)
    levels: list[Level] = []
    for spec in config.fields:
        a = left.get(spec.name)
        b = right.get(spec.name)
        if swapped is not None and spec.name in swapped:
            b = right.get(swapped[spec.name])
        levels.append(compare_values(a, b, spec.kind))
    return tuple(levels)


def compare_values(a: str | None, b: str | None, kind: FieldKind) -> Level:
    """How well two normalised values of one kind agree."""
    if a is None or b is None:
        return "missing"
    if a == b:
        return "exact"
    if kind in _NAME_KINDS:
        return _name_level(a, b)
    if kind == "address":
        return _address_level(a, b)
    if kind == "date":
        return _date_level(a, b)
    if kind in ("postcode", "street_number"):
        return "close" if DamerauLevenshtein.distance(a, b) <= 1 else "different"
    if kind == "phone":
        # The same subscriber number with or without a country/area prefix.
        return "close" if len(a) >= 7 and len(b) >= 7 and a[-7:] == b[-7:] else "different"
    if kind == "email":
        return "close" if DamerauLevenshtein.distance(a, b) <= 1 else "different"
    return "different"


def _name_level(a: str, b: str) -> Level:
    if a.replace(" ", "") == b.replace(" ", ""):
        return "exact"
    similarity = JaroWinkler.similarity(a, b)
    if similarity >= 0.92 or DamerauLevenshtein.distance(a, b) <= 1:
        return "close"
    if similarity >= 0.82:
        return "similar"
    return "different"


def _address_level(a: str, b: str) -> Level:
    squeezed_a, squeezed_b = a.replace(" ", ""), b.replace(" ", "")
    if squeezed_a == squeezed_b:
        return "exact"  # "pridhamstreet" vs "pridham street"
    similarity = max(JaroWinkler.similarity(squeezed_a, squeezed_b), token_sort_ratio(a, b) / 100)
    if similarity >= 0.92:
        return "close"
    if similarity >= 0.82:
        return "similar"
    return "different"


def _date_level(a: str, b: str) -> Level:
    if len(a) == 8 and len(b) == 8 and a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
        return "close"  # day and month swapped
    distance = DamerauLevenshtein.distance(a, b)
    if distance <= 1:
        return "close"
    if distance <= 2 or a[:4] == b[:4]:
        return "similar"
    return "different"


def _names_swapped(left: Prepared, right: Prepared, config: MatchConfig) -> dict[str, str] | None:
    """``{given: surname, surname: given}`` when comparing crossed agrees clearly better."""
    given = next((s.name for s in config.fields if s.kind == "given_name"), None)
    surname = next((s.name for s in config.fields if s.kind == "surname"), None)
    if given is None or surname is None:
        return None
    lg, ls, rg, rs = left.get(given), left.get(surname), right.get(given), right.get(surname)
    if lg is None or ls is None or rg is None or rs is None:
        return None
    straight = JaroWinkler.similarity(lg, rg) + JaroWinkler.similarity(ls, rs)
    crossed = JaroWinkler.similarity(lg, rs) + JaroWinkler.similarity(ls, rg)
    if crossed > straight + 0.3:
        return {given: surname, surname: given}
    return None
