"""From a fairness failure to a promoted challenger, end to end in dag.test() (UCI Adult, sex).

The plain sample model fails the high tier's fairness check; the gate's mitigation task (the
policy asks for it) measures Fairlearn's mitigations and the run's fix names the best one;
`govflow mitigate --register` writes the ThresholdOptimizer challenger as data; that challenger
goes through governance_gate like any other version and is approved and promoted. A held-out
table (the training data, never used to fit the thresholds) is checked against the result.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from govflow import config
from govflow.access import load_users
from govflow.checks.fairness.mitigation import MitigatedModel
from govflow.checks.model_predictions import ModelArtifact, load_model
from govflow.policy import load_policy
from govflow.service import registry
from govflow.service.checks import latest_check_results
from govflow.service.docs import record_notes
from govflow.service.gate import latest_decision
from govflow.service.mitigate import best_option, fix_with_best_option
from govflow.service.policy import apply_policy
from govflow.store import session_scope
from tests._helpers import cli, run_gate, sample_trainer
from tests.integration.test_pipeline_dag import submit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return sample_trainer("train_model")(tmp_path_factory.mktemp("job"), mitigate=False)


def mitigating_policy(tmp_path: Path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    policy = yaml.safe_load(config.policy_path().read_text())
    policy["tiers"]["high"]["fairness"]["mitigate"] = True
    policy["version"] = f"{policy['version']}-mitigate"  # a changed policy needs its own version
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    monkeypatch.setenv("GOVFLOW_POLICY", str(path))
    with session_scope() as s:
        # As an admin Airflow authenticated (a policy change needs strong auth).
        apply_policy(
            s, load_policy(path), "admin", auth_method="airflow", users=load_users(config.demo_roles_path())
        )
    return path


def test_failing_version_mitigated_challenger_gated_and_promoted(
    sqlite_db, airflow_home, plain, tmp_path, monkeypatch, capsys
):
    policy = mitigating_policy(tmp_path, monkeypatch)
    env = {"GOVFLOW_POLICY": str(policy)}
    submit(plain, "1.0")
    for name in ("run1", "run2"):
        (tmp_path / name).mkdir()
    assert run_gate(airflow_home, tmp_path / "run1", "income", "1.0", env=env)["state"] == "success"
    with session_scope() as s:
        row = registry.get_version(s, "income", "1.0")
        assert latest_check_results(s, row.id)["fairness"].status == "fail"
        assert row.stage != "production"
        reason = next(r for r in latest_decision(s, row.id).reasons if r.get("check") == "fairness")
    # The run's mitigation task measured the options; the run's fix names the command and the best one.
    best = best_option("income", "1.0")
    assert best is not None and best["within_limit"]
    fix = fix_with_best_option(str(reason["fix"]), "income", "1.0")
    assert "govflow mitigate --model income --version 1.0" in fix
    assert f"best option found: {best['candidate']}" in fix

    code, out, err = cli(
        capsys,
        "mitigate", "--model", "income", "--version", "1.0", "--method", "threshold",
        "--constraint", "equalized_odds", "--bootstrap", "50", "--register", "1.1", "--as", "alice", "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    rec = payload["recommendation"]
    assert payload["baseline"]["disparity"] > rec["disparity"] and rec["within_limit"]
    assert rec["needs_sensitive_feature_at_prediction"] and payload["legal_note"]
    with session_scope() as s:
        record_notes(s, "income", "1.1", Path(plain["notes"]).read_text(), actor="alice")

    second = run_gate(
        airflow_home,
        tmp_path / "run2",
        "income",
        "1.1",
        answers={"rita": "approve", "rob": "approve"},
        env=env,
    )
    assert second["state"] == "success"
    with session_scope() as s:
        row = registry.get_version(s, "income", "1.1")
        results = latest_check_results(s, row.id)
        fairness = results["fairness"]
        assert fairness.status in ("pass", "warn"), fairness.summary  # warn: a note, not a failure
        assert fairness.summary["equalized_odds_difference"] <= 0.1
        assert fairness.summary["demographic_parity_difference"] <= 0.1
        assert row.stage == "production"
        assert row.params["mitigation"]["derived_from"] == "income@1.0"

    # Held out: the training table was never used to fit the thresholds; the challenger, applied
    # by govflow, keeps the equalized-odds difference within the policy there too.
    import pandas as pd
    from fairlearn.metrics import equalized_odds_difference

    challenger = load_model(ModelArtifact.from_file(payload["registered"]["artifact"]))
    assert isinstance(challenger, MitigatedModel)
    held = pd.read_csv(plain["training_data"])
    features = [str(f) for f in challenger.feature_names_in_]
    cats = held[features].select_dtypes(exclude="number").columns
    held[cats] = held[cats].fillna("missing")
    predicted = challenger.predict(held[features], sensitive_features=held[["sex"]])
    assert (
        equalized_odds_difference(held["income"] == ">50K", predicted, sensitive_features=held["sex"]) <= 0.1
    )
