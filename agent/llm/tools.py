"""The tools the model may call: reads, proposals (one per action kind) and skipping cases.

Schemas are JSON Schema, as the Messages API takes them. The last tool carries
``cache_control`` so the whole tool list is cached with the system prompt.
A schema is a hint for the model, not a check: every input is validated again
when the call is turned into a proposal (:mod:`agent.planner.tool_calls`).
"""

from __future__ import annotations

from typing import Any

from agent.models import PLANNER_KINDS, ActionKind

OBJECT_TYPES = ["lead", "contact", "account"]
GET_RECORD = "get_record"
LIST_CANDIDATES = "list_candidates"
SKIP_CASES = "skip_cases"
PROPOSE_PREFIX = "propose_"
MAX_TARGETS = 500
"""A schema bound only; the policy's bulk rule decides what a large proposal needs."""

_DESCRIPTIONS: dict[ActionKind, str] = {
    "merge": "Merge duplicate records into one survivor (the others are removed; blanks are filled).",
    "enrich_data": "Fill in or correct field values (e.g. job_function and seniority from a title).",
    "normalize_field": "Rewrite field values into a standard format without changing their meaning.",
    "update_lead_status": "Change the status of leads.",
    "assign_owner": 'Give records an owner (changes: {"owner_id": OWNER}).',
    "change_owner": 'Hand records to another owner (changes: {"owner_id": OWNER}).',
    "add_note": "Attach a note to records.",
    "delete": "Delete records.",
}

_RATIONALE = {"type": "string", "description": "One sentence for the approver: why."}
_CONFIDENCE = {"type": "number", "minimum": 0, "maximum": 1}
_REF_PROPERTIES: dict[str, Any] = {"record_id": {"type": "string"}, "version": {"type": "string"}}
_REF: dict[str, Any] = {"type": "object", "properties": _REF_PROPERTIES, "required": ["record_id", "version"]}


def proposal_tool_name(kind: ActionKind) -> str:
    return f"{PROPOSE_PREFIX}{kind}"


def _proposal_tool(kind: ActionKind) -> dict[str, Any]:
    if kind == "merge":
        properties: dict[str, Any] = {
            "object_type": {"type": "string", "enum": OBJECT_TYPES},
            "records": {"type": "array", "items": _REF, "minItems": 2, "maxItems": 10},
            "survivor_id": {"type": "string"},
            "rationale": _RATIONALE,
            "confidence": _CONFIDENCE,
        }
        required = ["object_type", "records", "survivor_id", "rationale"]
    else:
        target: dict[str, Any] = {
            "type": "object",
            "properties": {**_REF_PROPERTIES},
            "required": ["record_id", "version"],
        }
        if kind == "add_note":
            target["properties"]["note"] = {"type": "string"}
            target["required"] = [*target["required"], "note"]
        elif kind != "delete":
            target["properties"]["changes"] = {
                "type": "object",
                "description": "field name -> new value",
                "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
            }
            target["required"] = [*target["required"], "changes"]
        properties = {
            "object_type": {"type": "string", "enum": OBJECT_TYPES},
            "targets": {"type": "array", "items": target, "minItems": 1, "maxItems": MAX_TARGETS},
            "rationale": _RATIONALE,
            "confidence": _CONFIDENCE,
        }
        required = ["object_type", "targets", "rationale"]
    return {
        "name": proposal_tool_name(kind),
        "description": _DESCRIPTIONS[kind] + " A proposal only: the policy decides what happens.",
        "input_schema": {"type": "object", "properties": properties, "required": required},
    }


def tool_definitions() -> list[dict[str, Any]]:
    """Every tool, the last one marked for caching."""
    tools: list[dict[str, Any]] = [
        {
            "name": GET_RECORD,
            "description": "Read more fields of a record in the current cases.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "object_type": {"type": "string", "enum": OBJECT_TYPES},
                    "record_id": {"type": "string"},
                    "fields": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
                },
                "required": ["object_type", "record_id", "fields"],
            },
        },
        {
            "name": LIST_CANDIDATES,
            "description": "List the possible duplicates the rules found for a record in the current cases.",
            "input_schema": {
                "type": "object",
                "properties": {"record_id": {"type": "string"}},
                "required": ["record_id"],
            },
        },
        {
            "name": SKIP_CASES,
            "description": "Leave cases unchanged (not sure, or nothing to do).",
            "input_schema": {
                "type": "object",
                "properties": {
                    "case_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "reason": {"type": "string"},
                },
                "required": ["case_ids"],
            },
        },
        *(_proposal_tool(kind) for kind in PLANNER_KINDS),
    ]
    tools[-1] = {**tools[-1], "cache_control": {"type": "ephemeral"}}
    return tools


def kind_of_tool(name: str) -> ActionKind | None:
    """The action kind a proposal tool proposes, or ``None`` for any other name."""
    if not name.startswith(PROPOSE_PREFIX):
        return None
    kind = name.removeprefix(PROPOSE_PREFIX)
    for known in PLANNER_KINDS:
        if known == kind:
            return known
    return None
