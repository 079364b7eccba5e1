"""Alembic environment: govflow's own version table, URL/engine from govflow settings."""

from __future__ import annotations

from alembic import context

from govflow.store._models import Base

config = context.config
target_metadata = Base.metadata
VERSION_TABLE = config.get_main_option("version_table") or "govflow_alembic_version"
# Every process upgrades the schema on first use (Airflow tasks start together on a fresh
# database); on PostgreSQL one at a time, or two create the version table at once and one fails.
_PG_MIGRATION_LOCK_KEY = 0x676F76666C6F77  # "govflow" in ASCII; the audit trail's lock is another key


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from govflow import config as govflow_config
        from govflow.store._db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or govflow_config.db_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            compare_type=True,
            compare_server_default=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Held to the end of this transaction; the next process then finds the schema at head.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_KEY})")
            context.run_migrations()
        connection.commit()


run_migrations_online()
