"""What every approval card shares: its inputs, its output and its state-dependent frame.

The frame is the part that changes as an approval moves through its states:
the header, the status line, the fallback text and the buttons left after a
decision (Undo while the window is open, Details always).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)

from agent.describe import describe
from agent.models import REVERSIBLE_KINDS, Approval, ObjectType, Owner, ProposedAction, Target
from bot import ids
from bot.blocks.limits import OPTION_DESCRIPTION_MAX, OPTION_TEXT_MAX, SECTION_TEXT_MAX
from bot.blocks.text import ELLIPSIS, escape, link, one_line, people, slack_date, truncate, who

HEADER = "header"
STATUS = "status"
ACTIONS = "approval_actions"

_TITLE = {
    "pending": "Approval needed",
    "approved": "Approved",
    "executing": "Executing",
    "executed": "Executed",
    "rejected": "Rejected",
    "expired": "Expired",
    "superseded": "Superseded",
    "failed": "Failed",
    "undone": "Undone",
}


def no_record_url(object_type: ObjectType, record_id: str) -> str | None:
    """For a CRM whose records have no web page (the embedded one)."""
    return None


def _one_approval(approval: Approval) -> int:
    return 1


def _no_caveats(action: ProposedAction) -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class CardContext:
    """Everything a card needs besides the approval itself; built once per render by the caller."""

    owners: Mapping[str, Owner]
    """Owner id -> owner, to show owner ids as names."""
    now: datetime
    undo_window: timedelta
    """``Policy.undo_window``."""
    record_url: Callable[[ObjectType, str], str | None] = no_record_url
    """``(object_type, record_id) -> URL`` of the record in the CRM, or ``None``."""
    platform_caveats: Callable[[ProposedAction], Sequence[str]] = _no_caveats
    """What the CRM itself does that cannot be taken back (``agent.crm.caveats``), per action."""
    max_items: int = 10
    """Records (or rows) shown on a card before "and N more"."""
    approvals_needed: Callable[[Approval], int] = _one_approval
    """How many approvals a request needs (N-of-M), e.g.
    ``lambda a: approval_requirement(policy, a.verdict.gates).min_approvals``."""


@dataclass(frozen=True)
class Message:
    """A message payload for ``chat.postMessage`` / ``chat.update``."""

    text: str
    """Notification and fallback text; never empty."""
    blocks: list[Block]

    def to_dict(self) -> dict[str, Any]:
        """The JSON body fields (``text`` and ``blocks``); validates every block."""
        return {"text": self.text, "blocks": [block.to_dict() for block in self.blocks]}


def mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def text_sections(
    block_id: str,
    lines: Iterable[str],
    max_blocks: int,
    *,
    more: str = "(see Details)",
    limit: int = SECTION_TEXT_MAX,
) -> list[SectionBlock]:
    """Lines packed into sections of at most ``limit`` characters, at most ``max_blocks`` of them.

    The first block's id is ``block_id``, the next ``block_id_1``, … A line longer
    than ``limit`` is truncated. When lines are left over, the last block ends with
    "… N more lines" and ``more``.
    """
    all_lines = list(lines)
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    shown = 0
    for line in (truncate(raw, limit) for raw in all_lines):
        if current and size + 1 + len(line) > limit:
            if len(chunks) + 1 == max_blocks:
                break
            chunks.append("\n".join(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
        shown += 1
    left = len(all_lines) - shown
    if left:
        note = f"{ELLIPSIS} {left} more line{'s' if left > 1 else ''} {more}"
        while current and size + 1 + len(note) > limit:
            dropped = current.pop()
            size -= len(dropped) + (1 if current else 0)
            left += 1
            note = f"{ELLIPSIS} {left} more lines {more}"
        current.append(note)
    if current:
        chunks.append("\n".join(current))
    return [
        SectionBlock(block_id=block_id if n == 0 else f"{block_id}_{n}", text=mrkdwn(chunk))
        for n, chunk in enumerate(chunks)
    ]


def header(approval: Approval) -> HeaderBlock:
    title = (
        f"{_TITLE.get(approval.status, approval.status.title())}: {approval.action.kind.replace('_', ' ')}"
    )
    return HeaderBlock(block_id=HEADER, text=PlainTextObject(text=title, emoji=False))


def fallback_text(approval: Approval, ctx: CardContext) -> str:
    """One line: what, and in which state (notifications and old clients show this)."""
    state = _TITLE.get(approval.status, approval.status)
    return truncate(f"{state}: {escape(one_line(describe(approval.action, ctx.owners)))}", SECTION_TEXT_MAX)


def undo_deadline(approval: Approval, ctx: CardContext) -> datetime | None:
    """Until when an executed, reversible action can be undone; ``None`` if it cannot (any more).

    The window runs from ``executed_at``, as in the service. Without it (an older
    row) it runs from ``decided_at``, which is never later than execution, so the
    button disappears no later than the service stops accepting undos.
    """
    if approval.status != "executed" or approval.action.kind not in REVERSIBLE_KINDS:
        return None
    start = approval.executed_at or approval.decided_at
    if start is None:
        return None
    deadline = start + ctx.undo_window
    return deadline if ctx.now < deadline else None


def status_lines(approval: Approval, ctx: CardContext, *, list_skipped: bool = True) -> list[str]:
    """The state of a decided approval in words (empty while pending).

    An executed one lists up to ``ctx.max_items`` skipped records with the reason,
    unless ``list_skipped`` is False (Details lists them all elsewhere).
    """
    status = approval.status
    deciders = people(approval.approvals) if approval.approvals else who(approval.decided_by)
    reason = escape(approval.reason or "")
    if status == "pending":
        return []
    if status in ("approved", "executing"):
        return [f":white_check_mark: Approved by {deciders}; executing{ELLIPSIS}"]
    if status == "executed":
        return _executed_lines(approval, ctx, deciders, list_skipped)
    if status == "rejected":
        return [f":x: *Rejected* by {who(approval.decided_by)}: {reason or 'no reason given'}"]
    if status == "expired":
        line = f":hourglass: *Expired* {slack_date(approval.expires_at)} without a decision."
        return [line + (f" {reason}" if reason else "")]
    if status == "superseded":
        return [
            f":arrows_counterclockwise: *Superseded*: {reason or 'the record changed since the proposal'}"
        ]
    if status == "failed":
        return [f":warning: *Failed*: {reason or 'unknown error'}"]
    if status == "undone":
        undo = (approval.result or {}).get("undo") or {}
        restored = len(undo.get("written") or [])
        return [f":leftwards_arrow_with_hook: *Undone*: restored {restored} record(s)."]
    return [f"Status: {escape(status)}"]


def _executed_lines(approval: Approval, ctx: CardContext, deciders: str, list_skipped: bool) -> list[str]:
    result = approval.result or {}
    written = result.get("written") or []
    skipped: Mapping[str, str] = result.get("skipped") or {}
    labels = {t.record_id: t.label or t.record_id for t in approval.action.targets}
    if approval.action.kind == "book_meeting":
        meeting = result.get("meeting_id")
        summary = f":white_check_mark: *Executed* (approved by {deciders}): the meeting is booked"
        summary += f" (`{escape(str(meeting))}`; its message has Reschedule and Cancel)." if meeting else "."
    else:
        summary = f":white_check_mark: *Executed* (approved by {deciders}): wrote {len(written)} record(s)"
        summary += f", skipped {len(skipped)}." if skipped else "."
    if result.get("replayed"):
        summary += " The CRM had already applied it; nothing was written twice."
    lines = [summary]
    merge = approval.action.merge
    now_id = result.get("survivor_id")
    if merge is not None and now_id and now_id != merge.survivor_id:
        merged = link(f"`{escape(str(now_id))}`", ctx.record_url(approval.action.object_type, str(now_id)))
        lines.append(f"The merged record has a new id in the CRM: {merged}.")
    for n, (record_id, why) in enumerate(skipped.items() if list_skipped else ()):
        if n == ctx.max_items:
            lines.append(f"{ELLIPSIS} and {len(skipped) - n} more skipped (see Details)")
            break
        label = escape(one_line(labels.get(record_id, record_id)))
        lines.append(f"• {label} `{escape(record_id)}`: {escape(one_line(str(why)))}")
    deadline = undo_deadline(approval, ctx)
    if deadline is not None:
        lines.append(f"Undo is possible until {slack_date(deadline)}.")
    return lines


def can_narrow(action: ProposedAction) -> bool:
    """Whether the Edit modal has anything to offer: a record or a field that could be dropped."""
    fields = {name for t in action.targets for name in t.changes}
    if action.kind == "merge":
        return len(action.targets) > 2 or bool(action.merge and action.merge.field_plan)
    return len(action.targets) > 1 or len(fields) > 1


def record_option(target: Target, detail: str) -> Option:
    """A checkbox option for one record: value = record id, text = its label, description = ``detail``."""
    label = one_line(target.label or target.record_id)
    if target.label:
        label = f"{truncate(label, OPTION_TEXT_MAX - len(target.record_id) - 3)} ({target.record_id})"
    return Option(
        value=target.record_id,
        text=PlainTextObject(text=truncate(label, OPTION_TEXT_MAX)),
        description=PlainTextObject(text=truncate(detail, OPTION_DESCRIPTION_MAX)) if detail else None,
    )


def button(text: str, action_id: str, approval: Approval, **extra: Any) -> ButtonElement:
    """A button whose value is the approval id and nothing else."""
    return ButtonElement(text=PlainTextObject(text=text), action_id=action_id, value=approval.id, **extra)


def confirm(title: str, text: str, yes: str) -> ConfirmObject:
    return ConfirmObject(title=title, text=mrkdwn(truncate(text, 300)), confirm=yes, deny="Cancel")


def decided_actions(approval: Approval, ctx: CardContext) -> ActionsBlock:
    """Buttons after a decision: Undo while it is possible, and Details."""
    elements: list[ButtonElement] = []
    if undo_deadline(approval, ctx) is not None:
        count = len(approval.action.targets)
        elements.append(
            button(
                "Undo",
                ids.ACTION_UNDO,
                approval,
                confirm=confirm(
                    "Undo this change?", f"Write the previous values back to {count} record(s).", "Undo"
                ),
            )
        )
    elements.append(button("Details", ids.ACTION_DETAILS, approval))
    return ActionsBlock(block_id=ACTIONS, elements=elements)
