"""approvals and waivers record the team scope their giver held (signed); models are found by team

Revision ID: teams_0001
Revises: nightly_parts_0001
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "teams_0001"
down_revision = "nightly_parts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: every team (a user without `teams` in the roles file, and every verdict from before teams).
    for table in ("approvals", "waivers"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("scope_teams", sa.JSON(), nullable=True))
    with op.batch_alter_table("models", schema=None) as batch_op:
        # A scoped reviewer's portfolio and queue filter on it.
        batch_op.create_index("ix_models_team", ["team"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index("ix_models_team")
    for table in ("waivers", "approvals"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("scope_teams")
