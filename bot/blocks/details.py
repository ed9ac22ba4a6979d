"""The Details modal: an approval's whole payload, as readable text.

Every record with every change, the evidence, the verdict, the votes and the
result or error. Long text is wrapped across sections (3000 characters each)
rather than cut; only when a modal's 100 blocks run out does the record list
end with "… N more lines", pointing at the CLI, which shows everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from agent.describe import describe
from agent.models import Approval
from bot import ids
from bot.blocks.approval import merge_sections, record_name, target_line, votes_text
from bot.blocks.card import CardContext, status_lines, text_sections
from bot.blocks.limits import SECTION_TEXT_MAX, VIEW_MAX_BLOCKS
from bot.blocks.meeting import meeting_lines
from bot.blocks.text import escape, one_line, slack_date, who, wrap

DETAIL_VALUE_MAX = 1000
"""Longest field value in Details (the card shows 300)."""
_PART_MAX_BLOCKS = 5


def build_details_modal(approval: Approval, ctx: CardContext) -> View:
    """Everything about one approval, read-only (no submit button)."""
    more = f"not shown; `revgate approvals show {escape(approval.id)}` lists everything"
    fixed: list[Block] = []
    for block_id, lines in _fixed_parts(approval, ctx):
        fixed.extend(text_sections(block_id, _wrapped(lines), _PART_MAX_BLOCKS, more=more))
    if approval.action.merge is not None:
        fixed.extend(merge_sections(approval.action, ctx))
    budget = VIEW_MAX_BLOCKS - len(fixed)
    result = _result_lines(approval)
    result_blocks = (
        text_sections("result", _wrapped(result), max(budget // 2, 1), more=more) if result else []
    )
    budget -= len(result_blocks)
    targets = text_sections("targets", _wrapped(_target_lines(approval, ctx)), max(budget, 1), more=more)
    return View(
        type="modal",
        callback_id=ids.VIEW_DETAILS,
        private_metadata=approval.id,
        title="Approval details",
        close="Close",
        blocks=[*fixed, *result_blocks, *targets],
    )


def _wrapped(lines: list[str]) -> list[str]:
    return [piece for line in lines for piece in wrap(line, SECTION_TEXT_MAX)]


def _fixed_parts(approval: Approval, ctx: CardContext) -> list[tuple[str, list[str]]]:
    action = approval.action
    verdict = approval.verdict
    summary = [
        f"*{escape(one_line(describe(action, ctx.owners)))}*",
        f"`{escape(approval.id)}` · {action.kind} on {action.object_type} · status *{approval.status}*",
    ]
    policy = [
        f"*Policy:* {verdict.outcome} by `{escape(verdict.rule)}`",
        escape(verdict.reason),
    ]
    if verdict.gates:
        policy.append(f"Gates: {escape(', '.join(verdict.gates))}")
    people_lines = [
        f"*Requested by* {who(approval.requested_by)} via the {escape(action.planner)} planner"
        + (f" (check {escape(action.check)})" if action.check else "")
        + (f", run `{escape(approval.run_id)}`" if approval.run_id else ""),
        f"*Created* {slack_date(approval.created_at)} · *expires* {slack_date(approval.expires_at)}",
    ]
    votes = votes_text(approval, ctx)
    if votes:
        people_lines.append(f"*Votes:* {votes}")
    if approval.decided_by:
        decided = f"*Decided by* {who(approval.decided_by)}"
        if approval.decided_at:
            decided += f" {slack_date(approval.decided_at)}"
        people_lines.append(decided)
    parts = [
        ("summary", summary),
        ("status", status_lines(approval, ctx, list_skipped=False)),
        ("policy", policy),
    ]
    if action.meeting is not None:
        parts.append(("meeting", meeting_lines(action.meeting)))
    parts.append(("people", people_lines))
    rationale = action.rationale.strip() or "no rationale given"
    paragraphs = [escape(p) for p in rationale.splitlines() if p.strip()]
    parts.append(("rationale", [f"*Why:* {paragraphs[0]}", *paragraphs[1:]]))
    if action.evidence:
        evidence = [f"• *{escape(k)}*: {escape(one_line(str(v)))}" for k, v in action.evidence.items()]
        parts.append(("evidence", ["*Evidence*", *evidence]))
    return [(block_id, lines) for block_id, lines in parts if lines]


def _result_lines(approval: Approval) -> list[str]:
    result: Mapping[str, Any] = approval.result or {}
    lines: list[str] = []
    if approval.status == "failed":
        lines.append(f"*Error:* {escape(approval.reason or 'unknown error')}")
    if not result:
        return lines
    labels = {t.record_id: t.label or t.record_id for t in approval.action.targets}
    undo: Mapping[str, Any] = result.get("undo") or {}
    for title, outcome in (("Result", result), ("Undo result", undo)):
        written = outcome.get("written") or []
        skipped: Mapping[str, Any] = outcome.get("skipped") or {}
        if not (written or skipped or outcome is result):
            continue
        lines.append(f"*{title}:* wrote {len(written)} record(s), skipped {len(skipped)}")
        lines.extend(f"• wrote {escape(one_line(labels.get(r, r)))} `{escape(r)}`" for r in written)
        lines.extend(
            f"• skipped {escape(one_line(labels.get(r, r)))} `{escape(r)}`: {escape(one_line(str(why)))}"
            for r, why in skipped.items()
        )
        if outcome.get("note_ids"):
            lines.append(f"Notes created: {escape(', '.join(map(str, outcome['note_ids'])))}")
        if outcome.get("replayed"):
            lines.append("The CRM had already applied this change; nothing was written twice.")
    if approval.pre_image:
        lines.append(f"Previous values stored for {len(approval.pre_image)} record(s), for undo.")
    return lines


def _target_lines(approval: Approval, ctx: CardContext) -> list[str]:
    action = approval.action
    lines = [f"*Records ({len(action.targets)})*"]
    for target in action.targets:
        if action.merge is not None:
            role = "survivor" if target.record_id == action.merge.survivor_id else "merged away"
            lines.append(f"• {record_name(action, target, ctx)} — {role} (version {escape(target.version)})")
            continue
        line = target_line(action, target, ctx, limit=DETAIL_VALUE_MAX)
        lines.append(f"{line} (version {escape(target.version)})")
    return lines
