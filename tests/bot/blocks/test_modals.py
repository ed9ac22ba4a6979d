from __future__ import annotations

from collections.abc import Sequence

import pytest
from slack_sdk.models.blocks import Block, CheckboxesElement, InputBlock, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

from agent.models import FieldChange, ProposedAction, Target
from bot import ids
from bot.blocks import build_details_modal, build_edit_modal, build_reject_modal
from bot.blocks.modals import edit_block_ids
from tests.bot.blocks import (
    STATUSES,
    approval,
    assert_valid_view,
    block,
    block_ids,
    bulk_normalise,
    context,
    merge_of_three,
    owner_change,
    revenue_change,
)

LONG = "Both records share a domain, a billing address and a phone number. " * 75  # ~5,000 chars


def inputs(view: View, prefix: str) -> list[InputBlock]:
    return [
        b for b in view.blocks or [] if isinstance(b, InputBlock) and (b.block_id or "").startswith(prefix)
    ]


def checkbox_values(blocks: Sequence[InputBlock], initial: bool = False) -> list[str]:
    values: list[str] = []
    for b in blocks:
        assert isinstance(b.element, CheckboxesElement)
        options = b.element.initial_options if initial else b.element.options
        values.extend(o.value for o in options or [])
    return values


def section_texts(blocks: Sequence[Block]) -> str:
    return "\n".join(str(b.text.text) for b in blocks if isinstance(b, SectionBlock) and b.text is not None)


# --- reject -----------------------------------------------------------------


def test_reject_modal_asks_for_a_required_multiline_reason() -> None:
    view = build_reject_modal(approval())
    assert_valid_view(view)
    assert view.callback_id == ids.VIEW_REJECT
    assert view.private_metadata == "apr_0001"
    reason = block(view.blocks or [], ids.BLOCK_REASON)
    assert isinstance(reason, InputBlock)
    assert reason.optional is False
    assert isinstance(reason.element, PlainTextInputElement)
    assert reason.element.action_id == ids.INPUT_REASON
    assert reason.element.multiline is True


def test_reject_modal_is_valid_for_a_huge_request() -> None:
    assert_valid_view(build_reject_modal(approval(bulk_normalise(500, rationale=LONG))))


# --- edit -------------------------------------------------------------------


def test_edit_modal_offers_every_record_ticked_and_keyed_by_id() -> None:
    action = bulk_normalise(7)
    view = build_edit_modal(approval(action), context())
    assert_valid_view(view)
    assert view.callback_id == ids.VIEW_EDIT
    assert view.private_metadata == "apr_0001"
    targets = inputs(view, ids.BLOCK_EDIT_TARGETS)
    assert [b.block_id for b in targets] == [ids.BLOCK_EDIT_TARGETS]
    assert checkbox_values(targets) == action.record_ids
    assert checkbox_values(targets, initial=True) == action.record_ids
    assert targets[0].element.action_id == ids.INPUT_EDIT_TARGETS  # type: ignore[union-attr]


def test_more_than_ten_records_are_split_into_numbered_blocks() -> None:
    action = bulk_normalise(25)
    view = build_edit_modal(approval(action), context())
    assert_valid_view(view)
    targets = inputs(view, ids.BLOCK_EDIT_TARGETS)
    assert [b.block_id for b in targets] == ["edit_targets_0", "edit_targets_1", "edit_targets_2"]
    assert [b.block_id for b in targets] == edit_block_ids(ids.BLOCK_EDIT_TARGETS, 25)
    assert checkbox_values(targets) == action.record_ids
    # A split block may be emptied entirely; the submission handler checks what is left.
    assert all(b.optional for b in targets)


def test_edit_modal_offers_changed_fields_by_name() -> None:
    view = build_edit_modal(approval(revenue_change()), context())
    assert_valid_view(view)
    fields = inputs(view, ids.BLOCK_EDIT_FIELDS)
    assert checkbox_values(fields) == ["annual_revenue", "industry"]
    assert checkbox_values(fields, initial=True) == ["annual_revenue", "industry"]
    assert fields[0].element.action_id == ids.INPUT_EDIT_FIELDS  # type: ignore[union-attr]


def test_a_single_record_with_a_single_field_has_nothing_to_narrow() -> None:
    view = build_edit_modal(approval(owner_change()), context())
    assert_valid_view(view)
    assert inputs(view, "edit_") == []
    assert view.submit is None
    assert "nothing to narrow" in repr(block(view.blocks or [], "edit_help").to_dict())


def test_merge_edit_keeps_at_least_two_records_and_says_so() -> None:
    view = build_edit_modal(approval(merge_of_three()), context())
    assert_valid_view(view)
    targets = inputs(view, ids.BLOCK_EDIT_TARGETS)
    assert checkbox_values(targets) == ["A1", "A2", "A3"]
    assert targets[0].hint is not None
    assert "at least 2 records" in targets[0].hint.text
    assert "A1" in targets[0].hint.text
    assert checkbox_values(inputs(view, ids.BLOCK_EDIT_FIELDS)) == ["phone", "annual_revenue"]


