"""The draft proposal every offline check returns, and the helpers the checks share to build one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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

SOURCE = "offline rules"
CHECK_ORDER: tuple[str, ...] = (
    "normalize_fields",
    "invalid_picklist",
    "invalid_email",
    "missing_required",
    "lead_account_match",
    "ambiguous_value",
    "unowned_lead",
    "unowned_record",
    "stale_lead",
    "lifecycle",
    "stale_record",
    "duplicate_email",
    "fuzzy_duplicate",
    "duplicate_domain",
    "inactive_owner",
    "inactive_owner_record",
    "junk_lead",
)
"""Every check, in the order its proposals are listed."""

RecordKey = tuple[ObjectType, str]
Evidence = dict[str, str | int | float | bool]


@dataclass(frozen=True)
class Draft:
    """A proposal before it gets an id; what every check returns."""

    check: str
    kind: ActionKind
    object_type: ObjectType
    targets: tuple[Target, ...]
    rationale: str
    evidence: Evidence
    merge: MergePlan | None = None

    def sort_key(self) -> tuple[int, str]:
        """Check order first, then the first target's record id (a merge lists its survivor first)."""
        return CHECK_ORDER.index(self.check), self.targets[0].record_id

    def to_action(self, action_id: str, planner: str) -> ProposedAction:
        return ProposedAction(
            id=action_id,
            kind=self.kind,
            object_type=self.object_type,
            targets=list(self.targets),
            merge=self.merge,
            rationale=self.rationale,
            evidence=self.evidence,
            planner=planner,
            check=self.check,
            requested_by="agent",
        )


def key(record: Record) -> RecordKey:
    return record.object_type, record.id


def label(record: Record) -> str:
    """A human name: ``"Jane Doe <jane@x.com>"`` for people, the name for accounts."""
    if record.object_type == "account":
        return _text(record.fields.get("name")) or _text(record.fields.get("domain")) or record.id
    name = " ".join(
        part
        for part in (_text(record.fields.get("first_name")), _text(record.fields.get("last_name")))
        if part
    )
    email = _text(record.fields.get("email"))
    if name and email:
        return f"{name} <{email}>"
    return name or email or _text(record.fields.get("company")) or record.id


def target(
    record: Record, *, changes: dict[str, FieldChange] | None = None, note: str | None = None
) -> Target:
    """A target pinned to the version the plan saw, with a human label."""
    return Target(
        record_id=record.id, version=record.version, label=label(record), changes=changes or {}, note=note
    )


# --- helpers -------------------------------------------------------------------------------
# Kept underscored though the check modules import them: ``inactive_owners`` has a local
# ``by_id`` that a bare name would clash with.


def _by_id(records: Iterable[Record]) -> list[Record]:
    return sorted(records, key=lambda r: r.id)


def _text(value: FieldValue) -> str:
    return value.strip() if isinstance(value, str) else ""
