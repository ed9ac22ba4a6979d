"""Job title -> function and seniority: the planner's keyword table, extended and made phrase-aware.

Reuses ``agent.planner.titles``' tables (so a word added there counts here too) and
adds what the hygiene checks met that the planner table lacks: sales acronyms (SDR,
BDR), security/people C-levels, junior/intern levels, a few German and French words.
It also fixes two readings the planner's word-by-word match gets wrong, by matching
the longest phrase first and consuming it: "Vice President" is a VP (not the
"President" inside it), and a "Product Owner" is an individual contributor (not an
owner of the company).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from agent.planner.titles import _FUNCTION_WORDS, _SENIORITY_WORDS, SENIORITIES

SOURCE = "offline:title-keywords"
BOTH_AXES_CONFIDENCE = 0.8
ONE_AXIS_CONFIDENCE = 0.6

EXTRA_FUNCTION_WORDS: dict[str, str | None] = {
    # None consumes the phrase without a reading: the "president" in "vice president" is no CEO.
    "vice president": None,
    "sdr": "sales",
    "bdr": "sales",
    "sales development": "sales",
    "ciso": "information_technology",
    "security": "information_technology",
    "chro": "human_resources",
    "general counsel": "legal",
    "product owner": "product",
    "product manager": "product",
    "geschaftsfuhrer": "executive",
    "vertrieb": "sales",
    "commercial": "sales",
    "directeur general": "executive",
    "pdg": "executive",
}
EXTRA_SENIORITY_WORDS: dict[str, str] = {
    "ciso": "c_level",
    "chro": "c_level",
    "general counsel": "vp",
    "vice president": "vp",
    "product owner": "individual_contributor",
    "account manager": "individual_contributor",
    "sdr": "individual_contributor",
    "bdr": "individual_contributor",
    "intern": "individual_contributor",
    "junior": "individual_contributor",
    "trainee": "individual_contributor",
    "geschaftsfuhrer": "c_level",
    "leiter": "director",
    "leiterin": "director",
    "directeur": "director",
    "directrice": "director",
    "directeur general": "c_level",
    "pdg": "c_level",
}

FUNCTION_WORDS: dict[str, str | None] = {**_FUNCTION_WORDS, **EXTRA_FUNCTION_WORDS}
SENIORITY_WORDS: dict[str, str] = {**_SENIORITY_WORDS, **EXTRA_SENIORITY_WORDS}
_RANK = {level: rank for rank, level in enumerate(SENIORITIES)}


@dataclass(frozen=True)
class TitleClassification:
    """The function and seniority a title reads as; ``None`` on an axis the table cannot place."""

    function: str | None
    seniority: str | None
    confidence: float
    source: str = SOURCE

    @property
    def complete(self) -> bool:
        return self.function is not None and self.seniority is not None


def classify_job_title(title: str | None) -> TitleClassification:
    """Function and seniority of ``title`` by keyword table; confidence 0 when it places neither."""
    words = _words(title or "")
    # At each position the longest phrase wins and consumes its words, so "vice president"
    # hides the "president" inside it; the longest function phrase in the title decides.
    functions = [p for p in _FUNCTION_PHRASES.findall(words) if FUNCTION_WORDS[p] is not None]
    function = FUNCTION_WORDS[max(functions, key=len)] if functions else None
    levels = [SENIORITY_WORDS[p] for p in _SENIORITY_PHRASES.findall(words)]
    # The most senior reading wins: "Executive Director" is a director, "VP Sales Lead" a VP.
    seniority = min(levels, key=_RANK.__getitem__) if levels else None
    placed = (function is not None) + (seniority is not None)
    confidence = (0.0, ONE_AXIS_CONFIDENCE, BOTH_AXES_CONFIDENCE)[placed]
    return TitleClassification(function=function, seniority=seniority, confidence=confidence)


def _words(title: str) -> str:
    folded = title.casefold().replace("&", " and ")
    # "Geschäftsführer" -> "geschaftsfuhrer", "Directeur Général" -> "directeur general".
    folded = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9-]+", folded))


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=lambda p: (-len(p), p)))
    return re.compile(rf"(?<![a-z0-9-])(?:{alternatives})(?![a-z0-9-])")


_FUNCTION_PHRASES = _phrase_pattern(FUNCTION_WORDS)
_SENIORITY_PHRASES = _phrase_pattern(SENIORITY_WORDS)
