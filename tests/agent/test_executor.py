"""The executor: pre-flight validation, compare-and-set writes, post-condition checks."""

from __future__ import annotations

import pytest

from agent.errors import PostConditionError, StaleRecordError, ValidationFailedError
from agent.executor import Executor
from agent.models import FieldChange, ProposedAction, Target
from tests.support.crm_doubles import DropsWrites
from tests.support.stack import Stack, bulk_email_action, field_action, owner_action


def test_a_write_is_checked_by_reading_it_back(stack: Stack) -> None:
    lead = stack.lead(email=" Jane@Acme.io ")

    result = Executor(stack.crm).execute(field_action(lead, email="jane@acme.io"), key="k1")

    assert result.written == [lead.id]
    assert result.pre_image == {lead.id: {"email": " Jane@Acme.io "}}
    assert stack.crm.get("lead", lead.id).get("email") == "jane@acme.io"  # type: ignore[union-attr]


def test_the_same_key_writes_once(stack: Stack) -> None:
    lead = stack.lead(email=" Jane@Acme.io ")
    action = field_action(lead, email="jane@acme.io")

    Executor(stack.crm).execute(action, key="k1")
    Executor(stack.crm).execute(action, key="k1")

    assert stack.crm.get("lead", lead.id).version == "2"  # type: ignore[union-attr]


def test_a_crm_that_ignores_the_write_is_a_failure_not_a_success(stack: Stack) -> None:
    lead = stack.lead(email=" Jane@Acme.io ")

    with pytest.raises(PostConditionError, match="after the write"):
        Executor(DropsWrites(stack.crm)).execute(field_action(lead, email="jane@acme.io"), key="k1")  # type: ignore[arg-type]


def test_a_changed_record_is_never_overwritten(stack: Stack) -> None:
    lead = stack.lead(email=" Jane@Acme.io ")
    action = field_action(lead, email="jane@acme.io")
    stack.crm.update(
        "lead", lead.id, {"title": "CEO"}, expected_version=lead.version, idempotency_key="human"
    )

    with pytest.raises(StaleRecordError, match="changed since the plan"):
        Executor(stack.crm).execute(action, key="k1")

    assert stack.crm.get("lead", lead.id).get("email") == " Jane@Acme.io "  # type: ignore[union-attr]


def test_a_bulk_action_skips_changed_records_and_says_so(stack: Stack) -> None:
    leads = [stack.lead(email=f" L{i}@acme.io") for i in range(3)]
    action = bulk_email_action(leads)
    stack.crm.update("lead", leads[1].id, {"title": "CEO"}, expected_version="1", idempotency_key="human")

    result = Executor(stack.crm).execute(action, key="bulk")

    assert result.written == [leads[0].id, leads[2].id]
    assert list(result.skipped) == [leads[1].id]


def test_a_plan_that_misstates_the_current_value_is_refused(stack: Stack) -> None:
    stack.owner("O1")
    stack.owner("O2")
    lead = stack.lead(owner_id="O1")
    # Claims the lead is unowned, so that an owner change passes as an assignment.
    lying = ProposedAction(
        id="lie",
        kind="assign_owner",
        object_type="lead",
        targets=[
            Target(
                record_id=lead.id,
                version=lead.version,
                changes={"owner_id": FieldChange(before=None, after="O2")},
            )
        ],
        rationale="Unowned.",
    )

    with pytest.raises(ValidationFailedError, match="not None as the plan claims"):
        Executor(stack.crm).execute(lying, key="k")

    assert stack.crm.get("lead", lead.id).owner_id == "O1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "is invalid"),
        ("status", "Maybe", "not one of"),
    ],
)
def test_bad_values_are_refused_before_writing(stack: Stack, field: str, value: str, message: str) -> None:
    lead = stack.lead()
    kind = "update_lead_status" if field == "status" else "normalize_field"

    with pytest.raises(ValidationFailedError, match=message):
        Executor(stack.crm).execute(field_action(lead, kind=kind, **{field: value}), key="k")

    assert stack.crm.get("lead", lead.id).version == "1"  # type: ignore[union-attr]


def test_an_inactive_or_unknown_owner_is_refused(stack: Stack) -> None:
    stack.owner("O1", active=False)
    lead = stack.lead()

    with pytest.raises(ValidationFailedError, match="not active"):
        Executor(stack.crm).execute(owner_action(lead, "O1", kind="assign_owner"), key="k1")
    with pytest.raises(ValidationFailedError, match="does not exist"):
        Executor(stack.crm).execute(owner_action(lead, "O404", kind="assign_owner"), key="k2")


def test_a_note_is_added_once_and_does_not_change_the_record_version(stack: Stack) -> None:
    lead = stack.lead()
    action = ProposedAction(
        id="n",
        kind="add_note",
        object_type="lead",
        targets=[Target(record_id=lead.id, version=lead.version, note="Email bounced.")],
        rationale="Invalid email.",
    )

    first = Executor(stack.crm).execute(action, key="n")
    second = Executor(stack.crm).execute(action, key="n")

    assert first.note_ids == second.note_ids
    assert [n.body for n in stack.crm.notes("lead", lead.id)] == ["Email bounced."]
    assert stack.crm.get("lead", lead.id).version == lead.version  # type: ignore[union-attr]
