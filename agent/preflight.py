"""Pre-flight for proposals the agent did not plan from its own snapshot (a model's, say).

Before such a proposal is executed or shown to an approver, it must describe the
CRM as it is: every record exists, at the version the proposal names (or at a
version this run produced itself), every field is a canonical field of the
object, and every ``before`` value is what the record holds. The executor checks
shape, values, owners and before-values again at write time, and the CRM
compare-and-sets on the version; this catches made-up ids, versions and fields
before a person ever sees them.
"""

from __future__ import annotations

from collections.abc import Mapping

from agent.crm.fields import fields_of
from agent.models import OWNER_FIELD, ProposedAction, Record


def preflight_problems(action: ProposedAction, current: Mapping[str, Record]) -> list[str]:
    """What is wrong with ``action`` against ``current`` (id -> record as the CRM holds it now)."""
    problems: list[str] = []
    known = fields_of(action.object_type) | {OWNER_FIELD}
    for target in action.targets:
        record = current.get(target.record_id)
        if record is None:
            problems.append(f"{action.object_type} {target.record_id} does not exist")
            continue
        if record.version != target.version:
            problems.append(
                f"{action.object_type} {target.record_id} is at version {record.version}, "
                f"not {target.version} as proposed"
            )
            continue
        for name, change in target.changes.items():
            if name not in known:
                problems.append(f"{action.object_type} has no field {name!r}")
            elif record.get(name) != change.before:
                problems.append(
                    f"{target.record_id}.{name} is {record.get(name)!r}, not {change.before!r} as proposed"
                )
    if action.merge is not None:
        unknown = sorted(set(action.merge.field_plan) - known)
        if unknown:
            problems.append(f"{action.object_type} has no field(s) {', '.join(map(repr, unknown))}")
    return problems
