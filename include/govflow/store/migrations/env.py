"""Alembic environment: govflow's own version table, URL/engine from govflow settings."""

from __future__ import annotations

from alembic import context

from govflow.store._models import Base

config = context.config
target_metadata = Base.metadata
VERSION_TABLE = config.get_main_option("version_table") or "govflow_alembic_version"


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
            context.run_migrations()
        connection.commit()


run_migrations_online()
