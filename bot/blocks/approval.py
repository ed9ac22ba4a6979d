"""The approval card: one gated action, with everything an approver needs to decide.

Same content as the terminal rendering (``bot.render.approval_panel``): what,
why, evidence, the diff or merge plan, blast radius, the policy rule, who asked,
votes and expiry. The content sections are shared with the bulk card.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    SectionBlock,
)

from agent.describe import describe
from agent.models import OWNER_FIELD, Approval, ProposedAction, Target
from bot import ids
from bot.blocks.card import (
    ACTIONS,
    STATUS,
    CardContext,
    Message,
    button,
    can_narrow,
    confirm,
    decided_actions,
    fallback_text,
    header,
    mrkdwn,
    status_lines,
    text_sections,
)
from bot.blocks.limits import FIELD_TEXT_MAX, SECTION_FIELDS_MAX, SECTION_TEXT_MAX
from bot.blocks.meeting import meeting_sections
from bot.blocks.text import (
    ELLIPSIS,
    VALUE_MAX,
    change_text,
    escape,
    link,
    number,
    one_line,
    people,
    slack_date,
    truncate,
    value_text,
    who,
)

DiffBuilder = Callable[[ProposedAction, CardContext], Sequence[Block]]
"""Renders the change itself: a diff for a normal card, a sample with checkboxes for a bulk card."""

REVENUE_FIELD = "annual_revenue"
IRREVERSIBLE_KINDS = frozenset({"merge", "delete"})
_SEE_DETAILS = " (see Details)"


def build_approval_message(approval: Approval, ctx: CardContext) -> Message:
    """The card for one approval in its current state.

    Pending: the full context and Approve / Reject / Edit / Details (Edit only
    when there is something to narrow). After a decision the content stays, the
    decision buttons go, and a status line says what happened; Undo appears on
    an executed reversible action while the undo window is open.
    """
    blocks: list[Block] = [header(approval), *content_blocks(approval, ctx, diff=diff_sections)]
    if approval.status == "pending":
        blocks.append(_pending_actions(approval, ctx))
    else:
        blocks.extend(text_sections(STATUS, status_lines(approval, ctx), max_blocks=2))
        blocks.append(decided_actions(approval, ctx))
    return Message(text=fallback_text(approval, ctx), blocks=blocks)


def content_blocks(approval: Approval, ctx: CardContext, *, diff: DiffBuilder) -> list[Block]:
    """What, why, evidence, the change (via ``diff``), blast radius, policy and who/when."""
    action = approval.action
    what = f"*{escape(one_line(describe(action, ctx.owners)))}*"
    blocks: list[Block] = [SectionBlock(block_id="what", text=mrkdwn(truncate(what, SECTION_TEXT_MAX)))]
    why = f"*Why:* {escape(action.rationale.strip()) or 'no rationale given'}"
    if len(why) > SECTION_TEXT_MAX:
        why = truncate(why, SECTION_TEXT_MAX - len(_SEE_DETAILS)) + _SEE_DETAILS
    blocks.append(SectionBlock(block_id="why", text=mrkdwn(why)))
    evidence = evidence_section(action)
    if evidence is not None:
        blocks.append(evidence)
    if action.kind == "merge" and action.merge is not None:
        blocks.extend(merge_sections(action, ctx))
    elif action.meeting is not None:
        blocks.extend(meeting_sections(action.meeting, ctx))
    else:
        blocks.extend(diff(action, ctx))
    blocks.append(SectionBlock(block_id="blast", text=mrkdwn(blast_radius(action, ctx))))
    verdict = approval.verdict
    rule = escape(verdict.rule).replace("`", "'")
    policy = f"*Policy:* `{rule}` — {escape(verdict.reason)}"
    if len(verdict.gates) > 1:
        policy += f" (gates: {escape(', '.join(verdict.gates))})"
    blocks.extend(text_sections("policy", [policy], max_blocks=1))
    blocks.append(meta_context(approval, ctx))
    return blocks


def evidence_section(action: ProposedAction) -> SectionBlock | None:
    """Evidence as compact fields (at most 10; the rest are in Details)."""
    items = list(action.evidence.items())
    if not items:
        return None
    shown = items if len(items) <= SECTION_FIELDS_MAX else items[: SECTION_FIELDS_MAX - 1]
    fields = [
        mrkdwn(truncate(f"*{escape(str(key))}*\n{escape(one_line(str(value))) or ' '}", FIELD_TEXT_MAX))
        for key, value in shown
    ]
    if len(shown) < len(items):
        fields.append(mrkdwn(f"{ELLIPSIS} {len(items) - len(shown)} more (see Details)"))
    return SectionBlock(block_id="evidence", fields=fields)


def record_name(action: ProposedAction, target: Target, ctx: CardContext) -> str:
    """A record's label, linked to the CRM when possible, followed by its id."""
    label = escape(truncate(one_line(target.label or target.record_id), 120))
    name = link(label, ctx.record_url(action.object_type, target.record_id))
    return f"{name} `{escape(target.record_id)}`" if target.label else name


def target_line(action: ProposedAction, target: Target, ctx: CardContext, limit: int = VALUE_MAX) -> str:
    """One record and everything that changes on it, on one line."""
    parts = [change_text(name, change, ctx.owners, limit) for name, change in target.changes.items()]
    if target.note:
        parts.append(f"*note*: {truncate(escape(one_line(target.note)), limit)}")
    if action.kind == "delete":
        parts.append("*record*: exists → deleted")
    return f"• {record_name(action, target, ctx)} — {'; '.join(parts) or 'no field changes'}"


