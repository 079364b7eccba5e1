"""MLflow both ways on a real SQLite tracking store: register from MLflow; decisions and champion back."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from govflow.checks import CheckResult
from govflow.cli import main
from govflow.hashing import sha256_file
from govflow.service import gate
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import AuditEvent, ModelVersion, session_scope
from tests._helpers import register_model

mlflow = pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    """Two versions of `credit` in MLflow, each from a run with params, metrics, a commit and datasets."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    train, evalset = root / "train.csv", root / "eval.csv"
    frame = pd.DataFrame({"x": [float(i) for i in range(20)], "y": [int(i > 9) for i in range(20)]})
    frame.to_csv(train, index=False)
    frame.to_csv(evalset, index=False)
    # Artifacts under the tmp root too (MLflow's default is ./mlruns in the working directory).
    mlflow.set_experiment(
        experiment_id=mlflow.create_experiment("credit", artifact_location=(root / "artifacts").as_uri())
    )
    runs = []
    for c in (1.0, 0.5):
        with mlflow.start_run() as run:
            mlflow.log_params({"C": c, "algorithm": "LogisticRegression"})
            mlflow.log_metric("accuracy", 0.9)
            mlflow.set_tag("mlflow.source.git.commit", f"commit-{c}")
            mlflow.log_input(
                mlflow.data.from_pandas(frame, source=str(train), name="train"), context="training"
            )
            mlflow.log_input(mlflow.data.from_pandas(frame, source=str(evalset), name="eval"), context="eval")
            model = LogisticRegression(C=c).fit(frame[["x"]], frame["y"])
            mlflow.sklearn.log_model(
                model, name="model", registered_model_name="credit", serialization_format="skops"
            )
            runs.append(run.info.run_id)
    mlflow.MlflowClient().set_registered_model_alias("credit", "candidate", "1")
    yield {"uri": uri, "train": str(train), "eval": str(evalset), "runs": runs}
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def governed_model(tracking, db_url, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking["uri"])
    mlflow.set_tracking_uri(tracking["uri"])
    client = mlflow.MlflowClient()  # the store is shared by the module's tests: start each from no write-back
    for version in ("1", "2"):
        for key in list(client.get_model_version("credit", version).tags):
            client.delete_model_version_tag("credit", version, key)
    if "champion" in client.get_registered_model("credit").aliases:
        client.delete_registered_model_alias("credit", "champion")
    register_model(capsys)
    return tracking


def _register(capsys, version, uri, *extra):
    code = main(
        [
            "version",
            "register",
            "--model",
            "credit",
            "--version",
            version,
            "--from-mlflow",
            uri,
            "--as",
            "alice",
            "--json",
            *extra,
        ]
    )
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else None), out.err


def _tags(version):
    return mlflow.MlflowClient().get_model_version("credit", version).tags


def _pass_checks(model, version):
    with session_scope() as s:
        row = s.scalars(select(ModelVersion).where(ModelVersion.version == version)).one()
        run = ensure_run(s, dag_id="governance_gate", run_id=f"run-{version}")
        for check in ("validation", "pii"):
            record_check_result(
                s,
                version=row,
                run=run,
                result=CheckResult(check=check, status="pass"),
                data_sha256=row.training_data_sha256,
            )


def test_a_version_is_registered_from_an_mlflow_alias_with_its_run(governed_model, capsys):
    code, payload, err = _register(capsys, "1.0", "models:/credit@candidate")
    assert code == 0, err
    local = mlflow.artifacts.download_artifacts("models:/credit/1")
    assert payload["artifact_sha256"] == sha256_file(f"{local}/model.skops")  # the governed bytes
    assert payload["framework"] == "scikit-learn"
    assert payload["code_version"] == "commit-1.0"
    assert payload["metrics"] == {"accuracy": 0.9}
    assert payload["params"]["C"] == "1.0"
    # The alias is resolved now: the registration names the immutable version behind it.
    assert payload["params"]["mlflow"] == {
        "uri": "models:/credit@candidate",
        "run_id": governed_model["runs"][0],
        "model_name": "credit",
        "model_version": "1",
    }
    assert payload["training_data_uri"] == governed_model["train"]
    assert payload["eval_data_uri"] == governed_model["eval"]
    assert payload["training_data_sha256"] == sha256_file(governed_model["train"])


