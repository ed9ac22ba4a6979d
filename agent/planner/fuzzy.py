"""People matching on the engine (:mod:`agent.matching`): the CRM field mapping and the pairs for the model.

:data:`PERSON_MATCH` maps lead and contact fields onto the engine's field kinds and
blocking keys (sorted names, a phonetic surname with the given name's initial,
the company's first letters with the surname's initial, the phone, the email).
Values are prepared before the engine sees them: the phone goes to E.164 with the
*record's* country, and a role or unusable address (``info@``, ``sales@``,
a throwaway domain) is dropped, because a shared inbox says nothing about who a
person is and the engine would otherwise take an equal email as proof.

:func:`candidate_pairs` lists the pairs the model may judge: every pair the engine
gives a probability of at least :data:`MIN_PROBABILITY` (the documented lower
bound) among the leads not in ``reserved``. Pairs the engine *accepts* (at least
``MatchConfig.min_probability``) are merged by the offline rule
:func:`agent.planner.match_checks.fuzzy_duplicates`; the caller reserves their
records, which leaves exactly the ambiguous band for the model (plus accepted pairs
the rule's guards refused: a name disagreeing outright, contacts under two accounts).
Pairs below the bound are settled as "different people". The rules never merge a
pair the engine does not accept: precision first, a wrong merge destroys data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from agent.enrich.reference import ReferenceLists, load_reference_lists
from agent.matching import BlockingRule, FieldSpec, Match, MatchConfig, MatchRun, dedupe
from agent.matching.blocking import blocking_key
from agent.matching.prepare import prepare_record
from agent.models import FieldValue, Record
from agent.normalize import normalize_email, normalize_phone
from agent.planner.draft import RecordKey, _text, key
from agent.planner.survivorship import field_plan

MIN_PROBABILITY = 0.5
"""The lower bound of the ambiguous band: below it the engine's odds say "two people"."""

PERSON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("first_name", "given_name"),
    FieldSpec("last_name", "surname"),
    FieldSpec("email", "email"),
    FieldSpec("phone", "phone"),
    FieldSpec("company", "company"),
    FieldSpec("city", "suburb"),
    FieldSpec("postcode", "postcode"),
    FieldSpec("state", "state"),
)
PERSON_MATCH = MatchConfig(
    fields=PERSON_FIELDS,
    exact_keys=(("email",),),
    blocking=(
        BlockingRule(("names:sorted",)),
        BlockingRule(("last_name:phonetic", "first_name:initial")),
        # No "first name sounds alike, same surname initial" key: it only adds surname typos
        # that change the surname's sound *and* share no phone, email or company, and it cost
        # a quarter of the matching time (25,500 seeded people: 2.7 s instead of 3.5 s, the
        # same 359 of 360 planted pairs found).
        BlockingRule(("company:prefix3", "last_name:initial")),
        BlockingRule(("phone",)),
        BlockingRule(("email",)),
    ),
    # A CRM has no birth date: a personal email is the only identifier that may
    # outweigh disagreeing names (role addresses never reach the engine, see above).
    corroborating_kinds=("email",),
    # m stays at the engine's starting values; u is still estimated from the data. CRM
    # candidate pairs are mostly colleagues and namesakes, and EM drifts there to calling
    # them matches (10k seeded leads: 1,117 merges for 120 planted duplicates at 30
    # iterations; 121 with EM off, all 120 found; 30k: 362, all 360 found).
    em_iterations=0,
    # A name shared by more than 20 people (Michael Smith in a large CRM) blocks nothing useful;
    # such people still meet through their phone, email or company. On 25,500 seeded people
    # 20 finds the same 359 of 360 planted pairs as 60, in two thirds of the time.
    max_block_size=20,
)
"""The engine configuration for leads and contacts (precision first: ``min_probability`` 0.995)."""
NAME_FIELDS = ("first_name", "last_name")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_STRONG = ("exact", "close")


@dataclass(frozen=True)
class CandidatePair:
    """Two leads the blocking put together, with why and how alike they are."""

    first: Record
    """The older record (the natural survivor)."""
    second: Record
    keys: tuple[str, ...]
    """The blocking keys they share, e.g. ``("names:sorted", "phone")``."""
    score: float
    """The engine's match probability for the pair (0..1)."""

    @property
    def record_ids(self) -> tuple[str, str]:
        return self.first.id, self.second.id


