"""Possible duplicates the exact-email rule does not settle: blocking, then a similarity score.

Blocking puts two leads side by side when they share a key: first + last name,
last name + the company's first word, first name + company word, or the same
phone (in E.164). One typo in a name or the company still leaves one key
intact. A pair that scores below :data:`MIN_SCORE` is settled by the rules as
"not the same person"; the rest are ambiguous and go to the model. The rules
never merge a fuzzy pair on their own: precision first, a wrong merge destroys data.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from agent.models import FieldValue, Record
from agent.normalize import country_code, normalize_email, normalize_phone
from agent.planner.draft import RecordKey, _text, key

MIN_SCORE = 0.8
"""Pairs scoring lower are different people as far as the rules are concerned."""
MAX_BLOCK = 20
"""A key shared by more leads than this (a switchboard number) is too common to block on."""
_COMPANY_NOISE = frozenset({
    "the", "and", "und", "et", "inc", "llc", "ltd", "plc", "gmbh", "ag", "kg", "co",
    "corp", "company", "group", "sa", "sas", "sarl", "bv", "nv",
})  # fmt: skip


@dataclass(frozen=True)
class CandidatePair:
    """Two leads the blocking put together, with why and how alike they are."""

    first: Record
    """The older record (the natural survivor)."""
    second: Record
    keys: tuple[str, ...]
    """The blocking keys they share, e.g. ``("name", "phone")``."""
    score: float

    @property
    def record_ids(self) -> tuple[str, str]:
        return self.first.id, self.second.id


def candidate_pairs(leads: Iterable[Record], reserved: set[RecordKey]) -> list[CandidatePair]:
    """Ambiguous pairs (score >= MIN_SCORE), by record ids; reserved leads are left out."""
    pool = [lead for lead in leads if key(lead) not in reserved]
    by_id = {lead.id: lead for lead in pool}
    blocks: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for lead in pool:
        for block_key in _block_keys(lead):
            blocks[block_key].append(lead.id)
    shared: dict[tuple[str, str], set[str]] = defaultdict(set)
    for block_key, ids in blocks.items():
        if len(ids) > MAX_BLOCK:
            continue
        for a, b in itertools.combinations(sorted(ids), 2):
            shared[(a, b)].add(block_key[0])
    pairs = []
    for (a, b), keys in sorted(shared.items()):
        left, right = by_id[a], by_id[b]
        if _email(left) is not None and _email(left) == _email(right):
            continue  # the exact-email rule's business
        first, second = sorted((left, right), key=lambda r: (r.created_at, r.id))
        score = similarity(first, second)
        if score >= MIN_SCORE:
            pairs.append(CandidatePair(first, second, tuple(sorted(keys)), score))
    return pairs


def similarity(a: Record, b: Record) -> float:
    """0..1 over first name, last name, company, email domain and phone.

    The first name weighs most: the same surname at the same company is often a
    colleague or a relative, and that pair must stay below :data:`MIN_SCORE`.
    """
    first = _ratio(_norm(a.get("first_name")), _norm(b.get("first_name")))
    last = _ratio(_norm(a.get("last_name")), _norm(b.get("last_name")))
    company = _ratio(_norm(a.get("company")), _norm(b.get("company")))
    domain = 1.0 if _domain(a) and _domain(a) == _domain(b) else 0.0
    phone_a, phone_b = _phone(a), _phone(b)
    phone = 1.0 if phone_a and phone_a == phone_b else 0.5 if not (phone_a and phone_b) else 0.0
    return round(0.3 * first + 0.25 * last + 0.2 * company + 0.15 * domain + 0.1 * phone, 3)


def fill_blanks(survivor: Record, others: Iterable[Record]) -> dict[str, FieldValue]:
    """The survivor's blank fields, filled from the most recently updated other record that has them."""
    donors = sorted(others, key=lambda r: (r.updated_at, r.id), reverse=True)
    plan: dict[str, FieldValue] = {}
    names = sorted({name for r in donors for name in r.fields} - {"email"})
    for name in [*names, "owner_id"]:
        if not _blank(survivor.get(name)):
            continue
        value = next((d.get(name) for d in donors if not _blank(d.get(name))), None)
        if value is not None:
            plan[name] = value
    return plan


def _blank(value: FieldValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _block_keys(lead: Record) -> list[tuple[str, ...]]:
    first, last = _norm(lead.get("first_name")), _norm(lead.get("last_name"))
    company = _company_word(lead.get("company"))
    keys: list[tuple[str, ...]] = []
    if first and last:
        keys.append(("name", first, last))
    if last and company:
        keys.append(("last+company", last, company))
    if first and company:
        keys.append(("first+company", first, company))
    phone = _phone(lead)
    if phone:
        keys.append(("phone", phone))
    return keys


def _norm(value: FieldValue) -> str:
    text = unicodedata.normalize("NFKD", _text(value)).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _company_word(value: FieldValue) -> str:
    words = [w for w in _norm(value).split() if w not in _COMPANY_NOISE]
    return words[0] if words else ""


def _email(record: Record) -> str | None:
    return normalize_email(_text(record.get("email")) or None)


def _domain(record: Record) -> str:
    return (_email(record) or "").rpartition("@")[2]


def _phone(record: Record) -> str | None:
    raw = _text(record.get("phone"))
    return normalize_phone(raw, country_code(_text(record.get("country")) or None)) if raw else None


def _ratio(a: str, b: str) -> float:
    if not a and not b:
        return 0.5
    return SequenceMatcher(None, a, b).ratio()
