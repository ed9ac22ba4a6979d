"""A model's proposal tool call -> a :class:`~agent.models.ProposedAction`, or why not.

Nothing the model sends is trusted: the input is validated (types, lengths,
known object types, the title vocabularies), ``before`` values come from the
snapshot rather than from the model, a merge's field plan is computed here
(blank fields only), and the rationale is cleaned and cut. A bad call returns a
message for an error ``tool_result``; it never raises and never writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.models import (
    ActionKind,
    FieldChange,
    FieldValue,
    MergePlan,
    ObjectType,
    ProposedAction,
    Record,
    Target,
)
from agent.planner.cases import Case
from agent.planner.draft import label
from agent.planner.fuzzy import fill_blanks
from agent.planner.record_checks import MERGE_CAVEATS
from agent.planner.titles import FUNCTIONS, JOB_FUNCTION, SENIORITIES, SENIORITY

MAX_RATIONALE = 300
_Id = Annotated[str, Field(min_length=1, max_length=64)]
_VOCABULARIES: dict[str, tuple[str, ...]] = {JOB_FUNCTION: FUNCTIONS, SENIORITY: SENIORITIES}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Ref(_Input):
    record_id: _Id
    version: _Id


class _TargetInput(_Ref):
    changes: dict[Annotated[str, Field(max_length=64)], FieldValue] = Field(default_factory=dict)
    note: Annotated[str, Field(max_length=2000)] | None = None


class _MergeInput(_Input):
    object_type: ObjectType
    records: list[_Ref] = Field(min_length=2, max_length=10)
    survivor_id: _Id
    rationale: Annotated[str, Field(min_length=1, max_length=4000)]
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None


class _TargetsInput(_Input):
    object_type: ObjectType
    targets: list[_TargetInput] = Field(min_length=1, max_length=500)
    rationale: Annotated[str, Field(min_length=1, max_length=4000)]
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None


Records = Mapping[ObjectType, Mapping[str, Record]]


def action_from_tool(
    kind: ActionKind,
    raw: object,
    *,
    records: Records,
    cases: Sequence[Case],
    new_id: Callable[[], str],
    model: str,
) -> ProposedAction | str:
    """The proposal a tool call describes, or a one-line reason it is not a valid one."""
    try:
        if kind == "merge":
            merge = _MergeInput.model_validate(raw)
            object_type, rationale, confidence = merge.object_type, merge.rationale, merge.confidence
            known = records.get(object_type, {})
            targets = [
                _target(known.get(r.record_id), r.record_id, r.version, {}, None) for r in merge.records
            ]
            survivor = known.get(merge.survivor_id)
            others = [
                known[r.record_id]
                for r in merge.records
                if r.record_id != merge.survivor_id and r.record_id in known
            ]
            plan = MergePlan(
                survivor_id=merge.survivor_id,
                field_plan=fill_blanks(survivor, others) if survivor else {},
                caveats=list(MERGE_CAVEATS),
            )
        else:
            given = _TargetsInput.model_validate(raw)
            object_type, rationale, confidence = given.object_type, given.rationale, given.confidence
            known = records.get(object_type, {})
            problem = _vocabulary_problem(given.targets)
            if problem:
                return problem
            targets = [
                _target(known.get(t.record_id), t.record_id, t.version, t.changes, t.note)
                for t in given.targets
            ]
            plan = None
        ids = {t.record_id for t in targets}
        matched = [c for c in cases if c.object_type == object_type and set(c.record_ids) <= ids]
        evidence: dict[str, str | int | float | bool] = {"source": "claude", "model": model}
        if confidence is not None:
            evidence["confidence"] = round(confidence, 3)
        if matched:
            evidence["cases"] = ", ".join(c.id for c in matched)
            pair = next((c.pair for c in matched if c.pair is not None), None)
            if pair is not None:
                evidence["similarity"] = pair.score
                evidence["blocking"] = ", ".join(pair.keys)
        return ProposedAction(
            id=new_id(),
            kind=kind,
            object_type=object_type,
            targets=targets,
            merge=plan,
            rationale=clean_rationale(rationale),
            evidence=evidence,
            planner="claude",
            check=_check(kind, matched),
            requested_by="agent",
        )
    except ValidationError as error:
        return "invalid input: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in error.errors()[:5]
        )


def clean_rationale(text: str) -> str:
    """One line, no control characters, at most :data:`MAX_RATIONALE` characters."""
    flat = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text)
    flat = " ".join(flat.split())
    return flat if len(flat) <= MAX_RATIONALE else flat[: MAX_RATIONALE - 1].rstrip() + "…"


def _target(
    record: Record | None, record_id: str, version: str, changes: dict[str, FieldValue], note: str | None
) -> Target:
    """A target whose ``before`` values are the snapshot's, never the model's."""
    return Target(
        record_id=record_id,
        version=version,
        label=label(record) if record is not None else None,
        changes={
            name: FieldChange(before=record.get(name) if record is not None else None, after=value)
            for name, value in changes.items()
        },
        note=note,
    )


def _vocabulary_problem(targets: Sequence[_TargetInput]) -> str | None:
    for target in targets:
        for name, allowed in _VOCABULARIES.items():
            value = target.changes.get(name)
            if name in target.changes and value not in allowed:
                return f"invalid input: {name} must be one of {', '.join(allowed)}, not {value!r}"
    return None


def _check(kind: ActionKind, matched: Sequence[Case]) -> str:
    tasks = {c.task for c in matched}
    if kind == "merge" and "possible_duplicate" in tasks:
        return "fuzzy_duplicate"
    if kind == "enrich_data" and "job_title" in tasks:
        return "job_title"
    return "model"


def describe_input(raw: Any, limit: int = 500) -> str:
    """A short, safe rendering of a tool input for the audit log."""
    text = repr(raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"
