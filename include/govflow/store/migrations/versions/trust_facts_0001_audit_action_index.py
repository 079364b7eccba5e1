"""audit_events(action, seq): the gate finds the newest event of an action (policy.applied) by index

Revision ID: trust_facts_0001
Revises: trust_edges_0001
Create Date: 2026-12-06 07:40:00
"""

from __future__ import annotations

from alembic import op

revision = "trust_facts_0001"
down_revision = "trust_edges_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        # The signed-fact check before each decision reads the newest policy.applied event: without
        # this it scans the whole trail (audit_events(subject) is indexed since the initial schema).
        batch_op.create_index("ix_audit_events_action_seq", ["action", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_action_seq")
