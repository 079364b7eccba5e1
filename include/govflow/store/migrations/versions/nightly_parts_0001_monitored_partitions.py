"""monitored_partitions: which partitions of a model's monitoring source nightly has read, per stage

Revision ID: nightly_parts_0001
Revises: trust_facts_0001
Create Date: 2026-12-06 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "nightly_parts_0001"
down_revision = "trust_facts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitored_partitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("models.id"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("partition", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("labeled_rows", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        # One claim per partition and stage: a second run (or a racing task) cannot read it again.
        sa.UniqueConstraint("model_id", "source", "stage", "partition"),
    )
    op.create_index("ix_monitored_partitions_run", "monitored_partitions", ["run_id", "model_id"])


def downgrade() -> None:
    op.drop_index("ix_monitored_partitions_run", table_name="monitored_partitions")
    op.drop_table("monitored_partitions")
