"""Checks of one version run in parallel: a fact a sibling check commits after this task's snapshot
moves the version's seal past what this task read. That is no deletion (the sibling's event is
there when read afresh); a fact cut from the DB still is.

Seen on the Celery stack: pii, drift and validation of one version, started together, refused their
version as "signed event #7 ... is gone from the trail (the newest left is #6): deleted from the DB".
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from govflow import store
from govflow.checks import CheckResult
from govflow.service import registry
from govflow.service.checks import record_check_result
from govflow.service.fact_rows import Trail, load_events
from govflow.service.runs import ensure_run
from govflow.service.signed_facts import _chain_problems
from govflow.signing import Keyring
from govflow.store import AuditEvent, session_scope
from tests._helpers import checked_version

SUBJECT = "version:credit-risk@1.0"


@pytest.fixture(autouse=True)
def dev_mode(monkeypatch):
    monkeypatch.setenv("GOVFLOW_DEV_MODE", "1")


def _sibling_records(check: str) -> int:
    """A parallel check of the same version commits its result (its own transaction)."""
    with session_scope() as s:
        row = registry.get_version(s, "credit-risk", "1.0")
        run = ensure_run(s, dag_id="governance_gate", run_id="manual__sibling")
        record_check_result(
            s,
            version=row,
            run=run,
            data_sha256=row.training_data_sha256,
            result=CheckResult(check=check, status="pass", summary={}),
        )
    with session_scope() as s:
        return int(
            s.scalar(
                select(AuditEvent.seq).where(AuditEvent.subject == SUBJECT).order_by(AuditEvent.seq.desc())
            )
        )


def _snapshot(session) -> list:  # type: ignore[no-untyped-def]
    trail = Trail()
    assert load_events(session, AuditEvent.subject == SUBJECT, Keyring.trusted(), trail) == []
    return [e for e in trail.loaded if e.subject == SUBJECT]


def test_a_siblings_fact_committed_after_this_snapshot_is_no_deletion(db_url, sample_files):
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite serialises transactions (BEGIN IMMEDIATE): no sibling commits during one")
    checked_version(sample_files)
    with session_scope() as s:
        read = _snapshot(s)
        newest = _sibling_records("drift")
        assert newest > max(e.seq for e in read)  # the seal now names a fact this task did not read
        assert _chain_problems(s, SUBJECT, read, Keyring.trusted()) == []


def test_the_newest_sealed_fact_cut_from_the_db_is_still_a_deletion(db_url, sample_files):
    checked_version(sample_files)
    newest = _sibling_records("drift")
    engine = store.make_engine(db_url)
    with engine.begin() as conn:  # the DB writer: the append-only trigger dropped, the fact cut
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        conn.execute(text(f"DELETE FROM audit_events WHERE seq = {newest}"))
    engine.dispose()
    with session_scope() as s:
        (problem,) = _chain_problems(s, SUBJECT, _snapshot(s), Keyring.trusted())
    assert f"signed event #{newest}" in problem.message and "deleted from the DB" in problem.message
