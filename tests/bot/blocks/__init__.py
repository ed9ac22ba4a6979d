"""Builders of approvals for the Block Kit tests, and checks every payload must pass.

Approvals are built directly (no database) with fixed datetimes; every payload
is checked twice: by slack_sdk's own validation and by ``bot.blocks.limits``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock
from slack_sdk.models.views import View

from agent.models import (
    Approval,
    ApprovalStatus,
    FieldChange,
    MergePlan,
    Owner,
    ProposedAction,
    Target,
    Verdict,
)
from bot.blocks import CardContext, Message, check_message, check_view

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
OWNERS = {
    "O1": Owner(id="O1", name="Ada Lovelace", email="ada@example.com"),
    "O2": Owner(id="O2", name="Grace Hopper", email="grace@example.com"),
    "O3": Owner(id="O3", name="Old Timer", email="old@example.com", active=False),
}
DECIDED = {"approved", "executing", "executed", "rejected", "expired", "superseded", "failed", "undone"}
STATUSES: tuple[ApprovalStatus, ...] = (
    "pending",
    "approved",
    "executing",
    "executed",
    "rejected",
    "expired",
    "superseded",
    "failed",
    "undone",
)


def context(**overrides: Any) -> CardContext:
    values: dict[str, Any] = {"owners": OWNERS, "now": NOW, "undo_window": timedelta(hours=24)}
    values.update(overrides)
    return CardContext(**values)


def owner_change(
    record_id: str = "L1", label: str | None = "Acme Corp", before: str = "O1"
) -> ProposedAction:
    return ProposedAction(
        id="act-owner",
        kind="change_owner",
        object_type="lead",
        targets=[
            Target(
                record_id=record_id,
                version="v1",
                label=label,
                changes={"owner_id": FieldChange(before=before, after="O2")},
            )
        ],
        rationale="Territory moved to the west team.",
        evidence={"routing_rule": "west-coast", "score": 0.92},
        planner="offline",
        check="routing",
    )


def bulk_normalise(count: int = 140, rationale: str = "Phone numbers should be E.164.") -> ProposedAction:
    return ProposedAction(
        id="act-bulk",
        kind="normalize_field",
        object_type="lead",
        targets=[
            Target(
                record_id=f"L{n:04d}",
                version="v1",
                label=f"Lead number {n}",
                changes={"phone": FieldChange(before=f"(555) 010-{n:04d}", after=f"+1555010{n:04d}")},
            )
            for n in range(count)
        ],
        rationale=rationale,
        evidence={"check": "phone_format"},
        check="phone_format",
    )


def merge_of_three() -> ProposedAction:
    return ProposedAction(
        id="act-merge",
        kind="merge",
        object_type="account",
        targets=[
            Target(record_id="A1", version="v3", label="Acme Corp"),
            Target(record_id="A2", version="v1", label="ACME Corporation"),
            Target(record_id="A3", version="v7", label="Acme Corp."),
        ],
        merge=MergePlan(
            survivor_id="A1",
            field_plan={"phone": "+15550100", "annual_revenue": 2_500_000},
            caveats=["A2 has an open opportunity; it moves to A1."],
        ),
        rationale="Same domain and same billing address.",
        evidence={"match_score": 0.99, "matched_on": "domain, address"},
    )


def revenue_change() -> ProposedAction:
    return ProposedAction(
        id="act-rev",
        kind="enrich_data",
        object_type="account",
        targets=[
            Target(
                record_id=f"A{n}",
                version="v1",
                label=f"Account {n}",
                changes={
                    "annual_revenue": FieldChange(before=before, after=after),
                    "industry": FieldChange(before=None, after="Software"),
                },
            )
            for n, (before, after) in enumerate([(None, 1_500_000), (3_000_000, 2_000_000)])
        ],
        rationale="Enriched from the data provider.",
        evidence={"source": "clearbit"},
    )


def approval(
    action: ProposedAction | None = None,
    status: ApprovalStatus = "pending",
    **overrides: Any,
) -> Approval:
    action = action or owner_change()
    values: dict[str, Any] = {
        "id": "apr_0001",
        "action": action,
        "status": status,
        "verdict": Verdict(
            outcome="require_approval",
            reason="owner changes need a person",
            rule="requires_approval: change_owner",
            gates=("change_owner",),
        ),
        "run_id": "run-7",
        "requested_by": "U0REQUESTER",
        "created_at": NOW - timedelta(hours=1),
        "expires_at": NOW + timedelta(hours=23),
    }
    if status in DECIDED - {"expired", "superseded"}:
        values.update(decided_by="U0APPROVER", decided_at=NOW - timedelta(minutes=30))
        values["approvals"] = ("U0APPROVER",)
    if status == "rejected":
        values.update(reason="Wrong territory", approvals=())
    if status == "failed":
        values["reason"] = "CRM answered 409: record locked"
    if status == "superseded":
        values["reason"] = "the record changed since the proposal"
    if status in ("executed", "undone"):
        values["executed_at"] = NOW - timedelta(minutes=29)
    if status == "executed":
        values["result"] = {"written": action.record_ids, "skipped": {}, "replayed": False}
    if status == "undone":
        values["result"] = {"undo": {"written": action.record_ids, "skipped": {}}}
    values.update(overrides)
    return Approval(**values)


def assert_valid_message(message: Message) -> dict[str, Any]:
    """slack_sdk's validation and ours both pass; returns the JSON payload."""
    assert message.text.strip()
    for block in message.blocks:
        block.validate_json()
    payload = message.to_dict()  # validates every nested element too
    assert check_message(message.blocks, message.text) == []
    return payload


def assert_valid_view(view: View) -> dict[str, Any]:
    view.validate_json()
    for block in view.blocks or []:
        block.validate_json()
    payload = view.to_dict()
    assert check_view(view) == []
    return payload


def block(blocks: Sequence[Block], block_id: str) -> Block:
    found = [b for b in blocks if b.block_id == block_id]
    assert found, f"no block {block_id!r} in {[b.block_id for b in blocks]}"
    return found[0]


def block_ids(blocks: Iterable[Block]) -> list[str]:
    return [b.block_id or "" for b in blocks]


def text_of(blocks: Sequence[Block], block_id: str) -> str:
    section = block(blocks, block_id)
    assert isinstance(section, SectionBlock)
    assert section.text is not None
    return str(section.text.text)


def all_text(payload: dict[str, Any]) -> str:
    return repr(payload)


def buttons(blocks: Sequence[Block]) -> list[ButtonElement]:
    return [
        element
        for b in blocks
        if isinstance(b, ActionsBlock)
        for element in b.elements or []
        if isinstance(element, ButtonElement)
    ] + [
        b.accessory for b in blocks if isinstance(b, SectionBlock) and isinstance(b.accessory, ButtonElement)
    ]


def action_ids(blocks: Sequence[Block]) -> list[str]:
    return [b.action_id or "" for b in buttons(blocks)]
