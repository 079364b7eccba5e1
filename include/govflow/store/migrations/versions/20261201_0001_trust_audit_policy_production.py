"""trust: signed audit events, auth methods, stored policies, one production version per model

Revision ID: 20261201_0001
Revises: 20261127_0002
Create Date: 2026-12-01 08:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_0001"
down_revision = "20261127_0002"
branch_labels = None
depends_on = None

_ONE_PRODUCTION = "uq_model_versions_one_production"
_ONE_ACTIVE_POLICY = "uq_policies_one_active"
# Columns added in place (ALTER TABLE ADD COLUMN): a batch re-create of audit_events
# on SQLite would silently drop its append-only triggers.
_ADDED = (
    ("audit_events", sa.Column("auth_method", sa.String(length=32), nullable=True)),
    ("audit_events", sa.Column("signature", sa.String(length=256), nullable=True)),
    ("audit_events", sa.Column("key_id", sa.String(length=64), nullable=True)),
    ("approvals", sa.Column("auth_method", sa.String(length=32), nullable=True)),
    ("waivers", sa.Column("auth_method", sa.String(length=32), nullable=True)),
)


def upgrade() -> None:
    for table, column in _ADDED:
        op.add_column(table, column)

    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
    )
    op.create_index(op.f("ix_policies_sha256"), "policies", ["sha256"], unique=False)
    _partial_unique(_ONE_ACTIVE_POLICY, "policies", "active", "active")

    _refuse_duplicate_production()
    _partial_unique(_ONE_PRODUCTION, "model_versions", "model_id", "stage = 'production'")


def downgrade() -> None:
    op.drop_index(_ONE_PRODUCTION, table_name="model_versions")
    op.drop_index(_ONE_ACTIVE_POLICY, table_name="policies")
    op.drop_index(op.f("ix_policies_sha256"), table_name="policies")
    op.drop_table("policies")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in reversed(_ADDED):
        if sqlite:
            # SQLite >= 3.35 drops a column in place, keeping the table's triggers.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
        else:
            op.drop_column(table, column.name)


def _partial_unique(name: str, table: str, column: str, where: str) -> None:
    # Partial unique indexes exist on both SQLite (3.8+) and PostgreSQL.
    op.create_index(
        name,
        table,
        [column],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def _refuse_duplicate_production() -> None:
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT model_id, COUNT(*) AS n FROM model_versions WHERE stage = 'production' "
                "GROUP BY model_id HAVING COUNT(*) > 1"
            )
        )
        .all()
    )
    if rows:
        ids = ", ".join(str(row.model_id) for row in rows)
        raise RuntimeError(
            f"model(s) {ids} have more than one production version; archive all but one "
            "(govflow promote --stage archived) and run the upgrade again"
        )
