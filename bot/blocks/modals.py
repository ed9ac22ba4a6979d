"""Modals opened from an approval card: Reject (with a reason), Edit (narrow) and Details.

Every modal's ``private_metadata`` is the approval id and nothing else; the
submission handler reloads the approval and checks it is still pending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from agent.describe import describe
from agent.models import Approval, Owner, ProposedAction, Target
from bot import ids
from bot.blocks.card import CardContext, can_narrow, mrkdwn, record_option
from bot.blocks.details import build_details_modal
from bot.blocks.limits import (
    CHECKBOX_OPTIONS_MAX,
    INPUT_LENGTH_MAX,
    OPTION_TEXT_MAX,
    SECTION_TEXT_MAX,
    VIEW_MAX_BLOCKS,
)
from bot.blocks.text import escape, one_line, plain_changes, truncate

_NOTHING_TO_NARROW = "There is nothing to narrow in this request; reject it if it is wrong."
_EDIT_HELP = (
    "Untick records or fields to leave them out. Editing only narrows a request: "
    "nothing can be added and no value can be typed in."
)

__all__ = ["build_details_modal", "build_edit_modal", "build_reject_modal", "edit_block_ids"]


def build_reject_modal(approval: Approval) -> View:
    """Ask why: a rejection needs a reason, which is stored and fed back to the planner."""
    return View(
        type="modal",
        callback_id=ids.VIEW_REJECT,
        private_metadata=approval.id,
        title="Reject request",
        submit="Reject",
        close="Cancel",
        blocks=[
            _what(approval.action, {}),
            InputBlock(
                block_id=ids.BLOCK_REASON,
                label="Why are you rejecting it?",
                element=PlainTextInputElement(
                    action_id=ids.INPUT_REASON,
                    multiline=True,
                    max_length=INPUT_LENGTH_MAX,
                    placeholder="e.g. different companies that share a domain",
                ),
                hint=(
                    "Required. The agent will not propose this change again for these records "
                    "until their data changes."
                ),
                optional=False,
            ),
        ],
    )


def build_edit_modal(approval: Approval, ctx: CardContext) -> View:
    """Narrow a request: untick records or fields to leave them out. Nothing can be added.

    Record checkboxes (value = record id, all ticked) are in ``BLOCK_EDIT_TARGETS``,
    or ``BLOCK_EDIT_TARGETS_0``, ``_1``, … when there are more than 10 records; field
    checkboxes (value = field name) likewise under ``BLOCK_EDIT_FIELDS``. Split blocks
    are optional, so the submission handler checks that something is left (and, for a
    merge, at least 2 records including the survivor). Records beyond what a modal
    can hold are not listed and stay in the request.
    """
    action = approval.action
    is_merge = action.kind == "merge"
    narrowable = can_narrow(action)
    help_text = _EDIT_HELP if narrowable else _NOTHING_TO_NARROW
    blocks: list[Block] = [
        _what(action, ctx.owners),
        ContextBlock(block_id="edit_help", elements=[mrkdwn(help_text)]),
    ]
    fields = _field_options(action)
    field_blocks: list[Block] = []
    if len(fields) > 1 or (is_merge and fields):
        label = "Survivor fields to set" if is_merge else "Fields to change"
        field_blocks = _checkbox_inputs(ids.BLOCK_EDIT_FIELDS, ids.INPUT_EDIT_FIELDS, label, fields)
    records = [_record_option(action, t, ctx.owners) for t in action.targets]
    if len(records) > (2 if is_merge else 1):
        room = (VIEW_MAX_BLOCKS - len(blocks) - len(field_blocks) - 1) * CHECKBOX_OPTIONS_MAX
        hint = _merge_hint(action) if is_merge else None
        label = "Records to merge" if is_merge else "Records to change"
        blocks.extend(
            _checkbox_inputs(ids.BLOCK_EDIT_TARGETS, ids.INPUT_EDIT_TARGETS, label, records[:room], hint)
        )
        if len(records) > room:
            note = (
                f"Only the first {room} of {len(records)} records are listed; the rest stay in the request."
            )
            blocks.append(ContextBlock(block_id="edit_unlisted", elements=[mrkdwn(note)]))
    blocks.extend(field_blocks)
    return View(
        type="modal",
        callback_id=ids.VIEW_EDIT,
        private_metadata=approval.id,
        title="Narrow request",
        submit="Save" if narrowable else None,
        close="Cancel" if narrowable else "Close",
        blocks=blocks,
    )


def edit_block_ids(prefix: str, count: int) -> list[str]:
    """The block ids :func:`build_edit_modal` uses for ``count`` options under ``prefix``."""
    blocks = -(-count // CHECKBOX_OPTIONS_MAX)
    return [prefix] if blocks == 1 else [f"{prefix}_{n}" for n in range(blocks)]


def _what(action: ProposedAction, owners: Mapping[str, Owner]) -> SectionBlock:
    text = f"*{escape(one_line(describe(action, owners)))}*"
    return SectionBlock(block_id="what", text=mrkdwn(truncate(text, SECTION_TEXT_MAX)))


def _checkbox_inputs(
    prefix: str, action_id: str, label: str, options: Sequence[Option], hint: str | None = None
) -> list[Block]:
    block_ids = edit_block_ids(prefix, len(options))
    single = len(block_ids) == 1
    blocks: list[Block] = []
    for n, block_id in enumerate(block_ids):
        chunk = options[n * CHECKBOX_OPTIONS_MAX : (n + 1) * CHECKBOX_OPTIONS_MAX]
        first = n * CHECKBOX_OPTIONS_MAX + 1
        title = label if single else f"{label} {first} to {first + len(chunk) - 1} of {len(options)}"
        blocks.append(
            InputBlock(
                block_id=block_id,
                label=title,
                element=CheckboxesElement(action_id=action_id, options=chunk, initial_options=chunk),
                hint=hint if n == 0 else None,
                # One block: Slack insists on a tick. Split: any block may be emptied; the handler checks.
                optional=not single,
            )
        )
    return blocks


def _merge_hint(action: ProposedAction) -> str:
    survivor = action.merge.survivor_id if action.merge else "the survivor"
    return f"A merge keeps at least 2 records, including the survivor {survivor}."


def _record_option(action: ProposedAction, target: Target, owners: Mapping[str, Owner]) -> Option:
    if action.merge is not None:
        return record_option(
            target, "survivor" if target.record_id == action.merge.survivor_id else "merged away"
        )
    return record_option(target, plain_changes(target, owners))


def _field_options(action: ProposedAction) -> list[Option]:
    if action.merge is not None:
        names = list(action.merge.field_plan)
    else:
        names = list(dict.fromkeys(name for t in action.targets for name in t.changes))
    options = []
    for name in names:
        touched = sum(1 for t in action.targets if name in t.changes)
        detail = "survivor field" if action.merge is not None else f"changes on {touched} record(s)"
        options.append(
            Option(
                value=name,
                text=PlainTextObject(text=truncate(name, OPTION_TEXT_MAX)),
                description=PlainTextObject(text=detail),
            )
        )
    return options
