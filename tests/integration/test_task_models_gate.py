"""A regression and a multiclass sample model through governance_gate (Airflow dag.test(), SQLite).

The task comes from the version's ``params.governance.task``; the policy's per-task
thresholds judge the fairness evidence, and the gate decides on it: a threshold the
model meets promotes it, a stricter one rejects the next version.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from govflow import config
from govflow.access import load_users
from govflow.policy import load_policy
from govflow.service import registry
from govflow.service.checks import latest_check_results
from govflow.service.gate import latest_decision
from govflow.service.policy import apply_policy
from govflow.store import session_scope
from tests._helpers import run_gate, sample_trainer

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = REPO / "include" / "govflow" / "data" / "policies" / "default.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    train = sample_trainer("train_tasks")
    jobs = {task: train(tmp_path_factory.mktemp(task), task=task) for task in ("regression", "multiclass")}
    for task in ("regression", "multiclass"):
        jobs[f"{task}-baseline"] = train(
            tmp_path_factory.mktemp(f"{task}-baseline"), task=task, baseline=True
        )
    return jobs


def write_policy(tmp_path: Path, fairness: dict, name: str) -> Path:
    """The default policy, with the minimal tier requiring fairness under ``fairness`` thresholds."""
    data = yaml.safe_load(DEFAULT_POLICY.read_text())
    data["version"] = f"tasks-test-{name}"  # each policy file its own version
    tier = data["tiers"]["minimal"]
    tier["required_checks"] = ["validation", "pii", "fairness", "drift", "performance"]
    tier["fairness"] = {"min_group_size": 30, **fairness}
    tier["drift"] = {"max_share_drifted": 1.0}
    tier["performance"] = {"max_metric_drop_vs_production": 0.0}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def use_policy(monkeypatch, path: Path) -> None:
    """The gate decides only with the policy an admin applied: apply it, and point the DAG at it."""
    monkeypatch.setenv("GOVFLOW_POLICY", str(path))
    with session_scope() as s:
        apply_policy(
            s, load_policy(path), "admin", users=load_users(config.demo_roles_path()), auth_method="airflow"
        )


def submit(job: dict, model: str, version: str) -> None:
    with session_scope() as s:
        if not any(m.name == model for m in registry.list_models(s)):
            registry.register_model(
                s, name=model, owner="olga@clinic.example", risk_tier="minimal", actor="alice", regions=["EU"]
            )
        registry.register_version(
            s,
            model=model,
            version=version,
            artifact=job["artifact"],
            training_data=job["training_data"],
            reference_data=job["reference_data"],
            eval_data=job["eval_data"],
            actor="alice",
            code_version="test",
            framework="scikit-learn",
            metrics=job["metrics"],
            params=job["params"] | {"governance": job["governance"]},
        )


def gate_with(airflow_home, tmp_path, model: str, version: str, policy: Path) -> dict:
    """governance_gate for ``model@version``, its tasks reading ``policy`` (``use_policy`` applied it)."""
    return run_gate(airflow_home, tmp_path, model, version, env={"GOVFLOW_POLICY": str(policy)})


def outcome(model: str, version: str) -> tuple[str, dict, str, list]:
    with session_scope() as s:
        row = registry.get_version(s, model, version)
        fairness = latest_check_results(s, row.id)["fairness"]
        decision = latest_decision(s, row.id)
        return row.stage, dict(fairness.summary), fairness.status, [r["code"] for r in decision.reasons]


@pytest.mark.parametrize(
    ("task", "model", "passing", "failing", "judged"),
    [
        (
            "regression",
            "progression",
            {"max_mean_absolute_error_difference": 15.0},
            {"max_mean_absolute_error_difference": 1.0},
            "mean_absolute_error_difference",
        ),
        (
            "multiclass",
            "triage",
            {"max_demographic_parity_difference": 0.4, "max_equalized_odds_difference": 0.4},
            {"max_demographic_parity_difference": 0.1, "max_equalized_odds_difference": 0.4},
            "demographic_parity_difference",
        ),
    ],
)
def test_task_model_goes_through_the_gate(
    sqlite_db, monkeypatch, airflow_home, trained, tmp_path, task, model, passing, failing, judged
):
    job = trained[task]
    lenient = write_policy(tmp_path, passing, "lenient")
    use_policy(monkeypatch, lenient)
    submit(job, model, "1.0")
    result = gate_with(airflow_home, tmp_path, model, "1.0", lenient)
    assert result["state"] == "success"
    stage, summary, status, reasons = outcome(model, "1.0")
    with session_scope() as s:
        first = latest_check_results(s, registry.get_version(s, model, "1.0").id)["performance"]
        assert first.status == "pass" and first.summary["production_version"] is None  # nothing to compare
    assert summary["task"] == task and summary["task_detected"] is None  # from params.governance.task
    assert summary["prediction_source"] == "model"  # the gate scored the registered skops artifact
    assert status in ("pass", "warn") and summary["exceeded"] == []
    assert summary[judged] is not None
    assert stage == "production", reasons

    strict = write_policy(tmp_path, failing, "strict")
    use_policy(monkeypatch, strict)
    submit(job, model, "1.1")
    assert gate_with(airflow_home, tmp_path, model, "1.1", strict)["state"] == "success"
    stage, summary, status, reasons = outcome(model, "1.1")
    assert status == "fail" and summary["exceeded"] == [judged]
    assert stage != "production" and reasons
    # Champion vs. challenger: 1.0 is in production, so the gate scored both artifacts on 1.1's eval data.
    with session_scope() as s:
        row = registry.get_version(s, model, "1.1")
        performance = latest_check_results(s, row.id)["performance"]
        assert performance.status == "pass", performance.errors
        assert performance.summary["production_version"] == "1.0"
        assert set(performance.summary["drops"].values()) == {0.0}  # the same model: nothing worse

    # A worse challenger (a naive model) under the lenient fairness policy: the comparison rejects it.
    use_policy(monkeypatch, lenient)
    submit(trained[f"{task}-baseline"], model, "1.2")
    assert gate_with(airflow_home, tmp_path, model, "1.2", lenient)["state"] == "success"
    with session_scope() as s:
        row = registry.get_version(s, model, "1.2")
        performance = latest_check_results(s, row.id)["performance"]
        assert performance.status == "fail", performance.errors
        assert performance.summary["production_version"] == "1.0"
        assert performance.summary["exceeded"]  # overall and per-group drops above 0.0
        assert row.stage != "production"
        codes = [(r["code"], r.get("check")) for r in latest_decision(s, row.id).reasons]
    assert any("performance" in str(code) for code in codes), codes
