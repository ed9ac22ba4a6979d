"""routing: pools' round-robin state and routed leads with their SLA clocks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_pools",
        sa.Column("pool", sa.String(length=80), nullable=False),
        sa.Column("picks", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("pool"),
    )
    op.create_table(
        "routing_pool_members",
        sa.Column("pool", sa.String(length=80), nullable=False),
        sa.Column("owner_id", sa.String(length=80), nullable=False),
        sa.Column("current", sa.Float(), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("pool", "owner_id"),
    )
    op.create_table(
        "routing_assignments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("lead_id", sa.String(length=80), nullable=False),
        sa.Column("owner_id", sa.String(length=80), nullable=True),
        sa.Column("previous_owner_id", sa.String(length=80), nullable=True),
        sa.Column("pool", sa.String(length=80), nullable=True),
        sa.Column("queue", sa.String(length=80), nullable=True),
        sa.Column("rule", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approval_id", sa.String(length=40), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_routing_assignments_lead_id", "routing_assignments", ["lead_id"])
    op.create_index("ix_routing_assignments_owner_day", "routing_assignments", ["owner_id", "day"])
    op.create_index("ix_routing_assignments_status_due", "routing_assignments", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("routing_assignments")
    op.drop_table("routing_pool_members")
    op.drop_table("routing_pools")