def test_flags_win_over_what_the_run_logged(governed_model, capsys, sample_files):
    code, payload, err = _register(
        capsys,
        "1.0",
        "models:/credit/1",
        "--training-data",
        str(sample_files["training"]),
        "--code-version",
        "mine",
    )
    assert code == 0, err
    assert payload["training_data_uri"] == str(sample_files["training"].resolve())
    assert payload["code_version"] == "mine"


def test_decisions_are_tags_and_champion_moves_only_on_promotion(governed_model, capsys):
    assert _register(capsys, "1.0", "models:/credit/1")[0] == 0
    assert _register(capsys, "2.0", "models:/credit/2")[0] == 0
    with session_scope() as s:  # no evidence yet: rejected
        rejected = gate.evaluate_gate(s, "credit", "1.0", "pipeline:governance_gate")
        assert rejected.decision == "rejected"
        rejected_id = rejected.id
    tags = _tags("1")
    assert tags["govflow.decision"] == "rejected" and tags["govflow.decision_id"] == str(rejected_id)
    assert rejected.policy_sha256 in tags["govflow.policy"]
    assert "champion" not in mlflow.MlflowClient().get_registered_model("credit").aliases

    for version in ("1.0", "2.0"):
        _pass_checks("credit", version)
        with session_scope() as s:
            assert gate.evaluate_gate(s, "credit", version, "pipeline:governance_gate").decision == "approved"
        assert _tags(version.split(".")[0])["govflow.decision"] == "approved"
        assert (
            "champion" not in mlflow.MlflowClient().get_registered_model("credit").aliases
        )  # not promoted yet
    with session_scope() as s:
        gate.promote(s, "credit", "1.0", "alice")
    assert str(mlflow.MlflowClient().get_registered_model("credit").aliases["champion"]) == "1"
    with session_scope() as s:
        gate.promote(s, "credit", "2.0", "alice")
    assert str(mlflow.MlflowClient().get_registered_model("credit").aliases["champion"]) == "2"
    assert _tags("1")["govflow.stage"] == "archived" and _tags("2")["govflow.stage"] == "production"


def test_a_rolled_back_decision_is_never_written_to_mlflow(governed_model, capsys):
    assert _register(capsys, "1.0", "models:/credit/1")[0] == 0
    with pytest.raises(RuntimeError), session_scope() as s:
        gate.evaluate_gate(s, "credit", "1.0", "pipeline:governance_gate")
        raise RuntimeError("the task died before commit")
    assert "govflow.decision" not in _tags("1")


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("models:/credit/99", "MLflow has no models:/credit/99"),
        ("models:/nope@champion", "MLflow has no models:/nope@champion"),
        ("s3://bucket/model", "bad MLflow URI"),
    ],
)
def test_unknown_mlflow_uris_are_one_line_errors_and_register_nothing(governed_model, capsys, uri, says):
    code, _, err = _register(capsys, "1.0", uri)
    assert code == 2 and len(err.strip().splitlines()) == 1 and says in err, err
    with session_scope() as s:
        assert s.scalars(select(ModelVersion)).all() == []
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "version.registered")).all() == []


# --- the registry webhook (model_version.created) -------------------------------------------------
SECRET = "whsec-test-" + "x" * 20


def _delivery(name="credit", version="2", *, secret=SECRET, delivery="d-1", stamp=None, action="created"):
    import time

    from mlflow.webhooks.delivery import _generate_hmac_signature  # MLflow's own signer

    body = json.dumps(
        {
            "entity": "model_version",
            "action": action,
            "timestamp": "2026-12-01T00:00:00+00:00",
            "data": {"name": name, "version": version, "source": "models:/m-1", "run_id": None},
        }
    )
    stamp = str(int(time.time())) if stamp is None else stamp
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Signature": _generate_hmac_signature(secret, delivery, stamp, body),
    }
    return body, headers