def test_editing_never_offers_free_text() -> None:
    view = build_edit_modal(approval(revenue_change()), context())
    assert not any(
        isinstance(b, InputBlock) and not isinstance(b.element, CheckboxesElement) for b in view.blocks or []
    )


def test_many_fields_are_split_too() -> None:
    changes = {f"field_{n:02d}": FieldChange(before=None, after="x") for n in range(23)}
    action = ProposedAction(
        id="act-wide",
        kind="enrich_data",
        object_type="account",
        targets=[Target(record_id="A1", version="v1", changes=changes)],
        rationale="Wide enrichment.",
    )
    view = build_edit_modal(approval(action), context())
    assert_valid_view(view)
    fields = inputs(view, ids.BLOCK_EDIT_FIELDS)
    assert [b.block_id for b in fields] == ["edit_fields_0", "edit_fields_1", "edit_fields_2"]
    assert checkbox_values(fields) == sorted(changes)


@pytest.mark.parametrize("count", [500, 2000])
def test_edit_modal_for_a_huge_request_fits_in_one_view(count: int) -> None:
    view = build_edit_modal(approval(bulk_normalise(count)), context())
    payload = assert_valid_view(view)
    assert len(payload["blocks"]) <= 100
    listed = checkbox_values(inputs(view, ids.BLOCK_EDIT_TARGETS))
    if count == 2000:
        assert "edit_unlisted" in block_ids(view.blocks or [])
        assert len(listed) < count
    else:
        assert len(listed) == count


# --- details ----------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_details_modal_is_valid_in_every_status(status: str) -> None:
    for action in (owner_change(), merge_of_three(), revenue_change(), bulk_normalise(500, rationale=LONG)):
        view = build_details_modal(approval(action, status), context())  # type: ignore[arg-type]
        assert_valid_view(view)
        assert view.callback_id == ids.VIEW_DETAILS
        assert view.private_metadata == "apr_0001"
        assert view.submit is None


def test_details_show_every_record_with_every_change() -> None:
    action = bulk_normalise(60)
    text = section_texts(build_details_modal(approval(action), context()).blocks or [])
    for target in action.targets:
        assert f"`{target.record_id}` — *phone*: {target.changes['phone'].before} → " in text
    assert "(version v1)" in text


def test_details_show_a_long_rationale_whole() -> None:
    view = build_details_modal(approval(merge_of_three().model_copy(update={"rationale": LONG})), context())
    assert_valid_view(view)
    rationale = [b for b in view.blocks or [] if (b.block_id or "").startswith("rationale")]
    assert len(rationale) == 2
    text = " ".join(str(b.text.text) for b in rationale if isinstance(b, SectionBlock) and b.text)
    assert text.count("Both records share a domain") == 75


def test_details_show_evidence_verdict_votes_and_merge_plan() -> None:
    pending = approval(merge_of_three(), approvals=("U1",))
    text = section_texts(build_details_modal(pending, context(approvals_needed=lambda a: 2)).blocks or [])
    assert "• *match_score*: 0.99" in text
    assert "*Policy:* require_approval by `requires_approval: change_owner`" in text
    assert "Gates: change_owner" in text
    assert "*Votes:* 1 of 2 approvals: <@U1>" in text
    assert "Survivor: Acme Corp `A1`" in text
    assert "A2 has an open opportunity" in text


def test_details_show_the_result_with_every_skipped_record() -> None:
    action = bulk_normalise(40)
    skipped = {t.record_id: "changed since the plan" for t in action.targets[:25]}
    result = {"written": [t.record_id for t in action.targets[25:]], "skipped": skipped, "note_ids": []}
    text = section_texts(
        build_details_modal(approval(action, "executed", result=result), context()).blocks or []
    )
    assert "*Result:* wrote 15 record(s), skipped 25" in text
    assert text.count("• skipped ") == 25


def test_details_show_the_error_of_a_failed_request() -> None:
    text = section_texts(build_details_modal(approval(status="failed"), context()).blocks or [])
    assert "*Error:* CRM answered 409: record locked" in text


def test_details_of_a_huge_request_end_with_how_many_lines_are_left_out() -> None:
    view = build_details_modal(approval(bulk_normalise(5000)), context())
    payload = assert_valid_view(view)
    assert len(payload["blocks"]) == 100
    last = section_texts((view.blocks or [])[-1:])
    assert "more lines not shown; `revgate approvals show apr_0001` lists everything" in last


def test_details_show_long_notes_across_sections() -> None:
    action = ProposedAction(
        id="act-note",
        kind="add_note",
        object_type="contact",
        targets=[Target(record_id="C1", version="v1", note="word " * 1500)],
        rationale="Log the call.",
    )
    view = build_details_modal(approval(action), context())
    assert_valid_view(view)
    assert "*note*: word word" in section_texts(view.blocks or [])
