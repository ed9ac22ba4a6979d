"""Edits narrow a change; they never widen it."""

from __future__ import annotations

import pytest

from agent.errors import EditNotAllowedError
from agent.models import FieldChange, MergePlan, ProposedAction, Target
from agent.narrowing import narrow


def _bulk() -> ProposedAction:
    return ProposedAction(
        id="a",
        kind="normalize_field",
        object_type="lead",
        targets=[
            Target(
                record_id=f"L{n}",
                version="1",
                changes={
                    "email": FieldChange(before=f" L{n}@x.io", after=f"l{n}@x.io"),
                    "phone": FieldChange(before="555", after="+1555"),
                },
            )
            for n in range(3)
        ],
        rationale="tidy",
    )


def _merge() -> ProposedAction:
    return ProposedAction(
        id="m",
        kind="merge",
        object_type="lead",
        targets=[Target(record_id=r, version="1") for r in ("L1", "L2", "L3")],
        merge=MergePlan(survivor_id="L1", field_plan={"phone": "+1555", "title": "CFO"}),
        rationale="dupes",
    )


def test_dropping_records_keeps_the_rest_untouched() -> None:
    narrowed = narrow(_bulk(), keep_records=["L0", "L2"])

    assert [t.record_id for t in narrowed.targets] == ["L0", "L2"]
    assert narrowed.targets[0] == _bulk().targets[0]


def test_dropping_a_field_removes_it_everywhere() -> None:
    narrowed = narrow(_bulk(), keep_fields=["email"])

    assert all(set(t.changes) == {"email"} for t in narrowed.targets)


def test_a_record_that_was_not_in_the_change_is_refused() -> None:
    with pytest.raises(EditNotAllowedError, match="not in it: L9"):
        narrow(_bulk(), keep_records=["L0", "L9"])


def test_a_field_that_was_not_in_the_change_is_refused() -> None:
    with pytest.raises(EditNotAllowedError, match="fields not in it: owner_id"):
        narrow(_bulk(), keep_fields=["email", "owner_id"])


def test_an_edit_that_leaves_nothing_is_refused() -> None:
    with pytest.raises(EditNotAllowedError, match="nothing to do"):
        narrow(_bulk(), keep_records=[])


def test_a_merge_keeps_its_survivor_and_two_records() -> None:
    narrowed = narrow(_merge(), keep_records=["L1", "L3"], keep_fields=["phone"])

    assert [t.record_id for t in narrowed.targets] == ["L1", "L3"]
    assert narrowed.merge is not None
    assert narrowed.merge.field_plan == {"phone": "+1555"}
    with pytest.raises(EditNotAllowedError, match="surviving record"):
        narrow(_merge(), keep_records=["L2", "L3"])
    with pytest.raises(EditNotAllowedError, match="at least two"):
        narrow(_merge(), keep_records=["L1"])
