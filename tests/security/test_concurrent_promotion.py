"""Attack: promote different versions of one model at the same moment, from separate processes.

Before the row lock and the partial unique index, two concurrent promotions on
PostgreSQL both succeeded (two production versions). Now every round ends with
exactly one production version, and each loser gets a clear ConflictError.
"""

from __future__ import annotations

import multiprocessing as mp

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from govflow.checks import CheckResult
from govflow.errors import ConflictError, GovflowError
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import Model, ModelVersion, dispose_engines, session_scope
from govflow.store.audit import verify_chain

MODEL = "race-model"
ROUNDS = 6
CONTENDERS = 3
CHECKS = ("validation", "pii", "fairness", "drift", "documentation")


@pytest.fixture(autouse=True)
def dev_mode(monkeypatch):
    monkeypatch.setenv("GOVFLOW_DEV_MODE", "1")  # the bundled demo users hold the reviewer roles


def _approved_version(files, version: str) -> None:
    with session_scope() as s:
        if s.scalar(select(Model.id).where(Model.name == MODEL)) is None:
            registry.register_model(s, name=MODEL, owner="Ana", risk_tier="minimal", actor="alice")
        row = registry.register_version(
            s,
            model=MODEL,
            version=version,
            artifact=files["artifact"],
            training_data=files["training"],
            eval_data=files["eval"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id=f"run-{version}")
        for check in CHECKS:
            record_check_result(
                s,
                version=row,
                run=run,
                result=CheckResult(check=check, status="pass"),
                data_sha256=None if check == "documentation" else row.eval_data_sha256,
            )
    for reviewer in ("rita", "rob"):
        with session_scope() as s:
            gate.approve(s, MODEL, version, reviewer, comment="ok")
    with session_scope() as s:
        assert gate.evaluate_gate(s, MODEL, version, "airflow").decision == "approved"


def _promote_in_child(version: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    dispose_engines()  # never share the parent's pooled connections across a fork
    barrier.wait()
    try:
        with session_scope() as s:
            gate.promote(s, MODEL, version, "admin")
        results.put((version, "ok", ""))
    except GovflowError as err:
        results.put((version, type(err).__name__, str(err)))
    except IntegrityError as err:  # the index caught what the lock should have: still a failure
        results.put((version, "IntegrityError", str(err.orig)))
    except Exception as err:  # noqa: BLE001 - report anything else to the parent
        results.put((version, type(err).__name__, str(err)))


def _production_versions() -> list[str]:
    with session_scope() as s:
        return list(
            s.scalars(
                select(ModelVersion.version)
                .join(Model)
                .where(Model.name == MODEL, ModelVersion.stage == "production")
            )
        )


@pytest.mark.slow
def test_concurrent_promotions_leave_exactly_one_production_version(db_url, sample_files):
    for rnd in range(ROUNDS):
        for c in range(CONTENDERS):
            _approved_version(sample_files, f"{rnd}.{c}")
    dispose_engines()
    ctx = mp.get_context("fork")
    winners = []
    for rnd in range(ROUNDS):
        barrier, results = ctx.Barrier(CONTENDERS), ctx.Queue()
        procs = [
            ctx.Process(target=_promote_in_child, args=(f"{rnd}.{c}", barrier, results))
            for c in range(CONTENDERS)
        ]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        production = _production_versions()
        assert len(production) == 1, f"round {rnd}: production versions {production}, outcomes {outcomes}"
        ok = [v for v, kind, _ in outcomes if kind == "ok"]
        assert production[0] in ok, f"round {rnd}: {outcomes}"
        for version, kind, message in outcomes:
            if kind != "ok":
                assert kind == ConflictError.__name__, f"round {rnd}: {version} failed unclearly: {message}"
                assert "another promotion won" in message
        winners.append(production[0])
    # Every successful promotion is in the audit trail, and the trail is intact.
    with session_scope() as s:
        assert verify_chain(s).ok
        assert (
            s.scalar(select(func.count()).select_from(ModelVersion).where(ModelVersion.stage == "production"))
            == 1
        )
    assert _production_versions() == [winners[-1]]


def test_database_refuses_a_second_production_row_written_around_the_service(db_url, sample_files):
    _approved_version(sample_files, "a")
    _approved_version(sample_files, "b")
    with session_scope() as s:
        gate.promote(s, MODEL, "a", "admin")
    with pytest.raises(IntegrityError), session_scope() as s:
        # What a direct writer (or a buggy code path) would do: no lock, no archive of "a".
        row = registry.get_version(s, MODEL, "b")
        row.stage = "production"
        s.flush()
    assert _production_versions() == ["a"]


def test_a_promotion_that_decided_against_a_stale_production_version_is_refused(db_url, sample_files):
    _approved_version(sample_files, "a")
    _approved_version(sample_files, "b")
    with session_scope() as s:
        gate.promote(s, MODEL, "a", "admin")
    with pytest.raises(ConflictError, match="another promotion won"), session_scope() as s:
        registry.promote_to_production(
            s, model=MODEL, version="b", actor="admin", decision_id=0, expected_current=None
        )
    assert _production_versions() == ["a"]
