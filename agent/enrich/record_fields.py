"""Per-record normalisation: which fields of a CRM record have a certain canonical form, and
which are ambiguous and need a person.

This is the bridge a hygiene check uses: it reads a :class:`agent.models.Record` and
answers with :class:`FieldFix` values (before, after, source, confidence, reason) for
the fields it can canonicalise with confidence at or above ``min_confidence``, and
:class:`FieldQuestion` values for the ones it will not force ("Georgia"). It proposes
nothing itself; turning fixes into ``normalize_field`` actions is the check's job,
and the policy decides what happens to them.

Canonical forms: email lower-case; phone E.164; country ISO 3166-1 alpha-2 (``"US"``);
state the ISO 3166-2 code without its country prefix (``"CA"``, ``"BY"``); website a
bare host (``"acme.com"``); domain the registrable domain; names cased by
:func:`agent.enrich.names.normalize_person_name`.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.enrich.domains import DomainParser
from agent.enrich.emails import check_email
from agent.enrich.fields import normalize_website
from agent.enrich.geography import Geography, GeoMatch
from agent.enrich.names import normalize_person_name
from agent.enrich.offline import OfflineProvider
from agent.enrich.phones import check_phone
from agent.enrich.reference import ReferenceLists
from agent.models import FieldValue, Record

NAME_FIELDS = ("first_name", "last_name")
DEFAULT_MIN_CONFIDENCE = 0.9


@dataclass(frozen=True)
class FieldFix:
    """A field whose canonical form differs from what the record holds."""

    field: str
    before: FieldValue
    after: str
    source: str
    confidence: float
    reason: str


@dataclass(frozen=True)
class FieldQuestion:
    """A field the normaliser will not change on its own: it has several readings."""

    field: str
    value: str
    candidates: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class RecordNormalisation:
    fixes: tuple[FieldFix, ...]
    questions: tuple[FieldQuestion, ...]


class RecordNormaliser:
    """Applies the field normalisers to one record at a time; build one per plan (it remembers)."""

    def __init__(
        self,
        *,
        lists: ReferenceLists,
        domains: DomainParser,
        geography: Geography,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> None:
        self.lists = lists
        self.domains = domains
        self.geography = geography
        self.min_confidence = min_confidence
        # Several checks of one plan ask about the same record object: read it once. Keyed by
        # identity and holding the record, so a key cannot be reused by another object.
        self._seen: dict[int, tuple[Record, RecordNormalisation]] = {}

    @classmethod
    def sharing(
        cls, offline: OfflineProvider, min_confidence: float = DEFAULT_MIN_CONFIDENCE
    ) -> RecordNormaliser:
        """A normaliser over the reference data an :class:`OfflineProvider` already loaded."""
        return cls(
            lists=offline.lists,
            domains=offline.domains,
            geography=offline.geography,
            min_confidence=min_confidence,
        )

    def normalise(self, record: Record) -> RecordNormalisation:
        """The fixes that are certain enough, and the questions for values that are ambiguous.

        Remembered per record object for the normaliser's life (build one per plan).
        """
        known = self._seen.get(id(record))
        if known is None or known[0] is not record:
            known = self._seen[id(record)] = (record, self._normalise(record))
        return known[1]

    def _normalise(self, record: Record) -> RecordNormalisation:
        found = _Collector(record, self.min_confidence)
        fields = record.fields
        country_raw = _text(fields.get("country"))
        email = _text(fields.get("email"))
        if email:
            check = check_email(email, self.lists)
            if check.valid:
                found.propose("email", check.email, "offline:email-validator", 1.0, "lower-case, trimmed")
        phone = _text(fields.get("phone"))
        if phone:
            read = check_phone(phone, country_raw or None, self.geography)
            found.propose("phone", read.e164, read.source, read.confidence, "E.164 in the record's country")
        for name_field in NAME_FIELDS:
            name = _text(fields.get(name_field))
            if name:
                fixed = normalize_person_name(name)
                found.propose(name_field, fixed, "offline:name-rules", 1.0, "casing and spacing")
        if country_raw:
            match = self.geography.country(country_raw)
            found.place("country", country_raw, match, match.code)
        state_raw = _text(fields.get("state"))
        if state_raw:
            match = self.geography.subdivision(state_raw, country_raw or None)
            found.place("state", state_raw, match, match.code.partition("-")[2] if match.code else None)
        website = _text(fields.get("website"))
        if website:
            host = normalize_website(website, self.domains)
            found.propose("website", host, "offline:tldextract", 1.0, "bare lower-case host")
        domain = _text(fields.get("domain"))
        if domain:
            registrable = self.domains.registrable_domain(domain)
            found.propose("domain", registrable, "offline:tldextract", 1.0, "registrable domain")
        return RecordNormalisation(fixes=tuple(found.fixes), questions=tuple(found.questions))


class _Collector:
    def __init__(self, record: Record, min_confidence: float) -> None:
        self.record = record
        self.min_confidence = min_confidence
        self.fixes: list[FieldFix] = []
        self.questions: list[FieldQuestion] = []

    def propose(self, field: str, after: str | None, source: str, confidence: float, reason: str) -> None:
        before = self.record.fields.get(field)
        if after is not None and after != before and confidence >= self.min_confidence:
            self.fixes.append(FieldFix(field, before, after, source, confidence, reason))

    def place(self, field: str, raw: str, match: GeoMatch, canonical: str | None) -> None:
        if match.ambiguous:
            self.questions.append(FieldQuestion(field, raw, match.candidates, match.note or "ambiguous"))
            return
        reason = f"ISO 3166 code for {match.name}" if match.name else "ISO 3166 code"
        self.propose(field, canonical, match.source, match.confidence, reason)


def _text(value: FieldValue) -> str:
    return value.strip() if isinstance(value, str) else ""
