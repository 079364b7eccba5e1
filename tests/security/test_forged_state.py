"""Attack: write governance state straight into the DB, around govflow (no signed audit event).

Before, a forged approval row plus a hand-set second production version passed
`govflow audit verify` ("intact"). Now every approval, waiver, decision, stage and
active policy must agree with the signed trail, or verify exits 1 naming the row.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from govflow import store
from govflow.checks import CheckResult
from govflow.cli import main
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import session_scope

MODEL = "forge"


@pytest.fixture(autouse=True)
def dev_mode(monkeypatch):
    monkeypatch.setenv("GOVFLOW_DEV_MODE", "1")  # --as names the bundled demo users


@pytest.fixture
def decided(db_url, sample_files):
    """A limited-tier version, checks passed, one approval, decided and promoted through govflow."""
    with session_scope() as s:
        registry.register_model(s, name=MODEL, owner="Ana", risk_tier="limited", actor="alice")
        for version in ("1", "2"):
            row = registry.register_version(
                s,
                model=MODEL,
                version=version,
                artifact=sample_files["artifact"],
                training_data=sample_files["training"],
                eval_data=sample_files["eval"],
                actor="alice",
            )
            run = ensure_run(s, dag_id="governance_gate", run_id=f"run-{version}")
            for check in ("validation", "pii", "drift", "documentation"):
                record_check_result(
                    s,
                    version=row,
                    run=run,
                    result=CheckResult(check=check, status="pass"),
                    data_sha256=None if check == "documentation" else row.eval_data_sha256,
                )
    with session_scope() as s:
        gate.approve(s, MODEL, "1", "rita", comment="ok")
    with session_scope() as s:
        gate.evaluate_gate(s, MODEL, "1", "airflow")
    return db_url


def _sql(url: str, *statements: str) -> None:
    engine = store.make_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _verify(capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["audit", "verify", "--json"])
    return code, json.loads(capsys.readouterr().out)


def _locations(report: dict) -> list[str]:
    return [p["location"] for p in report["checkpoint_problems"]]


def test_state_written_through_govflow_verifies(decided, capsys):
    code, report = _verify(capsys)
    assert code == 0, report


def test_a_forged_approval_row_is_reported(decided, capsys):
    with session_scope() as s:
        row = registry.get_version(s, MODEL, "2")
        digest = s.execute(text("SELECT evidence_digest FROM approvals LIMIT 1")).scalar_one()
    _sql(
        decided,
        "INSERT INTO approvals (version_id, approver, role, verdict, comment, evidence_digest, created_at) "
        f"VALUES ({row.id}, 'rob', 'reviewer', 'approve', 'forged', '{digest}', CURRENT_TIMESTAMP)",
    )
    code, report = _verify(capsys)
    assert code == 1
    assert any(loc.startswith("approvals ") for loc in _locations(report))
    assert "written around govflow" in report["problem"]


def test_an_edited_verdict_is_reported(decided, capsys):
    _sql(decided, "UPDATE approvals SET verdict = 'reject'")
    code, report = _verify(capsys)
    assert code == 1 and "edited in the DB" in report["checkpoint_problems"][0]["problem"]


def test_a_stage_moved_by_hand_is_reported(decided, capsys):
    _sql(decided, "UPDATE model_versions SET stage = 'production' WHERE version = '2'")
    code, report = _verify(capsys)
    assert code == 1
    assert _locations(report) == [f"model_versions version:{MODEL}@2"]


def test_a_swapped_active_policy_is_reported(decided, capsys):
    _sql(decided, "UPDATE policies SET sha256 = 'f00d' || substr(sha256, 5)")
    code, report = _verify(capsys)
    assert code == 1 and _locations(report)[0].startswith("policies ")
