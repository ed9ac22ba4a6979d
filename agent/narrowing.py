"""Edits to a pending change: they may narrow it (fewer records, fewer fields), never widen it."""

from __future__ import annotations

from collections.abc import Collection

from agent.errors import EditNotAllowedError
from agent.models import ProposedAction, shape_problems


def narrow(
    action: ProposedAction,
    *,
    keep_records: Collection[str] | None = None,
    keep_fields: Collection[str] | None = None,
) -> ProposedAction:
    """The same action on a subset of its records and fields.

    ``None`` keeps everything. Naming a record or field the action does not have
    is an attempt to widen it and is refused, as is an edit that leaves nothing
    to do or drops a merge's survivor.

    Raises:
        EditNotAllowedError: the edit would widen the change, or empty it.
    """
    record_ids = [t.record_id for t in action.targets]
    fields = {name for t in action.targets for name in t.changes}
    if action.merge is not None:
        fields |= set(action.merge.field_plan)
    keep_r = set(record_ids) if keep_records is None else set(keep_records)
    keep_f = fields if keep_fields is None else set(keep_fields)
    if unknown := sorted(keep_r - set(record_ids)):
        raise EditNotAllowedError(f"an edit may only narrow the change; not in it: {', '.join(unknown)}")
    if unknown := sorted(keep_f - fields):
        raise EditNotAllowedError(
            f"an edit may only narrow the change; fields not in it: {', '.join(unknown)}"
        )
    if action.merge is not None and action.merge.survivor_id not in keep_r:
        raise EditNotAllowedError(
            "the surviving record of a merge cannot be dropped; reject the merge instead"
        )
    targets = []
    for target in action.targets:
        if target.record_id not in keep_r:
            continue
        changes = {name: change for name, change in target.changes.items() if name in keep_f}
        if target.changes and not changes:
            continue  # nothing left to change on this record
        targets.append(target.model_copy(update={"changes": changes}))
    if not targets:
        raise EditNotAllowedError("the edit leaves nothing to do; reject the request instead")
    update: dict[str, object] = {"targets": targets}
    if action.merge is not None:
        plan = {name: value for name, value in action.merge.field_plan.items() if name in keep_f}
        update["merge"] = action.merge.model_copy(update={"field_plan": plan})
    narrowed = action.model_copy(update=update)
    if problems := shape_problems(narrowed):
        raise EditNotAllowedError("; ".join(problems))
    return narrowed
