"""runs record the Airflow DAG version (and bundle version) that produced them

Revision ID: 20261201_0003
Revises: 20261201_0002
Create Date: 2026-12-01 09:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_0003"
down_revision = "20261201_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        # {"dag_version_id", "bundle_name", "bundle_version"}: NULL for CLI runs and older rows.
        batch_op.add_column(sa.Column("dag_version", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("dag_version")
