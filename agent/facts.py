"""What the data says about a proposed action: the policy's input.

``bulk_operations`` and ``high_value_changes`` are decided here from the records
as the CRM holds them, never from what a planner (or a model) claims; a meeting's
``outside_working_hours`` and ``other_rep`` by :mod:`agent.meetings.conditions`.
"""

from __future__ import annotations

from collections.abc import Mapping

from agent.meetings.conditions import other_rep, outside_working_hours
from agent.models import ActionFacts, ActionKind, ProposedAction, Record
from agent.policy import Policy


def effective_kind(action: ProposedAction, records: Mapping[str, Record]) -> ActionKind:
    """Assigning an owner to a record that already has one is an owner change."""
    if action.kind == "assign_owner" and any(
        (record := records.get(t.record_id)) is not None and record.owner_id for t in action.targets
    ):
        return "change_owner"
    return action.kind


def max_value(action: ProposedAction, records: Mapping[str, Record], field: str) -> float | None:
    """The largest value of ``field`` over the touched records, before or after the change."""
    values: list[float] = []

    def consider(value: object) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            values.append(float(value))
        elif isinstance(value, str):
            try:
                values.append(float(value.replace(",", "")))
            except ValueError:
                return

    for target in action.targets:
        record = records.get(target.record_id)
        if record is not None:
            consider(record.get(field))
        change = target.changes.get(field)
        if change is not None:
            consider(change.after)
    if action.merge is not None:
        consider(action.merge.field_plan.get(field))
    return max(values) if values else None


def gather_facts(
    action: ProposedAction,
    records: Mapping[str, Record],
    policy: Policy,
    *,
    run_records_touched: int = 0,
) -> ActionFacts:
    """The facts ``policy.evaluate`` needs, computed from ``records`` (id -> record)."""
    field = policy.high_value_changes.field if policy.high_value_changes else None
    meeting = action.meeting
    return ActionFacts(
        effective_kind=effective_kind(action, records),
        records_touched=len(action.targets),
        max_value=max_value(action, records, field) if field else None,
        run_records_touched=run_records_touched,
        outside_working_hours=outside_working_hours(meeting) if meeting else None,
        other_rep=other_rep(meeting, records.get(action.targets[0].record_id)) if meeting else None,
    )
