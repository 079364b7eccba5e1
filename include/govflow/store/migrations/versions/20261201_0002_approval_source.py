"""approvals name the pipeline run and the Airflow Required Action they came from

Revision ID: 20261201_0002
Revises: 20261201_0001
Create Date: 2026-12-01 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_0002"
down_revision = "20261201_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
        # "<dag_id>/<run_id>/<task_id>/<map_index>/<try_number>": one Airflow answer is recorded once.
        batch_op.add_column(sa.Column("required_action", sa.String(length=400), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_approvals_run_id_runs"), "runs", ["run_id"], ["id"])
        batch_op.create_unique_constraint(batch_op.f("uq_approvals_required_action"), ["required_action"])


def downgrade() -> None:
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_approvals_required_action"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_approvals_run_id_runs"), type_="foreignkey")
        batch_op.drop_column("required_action")
        batch_op.drop_column("run_id")
