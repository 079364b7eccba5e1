"""webhook deliveries: one row per delivery id, claimed before the delivery is acted on

Revision ID: trust_edges_0001
Revises: 20261201_0003
Create Date: 2026-12-06 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "trust_edges_0001"
down_revision = "20261201_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("source", "delivery_id", name=op.f("uq_webhook_deliveries_source_delivery_id")),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
