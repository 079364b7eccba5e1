"""waivers name the check result they accept

Revision ID: 20261127_0002
Revises: 20261127_0001
Create Date: 2026-11-27 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261127_0002"
down_revision = "20261127_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("check_result_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_waivers_check_result_id_check_results"),
            "check_results",
            ["check_result_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_waivers_check_result_id_check_results"), type_="foreignkey")
        batch_op.drop_column("check_result_id")
