"""governance_gate end to end inside one process with Airflow's dag.test() (SQLite for Airflow and govflow):
the reviewers answer the approval requests through Airflow's REST API app running in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from govflow.service import registry
from govflow.store import Approval, session_scope

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    from govflow.demo import airflow_env

    home = tmp_path_factory.mktemp("airflow")
    env = os.environ | airflow_env(REPO, home)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
    )
    return env


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    sys.path.insert(0, str(REPO / "include" / "sample"))
    try:
        from train_model import train
    finally:
        sys.path.pop(0)
    return train(tmp_path_factory.mktemp("job"), mitigate=True)


def submit(trained, version):
    from govflow.service.docs import record_notes

    with session_scope() as s:
        if not registry.list_models(s):
            registry.register_model(
                s,
                name="income",
                owner="olga@bank.example",
                risk_tier="high",
                actor="alice",
                team="analytics",
                use_case="income screening",
                business_goals=["faster reviews"],
                regions=["EU"],
                sector="finance",
                stakeholders=["Dana:dpo:dana@bank.example"],
                data_protection_notes="no direct identifiers",
                batches_uri=trained["batches"],
            )
        registry.register_version(
            s,
            model="income",
            version=version,
            artifact=trained["artifact"],
            training_data=trained["training_data"],
            reference_data=trained["reference_data"],
            eval_data=trained["eval_data"],
            actor="alice",
            code_version="test",
            framework="scikit-learn",
            metrics=trained["metrics"],
            params=trained["params"]
            | {
                "governance": {
                    "label": "income",
                    "prediction": "prediction",
                    "score": "score",
                    "positive_label": ">50K",
                    "sensitive": ["sex"],
                    "suite": trained["suite"],
                }
            },
        )
        record_notes(s, "income", version, Path(trained["notes"]).read_text(), actor="alice")


def run_gate(airflow_home, tmp_path, version, answers):
    from govflow.demo import run_dag

    env = airflow_home | {
        "GOVFLOW_HOME": os.environ["GOVFLOW_HOME"],
        "GOVFLOW_DB_URL": os.environ["GOVFLOW_DB_URL"],
    }
    try:
        return run_dag(
            "governance_gate", {"model": "income", "version": version}, tmp_path, answers=answers, env=env
        )
    except RuntimeError:
        pytest.fail((tmp_path / "governance_gate.log").read_text()[-5000:])


@pytest.fixture
def sqlite_db(govflow_home, monkeypatch):
    govflow_home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("GOVFLOW_DB_URL", f"sqlite:///{govflow_home / 'govflow.db'}")


def test_two_reviewer_approvals_over_rest_promote_a_high_risk_version(
    sqlite_db, airflow_home, trained, tmp_path
):
    submit(trained, "1.0")
    result = run_gate(airflow_home, tmp_path, "1.0", {"rita": "approve", "rob": "approve"})
    assert result["state"] == "success"
    assert sorted(a["by"] for a in result["approvals"]) == ["rita", "rob"]
    with session_scope() as s:
        row = registry.get_version(s, "income", "1.0")
        assert row.stage == "production"
        approvals = s.scalars(select(Approval).where(Approval.version_id == row.id)).all()
        assert sorted((a.approver, a.verdict, a.comment) for a in approvals) == [
            ("rita", "approve", "approved after reviewing the evidence"),
            ("rob", "approve", "approved after reviewing the evidence"),
        ]


def test_a_reviewer_rejecting_over_rest_rejects_the_version(sqlite_db, airflow_home, trained, tmp_path):
    submit(trained, "1.1")
    result = run_gate(airflow_home, tmp_path, "1.1", {"rita": "reject", "rob": "approve"})
    assert result["state"] == "success"
    with session_scope() as s:
        row = registry.get_version(s, "income", "1.1")
        assert row.stage == "rejected"
        from govflow.service.gate import latest_decision

        decision = latest_decision(s, row.id)
        assert decision.decision == "rejected"
        assert [r["code"] for r in decision.reasons] == ["rejected_by_approver", "approvals_missing"]
        assert (
            "rita (reviewer) rejected this evidence: rejected after reviewing the evidence"
            in (decision.reasons[0]["message"])
        )
