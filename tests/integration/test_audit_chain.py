"""The audit trail: hash chain, tamper detection, append-only guards, concurrent appends."""

from __future__ import annotations

import multiprocessing as mp

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from govflow import store
from govflow.errors import ConflictError
from govflow.store import AuditEvent, session_scope
from govflow.store.audit import GENESIS_HASH, append_event, event_hash, verify_chain


def _append(n: int, actor: str = "tester") -> None:
    for i in range(n):
        with session_scope() as s:
            append_event(
                s, actor=actor, action="test.event", subject=f"thing:{i}", payload={"i": i, "who": actor}
            )


def _raw(db_url: str, *statements: str) -> None:
    """Tamper as someone with direct DB access would: bypass the append-only triggers first."""
    engine = store.make_engine(db_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def test_chain_links_every_event(db_url):
    _append(5)
    with session_scope() as s:
        events = list(s.scalars(text("SELECT seq FROM audit_events ORDER BY seq")))
        assert events == [1, 2, 3, 4, 5]
        first = s.get(AuditEvent, 1)
        assert first.prev_hash == GENESIS_HASH
        assert s.get(AuditEvent, 2).prev_hash == first.hash
        assert first.hash == event_hash(
            seq=1,
            ts=first.ts,
            actor=first.actor,
            action=first.action,
            subject=first.subject,
            payload=first.payload,
            prev_hash=first.prev_hash,
        )
        report = verify_chain(s)
    assert report.ok and report.events == 5


@pytest.mark.parametrize(
    ("tamper", "broken_seq", "problem"),
    [
        ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3", 3, "modified"),
        ("UPDATE audit_events SET payload = '{\"i\":99}' WHERE seq = 4", 4, "modified"),
        ("DELETE FROM audit_events WHERE seq = 2", 2, "missing"),
        ("REORDER", 2, "reordered"),
    ],
    ids=["update-actor", "update-payload", "delete", "reorder"],
)
def test_tampering_is_detected_at_the_first_broken_seq(db_url, tamper, broken_seq, problem):
    _append(5)
    if tamper == "REORDER":
        _raw(
            db_url,
            "UPDATE audit_events SET seq = -2 WHERE seq = 2",
            "UPDATE audit_events SET seq = 2 WHERE seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE seq = -2",
        )
    else:
        _raw(db_url, tamper)
    with session_scope() as s:
        report = verify_chain(s)
    assert not report.ok
    assert report.first_broken_seq == broken_seq
    assert problem in report.problem


def test_database_refuses_update_and_delete_of_audit_rows(db_url):
    _append(2)
    engine = store.make_engine(db_url)
    for statement in (
        "UPDATE audit_events SET actor = 'x' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(statement)
    engine.dispose()
    with session_scope() as s:
        assert verify_chain(s).events == 2


def test_orm_refuses_changes_to_audit_events(db_url):
    _append(1)
    with pytest.raises(ConflictError, match="append-only"), session_scope() as s:
        s.get(AuditEvent, 1).actor = "mallory"
        s.flush()


def _worker(db_url: str, actor: str, count: int) -> None:
    import os

    os.environ["GOVFLOW_DB_URL"] = db_url
    _append(count, actor=actor)


def test_concurrent_appends_never_fork_or_lose_events(db_url):
    # Separate processes, each with its own connection pool, appending at the same time.
    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=_worker, args=(db_url, f"proc{i}", 25)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=240)
        assert w.exitcode == 0
    with session_scope() as s:
        report = verify_chain(s)
        per_actor = dict(s.execute(text("SELECT actor, COUNT(*) FROM audit_events GROUP BY actor")).all())
    assert report.ok, report
    assert report.events == 100
    assert per_actor == {f"proc{i}": 25 for i in range(4)}
