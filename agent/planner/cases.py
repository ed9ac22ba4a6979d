"""The cases rules cannot decide, with the minimal fields the model needs, in batches.

Two tasks: ``possible_duplicate`` (a fuzzy pair from :mod:`~agent.planner.fuzzy`)
and ``job_title`` (a title the keyword table cannot place). A case shows the
model its records' ids and versions and only the fields needed to decide it.
Records that rules settle never appear in a case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from agent.models import FieldValue, ObjectType, Record
from agent.planner import checks
from agent.planner.base import CRMSnapshot
from agent.planner.draft import RecordKey, _text
from agent.planner.fuzzy import CandidatePair, candidate_pairs
from agent.planner.match_checks import fuzzy_duplicates
from agent.planner.titles import TitleAnswer, classify_title, title_enrichments

Task = Literal["possible_duplicate", "job_title"]
DUPLICATE_FIELDS = ("first_name", "last_name", "company", "title", "email", "phone", "city", "country")
"""What the model sees of each record of a possible duplicate."""


@dataclass(frozen=True)
class Case:
    id: str
    task: Task
    object_type: ObjectType
    records: tuple[Record, ...]
    pair: CandidatePair | None = None
    hint: TitleAnswer | None = None

    @property
    def record_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.records)

    def payload(self) -> dict[str, Any]:
        """The case as the model sees it (goes inside a data block)."""
        body: dict[str, Any] = {"case": self.id, "task": self.task, "object_type": self.object_type}
        if self.pair is not None:
            body["records"] = [_visible(r, DUPLICATE_FIELDS, created=True) for r in self.records]
            body["signals"] = {"blocking": list(self.pair.keys), "similarity": self.pair.score}
        else:
            body["record"] = _visible(self.records[0], ("title",))
            if self.hint is not None and (self.hint.function or self.hint.seniority):
                body["table_hint"] = {
                    k: v
                    for k, v in (("job_function", self.hint.function), ("seniority", self.hint.seniority))
                    if v
                }
        return body


def reserved_records(snapshot: CRMSnapshot) -> set[RecordKey]:
    """Records the rules already claim for a delete or a merge, exact-email or fuzzy (as the
    offline planner does): the model is only asked about what the rules leave open."""
    junk = checks.junk_leads(snapshot.leads)
    merges = checks.duplicate_emails(lead for lead in snapshot.leads if lead.id not in junk)
    reserved: set[RecordKey] = {("lead", lead_id) for lead_id in junk}
    reserved |= {(d.object_type, t.record_id) for d in merges for t in d.targets}
    fuzzy = fuzzy_duplicates([*snapshot.leads, *snapshot.contacts], reserved)
    reserved |= {(d.object_type, t.record_id) for d in fuzzy for t in d.targets}
    return reserved


def build_cases(snapshot: CRMSnapshot, reserved: set[RecordKey]) -> list[Case]:
    """Every case for the model: fuzzy pairs first, then unplaced titles, each in id order."""
    cases: list[Case] = []
    for pair in candidate_pairs(snapshot.leads, reserved):
        cases.append(
            Case(f"c{len(cases) + 1}", "possible_duplicate", "lead", (pair.first, pair.second), pair=pair)
        )
    _, unknown = title_enrichments([*snapshot.leads, *snapshot.contacts], reserved)
    for record in unknown:
        hint = classify_title(_text(record.fields.get("title")))
        cases.append(Case(f"c{len(cases) + 1}", "job_title", record.object_type, (record,), hint=hint))
    return cases


def batches(cases: Iterable[Case], max_records: int) -> list[list[Case]]:
    """Consecutive cases, at most ``max_records`` records a batch (a bigger case gets its own)."""
    out: list[list[Case]] = []
    current: list[Case] = []
    size = 0
    for case in cases:
        if current and size + len(case.records) > max_records:
            out.append(current)
            current, size = [], 0
        current.append(case)
        size += len(case.records)
    if current:
        out.append(current)
    return out


def _visible(record: Record, names: Iterable[str], *, created: bool = False) -> dict[str, FieldValue]:
    shown: dict[str, FieldValue] = {"id": record.id, "version": record.version}
    if created:
        shown["created"] = record.created_at.date().isoformat()
    for name in names:
        value = record.fields.get(name)
        if value not in (None, ""):
            shown[name] = value
    return shown
