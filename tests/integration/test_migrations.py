"""Alembic migrations: up to head, down to base, up again; govflow's own version table."""

from __future__ import annotations

from govflow import store

GOVFLOW_TABLES = {
    "alerts",
    "approvals",
    "audit_events",
    "check_results",
    "documents",
    "gate_decisions",
    "model_versions",
    "models",
    "runs",
    "waivers",
}


def _roundtrip(url: str) -> None:
    engine = store.make_engine(url)
    store.upgrade_schema(engine)
    assert set(store.table_names(engine)) >= GOVFLOW_TABLES
    assert "govflow_alembic_version" in store.table_names(engine)
    assert "alembic_version" not in store.table_names(engine)  # never Airflow's or anyone else's table
    assert store.current_revision(engine) == store.head_revision()
    store.downgrade_schema(engine, "base")
    assert not (GOVFLOW_TABLES & set(store.table_names(engine)))
    assert store.current_revision(engine) is None
    store.upgrade_schema(engine)
    assert set(store.table_names(engine)) >= GOVFLOW_TABLES
    engine.dispose()


def test_migrations_up_down_up_sqlite(empty_db_url):
    _roundtrip(empty_db_url)


def test_migrations_up_down_up_postgres(empty_pg_url):
    _roundtrip(empty_pg_url)


def test_first_use_upgrades_automatically(govflow_home):
    with store.session_scope() as s:
        assert s.scalar(store.AuditEvent.__table__.select().with_only_columns(store.AuditEvent.seq)) is None
    assert (govflow_home / "govflow.db").exists()
    assert store.current_revision(store.get_engine()) == store.head_revision()