def diff_sections(action: ProposedAction, ctx: CardContext) -> list[SectionBlock]:
    """Before → after for the first ``ctx.max_items`` records, then "and N more"."""
    shown = action.targets[: ctx.max_items]
    lines = ["*Change*", *(target_line(action, t, ctx) for t in shown)]
    if len(action.targets) > len(shown):
        lines.append(f"{ELLIPSIS} and {len(action.targets) - len(shown)} more records (see Details)")
    return text_sections("diff", lines, max_blocks=3)


def merge_sections(action: ProposedAction, ctx: CardContext) -> list[SectionBlock]:
    """The survivor, the records merged into it, the per-field plan and the caveats."""
    assert action.merge is not None
    plan = action.merge
    by_id = {t.record_id: t for t in action.targets}
    others = [t for t in action.targets if t.record_id != plan.survivor_id]
    lines = [
        "*Merge plan*",
        f"Survivor: {record_name(action, by_id[plan.survivor_id], ctx)}",
        *(f"Merged into it and removed: {record_name(action, t, ctx)}" for t in others),
    ]
    if plan.field_plan:
        lines.append("Survivor fields after the merge:")
        lines.extend(
            f"• *{escape(name)}* → {value_text(name, value, ctx.owners)}"
            for name, value in plan.field_plan.items()
        )
    blocks = text_sections("merge", lines, max_blocks=2)
    all_caveats = [*plan.caveats, *ctx.platform_caveats(action)]
    if all_caveats:
        caveats = [":warning: *Caveats*", *(f"• {escape(one_line(c))}" for c in all_caveats)]
        blocks.extend(text_sections("caveats", caveats, max_blocks=1))
    return blocks


def revenue_involved(action: ProposedAction) -> float | None:
    """Sum over targets of the larger of ``annual_revenue`` before/after, when any target changes it."""
    total: float | None = None
    for target in action.targets:
        change = target.changes.get(REVENUE_FIELD)
        if change is None:
            continue
        values = [
            float(v)
            for v in (change.before, change.after)
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        if values:
            total = (total or 0.0) + max(values)
    return total


def blast_radius(action: ProposedAction, ctx: CardContext) -> str:
    """Records touched, owners affected, revenue involved, and whether it can be undone."""
    noun = action.object_type if len(action.targets) == 1 else f"{action.object_type}s"
    parts = [f"{len(action.targets)} {noun}"]
    owners = {
        str(value)
        for t in action.targets
        if OWNER_FIELD in t.changes
        for value in (t.changes[OWNER_FIELD].before, t.changes[OWNER_FIELD].after)
        if value
    }
    if owners:
        names = sorted(value_text(OWNER_FIELD, o, ctx.owners) for o in owners)
        shown = ", ".join(names[: ctx.max_items])
        more = f" and {len(names) - ctx.max_items} more" if len(names) > ctx.max_items else ""
        parts.append(f"owners affected: {shown}{more}")
    revenue = revenue_involved(action)
    if revenue is not None:
        parts.append(f"{REVENUE_FIELD} involved: {number(revenue)}")
    if action.kind in IRREVERSIBLE_KINDS:
        parts.append("*not reversible*")
    return truncate("*Blast radius:* " + " · ".join(parts), SECTION_TEXT_MAX)


def votes_text(approval: Approval, ctx: CardContext) -> str | None:
    """Votes so far ("1 of 2 approvals: <@U1>") when a request needs several, else ``None``."""
    needed = ctx.approvals_needed(approval)
    if needed <= 1 and not approval.approvals:
        return None
    so_far = f": {people(approval.approvals)}" if approval.approvals else " so far"
    return f"{len(approval.approvals)} of {needed} approvals{so_far}"


def meta_context(approval: Approval, ctx: CardContext) -> ContextBlock:
    """Who or what asked, through which planner and run, votes, and when it expires."""
    action = approval.action
    origin = f"Requested by {who(approval.requested_by)} via the {escape(action.planner)} planner"
    if action.check:
        origin += f" (check {escape(action.check)})"
    if approval.run_id:
        origin += f", run `{escape(approval.run_id)}`"
    texts = [origin]
    votes = votes_text(approval, ctx)
    if approval.status == "pending":
        verb = "Expires" if ctx.now < approval.expires_at else "Expired"
        texts.append(f"{verb} {slack_date(approval.expires_at)}")
        if approval.escalated_at is not None:
            texts.append(f"Escalated {slack_date(approval.escalated_at)}")
        elif approval.reminders_sent:
            texts.append(f"Reminded {approval.reminders_sent}x")
        if votes:
            texts.append(votes)
    else:
        texts.append(f"Requested {slack_date(approval.created_at)}")
    texts.append(f"id `{escape(approval.id)}`")
    return ContextBlock(block_id="meta", elements=[mrkdwn(truncate(t, SECTION_TEXT_MAX)) for t in texts])


def _pending_actions(approval: Approval, ctx: CardContext) -> ActionsBlock:
    warning = " This cannot be undone." if approval.action.kind in IRREVERSIBLE_KINDS else ""
    what = truncate(escape(one_line(describe(approval.action, ctx.owners))), 300 - len(warning))
    elements: Sequence[ButtonElement] = [
        button(
            "Approve",
            ids.ACTION_APPROVE,
            approval,
            style="primary",
            confirm=confirm("Approve this change?", what + warning, "Approve"),
        ),
        button("Reject", ids.ACTION_REJECT, approval, style="danger"),
        *([button("Edit", ids.ACTION_EDIT, approval)] if can_narrow(approval.action) else []),
        button("Details", ids.ACTION_DETAILS, approval),
    ]
    return ActionsBlock(block_id=ACTIONS, elements=list(elements))
