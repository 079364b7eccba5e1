"""Processes that first touch a fresh PostgreSQL governance DB together all come up on one schema.

Airflow starts several govflow tasks at once on a new deployment; each upgrades the schema on first
use. Without a lock two of them create alembic's version table at the same moment and one task fails
(seen in the e2e runs: UniqueViolation on pg_type for govflow_alembic_version).
"""

from __future__ import annotations

import multiprocessing
import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("GOVFLOW_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
PROCESSES = 6


def _first_use(url: str, start: multiprocessing.synchronize.Event) -> None:
    from govflow import store

    start.wait(30)
    store.get_engine(url)  # upgrades to head on first use


@pytest.mark.postgres
def test_processes_migrating_a_fresh_database_at_once_all_succeed():
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - any connection failure means "no server"
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {err}")
        pytest.skip(f"PostgreSQL not reachable: {err}")
    name = f"govflow_race_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        context = multiprocessing.get_context("spawn")
        start = context.Event()
        workers = [context.Process(target=_first_use, args=(url, start)) for _ in range(PROCESSES)]
        for worker in workers:
            worker.start()
        start.set()
        for worker in workers:
            worker.join(120)
        assert [w.exitcode for w in workers] == [0] * PROCESSES
        from govflow import store

        engine = store.make_engine(url)
        try:
            assert store.current_revision(engine) == store.head_revision()
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
