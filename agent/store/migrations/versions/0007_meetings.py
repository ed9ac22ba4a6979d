"""meetings: revgate's bookings (one row per booked meeting) and the embedded CRM's meeting activities

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status != 'cancelled'")


def upgrade() -> None:
    op.create_table(
        "crm_meetings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("uid", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_crm_meetings_owner_start", "crm_meetings", ["owner_id", "starts_at"])
    op.create_index("ix_crm_meetings_record", "crm_meetings", ["record_id"])
    op.create_table(
        "meetings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("action_id", sa.String(length=40), nullable=False),
        sa.Column("approval_id", sa.String(length=40), nullable=True),
        sa.Column("lead_id", sa.String(length=80), nullable=False),
        sa.Column("rep_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uid", sa.String(length=200), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("invite_sequence", sa.Integer(), nullable=True),
        sa.Column("crm_activity_id", sa.String(length=80), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_by", sa.String(length=80), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("slack_channel", sa.String(length=40), nullable=True),
        sa.Column("slack_ts", sa.String(length=40), nullable=True),
        sa.Column("slack_revision", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("action_id", name="uq_meetings_action"),
    )
    op.create_index("ix_meetings_lead", "meetings", ["lead_id"])
    # Two live bookings of one rep at one start time: the database refuses the second.
    op.create_index(
        "uq_meetings_rep_start_live",
        "meetings",
        ["rep_id", "starts_at"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_meetings_rep_start_live", table_name="meetings")
    op.drop_index("ix_meetings_lead", table_name="meetings")
    op.drop_table("meetings")
    op.drop_index("ix_crm_meetings_record", table_name="crm_meetings")
    op.drop_index("ix_crm_meetings_owner_start", table_name="crm_meetings")
    op.drop_table("crm_meetings")
