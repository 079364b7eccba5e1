"""Processes that first touch a fresh PostgreSQL governance DB together all come up on one schema.

Airflow starts several govflow tasks at once on a new deployment; each upgrades the schema on first
use. Without a lock two of them create alembic's version table at the same moment and one task fails
(seen in the e2e runs: UniqueViolation on pg_type for govflow_alembic_version).
"""

from __future__ import annotations

import multiprocessing

import pytest

PROCESSES = 6


def _first_use(url: str, start: multiprocessing.synchronize.Event) -> None:
    from govflow import store

    start.wait(30)
    store.get_engine(url)  # upgrades to head on first use


@pytest.mark.postgres
def test_processes_migrating_a_fresh_database_at_once_all_succeed(empty_pg_url):
    """``empty_pg_url``: a new, unmigrated database of its own (conftest), dropped afterwards."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_first_use, args=(empty_pg_url, start)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    from govflow import store

    engine = store.make_engine(empty_pg_url)
    try:
        assert store.current_revision(engine) == store.head_revision()
    finally:
        engine.dispose()
