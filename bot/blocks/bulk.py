"""The bulk card: one action over many records, approved or rejected as a whole.

A sample of the records is shown as checkboxes keyed by record id (never by
position, so a re-render or a reordered list cannot exclude the wrong record);
unticking one excludes it from "Approve all".
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    SectionBlock,
)

from agent.describe import describe
from agent.models import Approval, ProposedAction, Target
from bot import ids
from bot.blocks.approval import content_blocks, diff_sections
from bot.blocks.card import (
    ACTIONS,
    STATUS,
    CardContext,
    Message,
    button,
    confirm,
    decided_actions,
    fallback_text,
    header,
    mrkdwn,
    record_option,
    status_lines,
    text_sections,
)
from bot.blocks.limits import CHECKBOX_OPTIONS_MAX
from bot.blocks.text import escape, one_line, plain_changes, truncate

SAMPLE = "sample"
SAMPLE_MAX = 100
"""Never more than 10 checkbox blocks, whatever ``max_items`` asks for."""


def is_bulk_card(approval: Approval) -> bool:
    """Whether an approval gets the bulk card: several records, and not a merge.

    A merge of two or three records is one decision about one customer, so it
    gets the normal card with its merge plan.
    """
    return len(approval.action.targets) > 1 and approval.action.kind != "merge"


def build_bulk_message(
    approval: Approval, ctx: CardContext, excluded: frozenset[str] = frozenset()
) -> Message:
    """The bulk card; ``excluded`` holds the record ids an approver has unticked so far.

    While pending: a sample of ``ctx.max_items`` records as checkboxes (the ones not
    excluded are ticked), and Approve all (confirming the count left after
    exclusions) / Reject all / Details. After a decision it reads like the
    normal card: a sample of the diff, the status, Undo while possible, Details.
    """
    pending = approval.status == "pending"

    def change(action: ProposedAction, ctx: CardContext) -> list[Block]:
        if not pending:
            return [*diff_sections(action, ctx)]
        return [_sample_section(action, ctx, excluded), *_item_checkboxes(action, ctx, excluded)]

    blocks: list[Block] = [header(approval), *content_blocks(approval, ctx, diff=change)]
    if pending:
        blocks.append(_bulk_actions(approval, ctx, excluded))
    else:
        blocks.extend(text_sections(STATUS, status_lines(approval, ctx), max_blocks=2))
        blocks.append(decided_actions(approval, ctx))
    return Message(text=fallback_text(approval, ctx), blocks=blocks)


def remaining(action: ProposedAction, excluded: frozenset[str]) -> int:
    """How many records "Approve all" would change."""
    return sum(1 for t in action.targets if t.record_id not in excluded)


def _sample(action: ProposedAction, ctx: CardContext) -> list[Target]:
    return action.targets[: min(ctx.max_items, SAMPLE_MAX)]


def _sample_section(action: ProposedAction, ctx: CardContext, excluded: frozenset[str]) -> SectionBlock:
    total = len(action.targets)
    shown = len(_sample(action, ctx))
    text = f"*Records* ({shown} of {total} shown; untick one to leave it out)"
    left_out = total - remaining(action, excluded)
    if left_out:
        text += f"\n{left_out} excluded; approving changes {total - left_out} of {total}."
    return SectionBlock(block_id=SAMPLE, text=mrkdwn(text))


def _item_checkboxes(action: ProposedAction, ctx: CardContext, excluded: frozenset[str]) -> list[Block]:
    sample = _sample(action, ctx)
    blocks: list[Block] = []
    for n, start in enumerate(range(0, len(sample), CHECKBOX_OPTIONS_MAX)):
        chunk = sample[start : start + CHECKBOX_OPTIONS_MAX]
        options = [record_option(t, plain_changes(t, ctx.owners)) for t in chunk]
        kept = [o for o, t in zip(options, chunk, strict=True) if t.record_id not in excluded]
        element = CheckboxesElement(action_id=ids.ACTION_EXCLUDE, options=options, initial_options=kept)
        blocks.append(ActionsBlock(block_id=f"{ids.BLOCK_BULK_ITEMS}_{n}", elements=[element]))
    return blocks


def _bulk_actions(approval: Approval, ctx: CardContext, excluded: frozenset[str]) -> ActionsBlock:
    count = remaining(approval.action, excluded)
    elements: list[ButtonElement] = []
    if count:
        what = escape(one_line(describe(approval.action, ctx.owners)))
        text = f"{truncate(what, 200)} Approving changes {count} of {len(approval.action.targets)} records."
        elements.append(
            button(
                "Approve all",
                ids.ACTION_BULK_APPROVE,
                approval,
                style="primary",
                confirm=confirm(f"Approve {count} records?", text, "Approve all"),
            )
        )
    elements.append(button("Reject all", ids.ACTION_BULK_REJECT, approval, style="danger"))
    elements.append(button("Details", ids.ACTION_DETAILS, approval))
    return ActionsBlock(block_id=ACTIONS, elements=elements)
