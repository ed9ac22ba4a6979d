"""Row <-> domain model conversion (the only place that knows both shapes)."""

from __future__ import annotations

import hashlib

from agent.models import Approval, ProposedAction, Verdict
from agent.store.rows import ApprovalRow


def dedupe_hash(action: ProposedAction) -> str:
    return hashlib.sha256(action.dedupe_key().encode()).hexdigest()


def approval_from_row(row: ApprovalRow, votes: tuple[str, ...] = ()) -> Approval:
    return Approval(
        id=row.id,
        action=ProposedAction.model_validate(row.action),
        status=row.status,
        verdict=Verdict.model_validate(row.verdict),
        run_id=row.run_id,
        requested_by=row.requested_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        approvals=votes,
        pre_image=row.pre_image,
        result=row.result,
        slack_channel=row.slack_channel,
        slack_ts=row.slack_ts,
        updated_at=row.updated_at,
        executed_at=row.executed_at,
        revision=row.revision or 0,
        slack_revision=row.slack_revision,
        slack_status=row.slack_status,
        reminders_sent=row.reminders_sent or 0,
        escalated_at=row.escalated_at,
        slack_nudges=row.slack_nudges or 0,
    )
