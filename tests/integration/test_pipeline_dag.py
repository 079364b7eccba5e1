"""governance_gate end to end inside one process with Airflow's dag.test() (SQLite for Airflow and govflow):
the reviewers answer the approval requests through Airflow's REST API app running in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from govflow.service import registry
from govflow.store import Approval, session_scope
from tests._helpers import run_gate, sample_trainer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return sample_trainer("train_model")(tmp_path_factory.mktemp("job"), mitigate=True)


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


def test_two_reviewer_approvals_over_rest_promote_a_high_risk_version(
    sqlite_db, airflow_home, trained, tmp_path
):
    submit(trained, "1.0")
    result = run_gate(airflow_home, tmp_path, "income", "1.0", answers={"rita": "approve", "rob": "approve"})
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
    result = run_gate(
        airflow_home,
        tmp_path,
        "income",
        "1.1",
        answers={"rita": "reject", "rob": "approve"},
        env={"GOVFLOW_FAIL_REJECTED_RUNS": "1"},  # the default: a rejected run is not all green
    )
    assert result["state"] == "failed"
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