@pytest.fixture
def webhook(governed_model, monkeypatch):
    import secrets

    from fastapi.testclient import TestClient

    from govflow.web.app import create_app

    monkeypatch.setenv("GOVFLOW_MLFLOW_WEBHOOK_SECRET", SECRET)
    triggered = []

    def trigger(conf):
        triggered.append(conf)
        return {"dag_run_id": f"mlflow-{len(triggered)}"}

    client = TestClient(create_app(user_dependency=lambda: "nobody-at-all", trigger_gate=trigger))
    # MLflow's auth layer records who created a version; the webhook registers it as theirs.
    with mlflow.MlflowClient()._get_registry_client().store.ManagedSessionMaker() as session:
        session.execute(text("UPDATE model_versions SET user_id = 'dave' WHERE name = 'credit'"))
    return client, triggered, secrets.token_hex(4)


def test_a_signed_model_version_created_registers_the_version_and_triggers_the_gate(webhook):
    client, triggered, tag = webhook
    body, headers = _delivery(delivery=f"ok-{tag}")
    response = client.post("/api/integrations/mlflow/webhook", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "triggered"
    assert triggered == [{"model": "credit", "version": "2", "submitted_by": "dave", "trigger_kind": "rest"}]
    with session_scope() as s:
        row = s.scalars(select(ModelVersion)).one()
        assert (row.version, row.code_version, row.created_by) == ("2", "commit-0.5", "dave")
    # The same delivery again (a captured request replayed): refused, nothing triggered.
    again = client.post("/api/integrations/mlflow/webhook", content=body, headers=headers)
    assert again.status_code == 403 and len(triggered) == 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ("unsigned", 401),
        ("wrong-secret", 403),
        ("tampered-body", 403),
        ("stale", 403),
    ],
)
def test_bad_signatures_are_refused_and_trigger_nothing(webhook, change, status):
    client, triggered, tag = webhook
    body, headers = _delivery(
        delivery=f"{change}-{tag}",
        secret="not-the-secret" if change == "wrong-secret" else SECRET,
        stamp="1000000000" if change == "stale" else None,
    )
    if change == "unsigned":
        headers.pop("X-MLflow-Signature")
    if change == "tampered-body":
        body = body.replace('"version": "2"', '"version": "1"')
    response = client.post("/api/integrations/mlflow/webhook", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert triggered == []
    with session_scope() as s:
        assert s.scalars(select(ModelVersion)).all() == []


def test_without_a_configured_secret_every_delivery_is_refused(webhook, monkeypatch):
    client, triggered, tag = webhook
    monkeypatch.delenv("GOVFLOW_MLFLOW_WEBHOOK_SECRET")
    body, headers = _delivery(delivery=f"nosecret-{tag}")
    assert client.post("/api/integrations/mlflow/webhook", content=body, headers=headers).status_code == 503
    assert triggered == []


def test_a_signed_event_for_a_model_govflow_does_not_know_is_404_and_triggers_nothing(webhook):
    client, triggered, tag = webhook
    body, headers = _delivery(name="unknown-model", delivery=f"unknown-{tag}")
    assert client.post("/api/integrations/mlflow/webhook", content=body, headers=headers).status_code == 404
    assert triggered == []


def test_submit_takes_the_same_flag(governed_model, capsys):
    code = main(
        [
            "submit",
            "--model",
            "credit",
            "--version",
            "2.0",
            "--from-mlflow",
            "models:/credit/2",
            "--label",
            "y",
            "--as",
            "alice",
            "--json",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["registered"] is True
    with session_scope() as s:
        row = s.scalars(select(ModelVersion)).one()
        assert row.code_version == "commit-0.5" and row.params["mlflow"]["model_version"] == "2"
        assert row.params["governance"] == {"label": "y"} and row.eval_data_uri == governed_model["eval"]