def person_match_records(records: Sequence[Record], lists: ReferenceLists) -> list[dict[str, str | None]]:
    """Each record's compared fields as the engine takes them (see the module docstring)."""
    out: list[dict[str, str | None]] = []
    for record in records:
        values: dict[str, str | None] = {
            spec.name: _text(record.get(spec.name)) or None for spec in PERSON_FIELDS
        }
        values["email"] = _personal_email(record, lists)
        raw_phone = values["phone"]
        if raw_phone is not None:
            # The record's own country reads a national number; keep the raw digits otherwise.
            values["phone"] = normalize_phone(raw_phone, _text(record.get("country")) or None) or raw_phone
        out.append(values)
    return out


def match_people(
    records: Sequence[Record], lists: ReferenceLists, config: MatchConfig = PERSON_MATCH
) -> MatchRun:
    """The engine's dedupe run over ``records`` (indices in the run refer to this sequence)."""
    return dedupe(person_match_records(records, lists), config)


def rule_holds(match: Match, left: Record, right: Record) -> bool:
    """The checks a model match must pass on top of the engine before the rules merge it.

    - no name disagrees outright: a shared first name, city and postcode scored 0.997
      on the 10k seeded sample although the surnames differ (Joseph Moore, Joseph Miller);
    - a contact point agrees: the company or the phone at least ``close``, or (contacts)
      the same account. Namesakes in one city at other firms scored above 0.995 on the
      100k sample (38 of 1,236 merges) with only names and the place agreeing.

    The exact-key rule (an equal personal email) needs neither.
    """
    if match.rule == "exact_key":
        return True
    levels = {e.field: e.level for e in match.evidence}
    if any(levels.get(name) == "different" for name in NAME_FIELDS):
        return False
    if levels.get("company") in _STRONG or levels.get("phone") in _STRONG:
        return True
    account = _text(left.get("account_id"))
    return bool(account) and account == _text(right.get("account_id"))


def candidate_pairs(
    leads: Iterable[Record], reserved: set[RecordKey], *, lists: ReferenceLists | None = None
) -> list[CandidatePair]:
    """Pairs scoring at least :data:`MIN_PROBABILITY`, by record ids; reserved leads are left out.

    Pairs sharing an exact email are left to the exact-email rule.
    """
    pool = sorted((lead for lead in leads if key(lead) not in reserved), key=lambda r: r.id)
    reference = lists or load_reference_lists()
    run = match_people(pool, reference, replace(PERSON_MATCH, min_probability=MIN_PROBABILITY))
    prepared = [prepare_record(values, PERSON_MATCH) for values in person_match_records(pool, reference)]
    pairs = []
    for match in run.matches:
        if match.probability < MIN_PROBABILITY:
            continue  # a cluster member whose own pair is weak: the model judges strong pairs only
        left, right = pool[match.left], pool[match.right]
        if _email(left) is not None and _email(left) == _email(right):
            continue  # the exact-email rule's business
        first, second = sorted((left, right), key=lambda r: (r.created_at, r.id))
        keys = tuple(
            sorted(
                rule.name
                for rule in PERSON_MATCH.blocking
                if (shared := blocking_key(prepared[match.left], rule, PERSON_MATCH)) is not None
                and shared == blocking_key(prepared[match.right], rule, PERSON_MATCH)
            )
        )
        pairs.append(CandidatePair(first, second, keys, round(match.probability, 3)))
    return sorted(pairs, key=lambda p: p.record_ids)


def similarity(a: Record, b: Record, *, lists: ReferenceLists | None = None) -> float:
    """The engine's match probability for ``a`` and ``b`` judged on their own (0.0 when it rejects them).

    The model is fitted on the two records alone, so the number can differ from the
    one a pair gets inside a whole run; it is meant for explaining a single pair.
    """
    config = replace(PERSON_MATCH, min_probability=MIN_PROBABILITY)
    run = match_people([a, b], lists or load_reference_lists(), config)
    return round(run.matches[0].probability, 3) if run.matches else 0.0


def fill_blanks(survivor: Record, others: Iterable[Record]) -> dict[str, FieldValue]:
    """The survivor's blank fields, filled from the most recently updated other record that has them."""
    return field_plan(survivor, list(others), skip=frozenset({"email"}))


def _personal_email(record: Record, lists: ReferenceLists) -> str | None:
    email = _email(record)
    # The shape of an address, not a full syntax check: judging syntax is the invalid_email
    # check's job, and on a CRM too large for the caches a second full parse of every address
    # here cost more than the match itself. An unusual address equal on two records still
    # says they are one person.
    if email is None or not _ADDRESS.fullmatch(email):
        return None
    if lists.is_role_account(email.partition("@")[0]) or lists.is_disposable(email.rpartition("@")[2]):
        return None
    return email


def _email(record: Record) -> str | None:
    return normalize_email(_text(record.get("email")) or None)
