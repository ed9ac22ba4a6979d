"""Configuration and results of the matching engine.

A record is a plain mapping of field name to text (``None`` or blank = missing).
:class:`MatchConfig` says what kind of value each field holds, which field
combinations are exact keys, how to block, and how strict the decision is.
Internals use frozen dataclasses (not pydantic) because the engine builds
millions of small values in its inner loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

FieldKind = Literal[
    "given_name",
    "surname",
    "company",
    "date",
    "street_number",
    "address",
    "suburb",
    "postcode",
    "state",
    "phone",
    "email",
    "text",
]
"""How a field is normalised and compared."""

Level = Literal["exact", "close", "similar", "different", "missing"]
"""How well two values agree, best first; ``missing`` when either side is blank."""

LEVELS: tuple[Level, ...] = ("exact", "close", "similar", "different")
"""The levels that carry a weight (``missing`` is always neutral)."""

MatchRule = Literal["exact_key", "model", "cluster"]
"""Why a pair was matched: an exact key rule, the scoring model, or membership of one cluster."""

Record = Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One compared field."""

    name: str
    """The key in each record."""
    kind: FieldKind
    """How the value is normalised and compared."""


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """Records sharing every part of this key are compared with each other.

    Parts are ``"field"`` or ``"field:transform"`` with transform ``initial``,
    ``prefix3``, ``phonetic``, ``year``, ``last7`` (a phone's subscriber digits) or ``sorted``
    (``"names:sorted"`` is the two name fields in alphabetical order, so a swapped first/last
    name shares the key).
    """

    parts: tuple[str, ...]

    @property
    def name(self) -> str:
        return "+".join(self.parts)


PERSON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("given_name", "given_name"),
    FieldSpec("surname", "surname"),
    FieldSpec("date_of_birth", "date"),
    FieldSpec("street_number", "street_number"),
    FieldSpec("address_1", "address"),
    FieldSpec("address_2", "address"),
    FieldSpec("suburb", "suburb"),
    FieldSpec("postcode", "postcode"),
    FieldSpec("state", "state"),
    FieldSpec("phone", "phone"),
    FieldSpec("email", "email"),
    FieldSpec("company", "company"),
)

# Several keys so that a typo in one field leaves at least one key intact.
PERSON_BLOCKING: tuple[BlockingRule, ...] = (
    BlockingRule(("names:sorted",)),
    BlockingRule(("date_of_birth",)),
    BlockingRule(("surname:phonetic", "given_name:initial")),
    BlockingRule(("given_name:phonetic", "surname:initial")),
    BlockingRule(("postcode", "surname:initial")),
    BlockingRule(("postcode", "given_name:initial")),
    BlockingRule(("street_number", "address_1:prefix3")),
    BlockingRule(("suburb", "date_of_birth:year")),
    BlockingRule(("surname:prefix3", "date_of_birth:year")),
    BlockingRule(("phone",)),
    BlockingRule(("email",)),
)

PERSON_EXACT_KEYS: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("given_name", "surname", "date_of_birth"),
)


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Everything the engine needs; the defaults suit people records."""

    fields: tuple[FieldSpec, ...] = PERSON_FIELDS
    exact_keys: tuple[tuple[str, ...], ...] = PERSON_EXACT_KEYS
    """Field combinations whose equality (all present) matches a pair outright,
    unless a name field disagrees outright (a shared ``info@`` mailbox)."""
    blocking: tuple[BlockingRule, ...] = PERSON_BLOCKING
    max_block_size: int = 60
    """Blocks with more records are skipped (reported), never compared all-to-all."""
    min_probability: float = 0.995
    """Posterior match probability a model pair needs; set for precision, not recall."""
    min_name_level: Level = "similar"
    """Without an exact identifier, a name field must agree this well for a model match."""
    corroborating_kinds: tuple[FieldKind, ...] = ("date", "email")
    """Personal identifiers. One agreeing exactly lets the model match a pair whose
    names disagree (a replaced or garbled name); without one, a name must agree and a
    same-surname, other-given-name pair (John and Mary Smith at one address, one
    phone) needs the identifier at least close."""
    cluster_floor_weight: float = 0.0
    """Every pair inside a dedupe cluster must score at least this (log2 odds), so
    clusters never chain A~B~C when A and C contradict each other."""
    max_cluster_size: int = 12
    u_sample_pairs: int = 30_000
    """Random pairs used to estimate how often values agree by chance."""
    em_iterations: int = 30
    seed: int = 7
    """Seed of the random pair sample, so runs are reproducible."""
    default_country: str | None = None
    """Region for phone numbers written without ``+``."""
    one_to_one: bool = True
    """In :func:`link`, each record is linked to at most one record on the other side."""

    def kind_of(self, name: str) -> FieldKind | None:
        for spec in self.fields:
            if spec.name == name:
                return spec.kind
        return None


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    """How one field compared, for an approval card ("why do you think these match?")."""

    field: str
    left: str | None
    right: str | None
    level: Level
    weight: float
    """log2(m/u): positive supports a match, negative speaks against it."""


@dataclass(frozen=True, slots=True)
class Match:
    """A pair judged to be the same entity (indices into the input sequences)."""

    left: int
    right: int
    score: float
    """Total match weight, log2 odds (prior included)."""
    probability: float
    rule: MatchRule
    reason: str
    """One line for people: which rule or the strongest evidence."""
    evidence: tuple[FieldEvidence, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchRun:
    """A run's matches and what the engine did to get them."""

    matches: tuple[Match, ...]
    clusters: tuple[tuple[int, ...], ...] = ()
    """Dedupe only: groups of two or more records judged one entity."""
    pairs_compared: int = 0
    skipped_blocks: tuple[str, ...] = ()
    """Blocking keys whose block was over ``max_block_size`` (``rule=value``)."""
    weights: Mapping[str, Mapping[Level, float]] = field(default_factory=dict)
    """The estimated weight of each field level, for inspection."""
