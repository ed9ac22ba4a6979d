from __future__ import annotations

from collections.abc import Sequence

import pytest
from slack_sdk.models.blocks import ActionsBlock, Block, CheckboxesElement

from bot import ids
from bot.blocks import build_bulk_message, is_bulk_card
from tests.bot.blocks import (
    STATUSES,
    action_ids,
    approval,
    assert_valid_message,
    bulk_normalise,
    buttons,
    context,
    merge_of_three,
    owner_change,
    revenue_change,
    text_of,
)


def checkboxes(blocks: Sequence[Block]) -> list[CheckboxesElement]:
    return [
        element
        for b in blocks
        if isinstance(b, ActionsBlock) and (b.block_id or "").startswith(ids.BLOCK_BULK_ITEMS)
        for element in b.elements or []
        if isinstance(element, CheckboxesElement)
    ]


def option_values(elements: list[CheckboxesElement], initial: bool = False) -> list[str]:
    return [o.value for e in elements for o in ((e.initial_options or []) if initial else (e.options or []))]


def test_bulk_card_is_for_several_records_but_never_for_a_merge() -> None:
    assert is_bulk_card(approval(bulk_normalise(2)))
    assert is_bulk_card(approval(revenue_change()))
    assert not is_bulk_card(approval(owner_change()))
    assert not is_bulk_card(approval(merge_of_three()))


def test_bulk_summary_names_the_change_and_the_count() -> None:
    message = build_bulk_message(approval(bulk_normalise(140)), context())
    assert text_of(message.blocks, "what") == "*Normalise phone on 140 leads.*"
    assert message.text == "Approval needed: Normalise phone on 140 leads."


def test_bulk_items_are_keyed_by_record_id() -> None:
    action = bulk_normalise(140)
    message = build_bulk_message(approval(action), context())
    elements = checkboxes(message.blocks)
    assert option_values(elements) == [t.record_id for t in action.targets[:10]]
    assert all(e.action_id == ids.ACTION_EXCLUDE for e in elements)


def test_every_item_starts_ticked_except_the_excluded_ones() -> None:
    excluded = frozenset({"L0001", "L0007", "L0120"})  # L0120 is outside the sample
    message = build_bulk_message(approval(bulk_normalise(140)), context(), excluded)
    ticked = option_values(checkboxes(message.blocks), initial=True)
    assert "L0001" not in ticked
    assert "L0007" not in ticked
    assert len(ticked) == 8
    assert "3 excluded; approving changes 137 of 140." in text_of(message.blocks, "sample")


def test_approve_all_confirms_the_count_after_exclusions() -> None:
    message = build_bulk_message(approval(bulk_normalise(140)), context(), frozenset({"L0001", "L0002"}))
    assert action_ids(message.blocks) == [ids.ACTION_BULK_APPROVE, ids.ACTION_BULK_REJECT, ids.ACTION_DETAILS]
    approve = buttons(message.blocks)[0]
    assert approve.style == "primary"
    assert approve.confirm is not None
    assert approve.confirm.title == "Approve 138 records?"
    assert "Approving changes 138 of 140 records." in str(approve.confirm.text)
    assert buttons(message.blocks)[1].style == "danger"


def test_approve_all_is_withdrawn_when_every_record_is_excluded() -> None:
    action = bulk_normalise(3)
    message = build_bulk_message(approval(action), context(), frozenset(action.record_ids))
    assert action_ids(message.blocks) == [ids.ACTION_BULK_REJECT, ids.ACTION_DETAILS]
    assert_valid_message(message)


def test_button_values_carry_only_the_approval_id() -> None:
    message = build_bulk_message(approval(bulk_normalise(140)), context(), frozenset({"L0001"}))
    assert {b.value for b in buttons(message.blocks)} == {"apr_0001"}


def test_sample_is_split_into_checkboxes_of_at_most_ten() -> None:
    message = build_bulk_message(approval(bulk_normalise(140)), context(max_items=25))
    elements = checkboxes(message.blocks)
    assert [len(e.options or []) for e in elements] == [10, 10, 5]
    assert [b.block_id for b in message.blocks if (b.block_id or "").startswith(ids.BLOCK_BULK_ITEMS)] == [
        "bulk_items_0",
        "bulk_items_1",
        "bulk_items_2",
    ]
    assert_valid_message(message)


def test_a_huge_max_items_still_fits_in_one_message() -> None:
    message = build_bulk_message(approval(bulk_normalise(500)), context(max_items=1000))
    payload = assert_valid_message(message)
    assert len(payload["blocks"]) <= 50


@pytest.mark.parametrize("status", STATUSES)
def test_a_500_record_bulk_card_is_valid_in_every_status(status: str) -> None:
    action = bulk_normalise(500, rationale="Phones should be E.164. " * 250)
    message = build_bulk_message(approval(action, status), context(), frozenset({"L0003"}))  # type: ignore[arg-type]
    assert_valid_message(message)


@pytest.mark.parametrize("status", sorted(set(STATUSES) - {"pending"}))
def test_decided_bulk_card_has_no_checkboxes_and_no_decision_buttons(status: str) -> None:
    message = build_bulk_message(approval(bulk_normalise(40), status), context())  # type: ignore[arg-type]
    assert checkboxes(message.blocks) == []
    assert ids.ACTION_BULK_APPROVE not in action_ids(message.blocks)
    assert ids.ACTION_BULK_REJECT not in action_ids(message.blocks)
    assert ids.ACTION_DETAILS in action_ids(message.blocks)
    assert "… and 30 more records (see Details)" in text_of(message.blocks, "diff")


def test_executed_bulk_card_can_be_undone_within_the_window() -> None:
    message = build_bulk_message(approval(bulk_normalise(40), "executed"), context())
    assert action_ids(message.blocks) == [ids.ACTION_UNDO, ids.ACTION_DETAILS]


def test_item_labels_fit_the_option_limits() -> None:
    action = bulk_normalise(12)
    long = action.model_copy(
        update={
            "targets": [
                t.model_copy(update={"label": "Very long company name " * 10}) for t in action.targets
            ]
        }
    )
    message = build_bulk_message(approval(long), context())
    first = (checkboxes(message.blocks)[0].options or [])[0]
    assert first.text is not None
    assert len(first.text) <= 75
    assert first.text.endswith("(L0000)")
    assert_valid_message(message)
