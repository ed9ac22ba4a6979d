"""Job title -> function and seniority: a small keyword table first, the model for the rest.

The table answers the common titles (every title the sample CRM uses); a title it
cannot place on both axes becomes a case for the model. Only blank
``job_function`` / ``seniority`` fields are filled: a value a person set is never
overwritten by a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agent.crm.fields import fields_of
from agent.models import FieldChange, Record
from agent.planner.draft import Draft, RecordKey, _by_id, _text, key, target

JOB_FUNCTION = "job_function"
SENIORITY = "seniority"
TITLE_CHECK = "job_title"

FUNCTIONS: tuple[str, ...] = (
    "executive",
    "sales",
    "marketing",
    "operations",
    "finance",
    "engineering",
    "information_technology",
    "product",
    "procurement",
    "human_resources",
    "customer_success",
    "legal",
    "administration",
    "other",
)
SENIORITIES: tuple[str, ...] = ("c_level", "vp", "director", "manager", "individual_contributor")

# Phrases are matched on whole words of the casefolded title, longest phrase first, and a
# matched phrase consumes its words: "account executive" hides the "executive" in it,
# "vice president" the "president" and "product owner" the "owner".
_FUNCTION_WORDS: dict[str, str | None] = {
    # None consumes the phrase without a reading: a vice president is no chief executive.
    "vice president": None,
    "product owner": "product",
    "ceo": "executive",
    "chief executive": "executive",
    "founder": "executive",
    "co-founder": "executive",
    "cofounder": "executive",
    "president": "executive",
    "owner": "executive",
    "managing director": "executive",
    "general manager": "executive",
    "cto": "engineering",
    "chief technology": "engineering",
    "engineer": "engineering",
    "engineering": "engineering",
    "developer": "engineering",
    "software": "engineering",
    "cfo": "finance",
    "chief financial": "finance",
    "finance": "finance",
    "financial": "finance",
    "accounting": "finance",
    "accountant": "finance",
    "controller": "finance",
    "coo": "operations",
    "chief operating": "operations",
    "operations": "operations",
    "ops": "operations",
    "logistics": "operations",
    "cmo": "marketing",
    "marketing": "marketing",
    "brand": "marketing",
    "demand generation": "marketing",
    "cro": "sales",
    "sales": "sales",
    "account executive": "sales",
    "account manager": "sales",
    "business development": "sales",
    "revenue": "sales",
    "cio": "information_technology",
    "it": "information_technology",
    "information technology": "information_technology",
    "systems": "information_technology",
    "product": "product",
    "procurement": "procurement",
    "purchasing": "procurement",
    "buyer": "procurement",
    "hr": "human_resources",
    "human resources": "human_resources",
    "people": "human_resources",
    "recruiter": "human_resources",
    "talent": "human_resources",
    "customer success": "customer_success",
    "support": "customer_success",
    "legal": "legal",
    "counsel": "legal",
    "office manager": "administration",
    "office": "administration",
    "assistant": "administration",
    "administrator": "administration",
}
_SENIORITY_WORDS: dict[str, str] = {
    "ceo": "c_level",
    "cto": "c_level",
    "cfo": "c_level",
    "coo": "c_level",
    "cmo": "c_level",
    "cio": "c_level",
    "cro": "c_level",
    "chief": "c_level",
    "founder": "c_level",
    "co-founder": "c_level",
    "cofounder": "c_level",
    "president": "c_level",
    "owner": "c_level",
    "managing director": "c_level",
    "vp": "vp",
    "svp": "vp",
    "evp": "vp",
    "vice president": "vp",
    "product owner": "individual_contributor",
    "director": "director",
    "head": "director",
    "manager": "manager",
    "lead": "manager",
    "supervisor": "manager",
    "executive": "individual_contributor",
    "engineer": "individual_contributor",
    "developer": "individual_contributor",
    "specialist": "individual_contributor",
    "analyst": "individual_contributor",
    "associate": "individual_contributor",
    "representative": "individual_contributor",
    "coordinator": "individual_contributor",
    "assistant": "individual_contributor",
    "accountant": "individual_contributor",
    "recruiter": "individual_contributor",
    "buyer": "individual_contributor",
}
_SENIORITY_RANK = {level: rank for rank, level in enumerate(SENIORITIES)}


@dataclass(frozen=True)
class TitleAnswer:
    """What the table says about a title; ``None`` where it has no answer."""

    function: str | None
    seniority: str | None

    @property
    def complete(self) -> bool:
        return self.function is not None and self.seniority is not None


def classify_title(title: str) -> TitleAnswer:
    """The function and seniority the keyword table gives ``title``.

    At each position the longest phrase wins and consumes its words; the longest
    function phrase in the title decides the function ("Sales Operations Manager" is
    operations), the most senior seniority phrase the seniority.
    """
    words = " ".join(re.findall(r"[a-z0-9-]+", title.casefold().replace("&", " and ")))
    functions = [p for p in _FUNCTION_PHRASES.findall(words) if _FUNCTION_WORDS[p] is not None]
    function = _FUNCTION_WORDS[max(functions, key=len)] if functions else None
    levels = [_SENIORITY_WORDS[p] for p in _SENIORITY_PHRASES.findall(words)]
    # The most senior word wins: "Executive Director" is a director, "VP Sales Lead" a VP.
    seniority = min(levels, key=_SENIORITY_RANK.__getitem__) if levels else None
    return TitleAnswer(function=function, seniority=seniority)


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Longest-first alternation of ``phrases`` on whole words."""
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=lambda p: (-len(p), p)))
    return re.compile(rf"(?<![a-z0-9-])(?:{alternatives})(?![a-z0-9-])")


_FUNCTION_PHRASES = _phrase_pattern(_FUNCTION_WORDS)
_SENIORITY_PHRASES = _phrase_pattern(_SENIORITY_WORDS)


def needs_title_enrichment(record: Record) -> bool:
    """A person with a title, blank function and seniority, and a CRM that has both fields."""
    if record.object_type == "account" or not {JOB_FUNCTION, SENIORITY} <= fields_of(record.object_type):
        return False
    return bool(_text(record.fields.get("title"))) and not (
        _text(record.fields.get(JOB_FUNCTION)) or _text(record.fields.get(SENIORITY))
    )


def enrichment_changes(record: Record, function: str, seniority: str) -> dict[str, FieldChange]:
    return {
        JOB_FUNCTION: FieldChange(before=record.fields.get(JOB_FUNCTION), after=function),
        SENIORITY: FieldChange(before=record.fields.get(SENIORITY), after=seniority),
    }


def title_enrichments(
    records: Iterable[Record], reserved: set[RecordKey]
) -> tuple[list[Draft], list[Record]]:
    """``enrich_data`` drafts for the titles the table places, and the records it cannot place."""
    drafts: list[Draft] = []
    unknown: list[Record] = []
    for record in _by_id(records):
        if key(record) in reserved or not needs_title_enrichment(record):
            continue
        title = _text(record.fields.get("title"))
        answer = classify_title(title)
        if answer.function is None or answer.seniority is None:
            unknown.append(record)
            continue
        drafts.append(
            Draft(
                check=TITLE_CHECK,
                kind="enrich_data",
                object_type=record.object_type,
                targets=(
                    target(record, changes=enrichment_changes(record, answer.function, answer.seniority)),
                ),
                rationale=(
                    f"The title '{title}' reads as {answer.function.replace('_', ' ')}, "
                    f"{answer.seniority.replace('_', ' ')}, by the title keyword table."
                ),
                evidence={"rule": "title keyword table", "source": "offline rules", "title": title},
            )
        )
    return drafts, unknown
