"""OpenLineage events of a gate outcome, sent through Airflow's OpenLineage provider and read back
from its file transport."""

from __future__ import annotations

import json

import pytest

from govflow.checks import CheckResult
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.lineage import emit_gate_lineage
from govflow.service.runs import ensure_run
from govflow.store import session_scope

pytest.importorskip("airflow.providers.openlineage")


@pytest.fixture
def file_transport(tmp_path, monkeypatch):
    from airflow.providers.openlineage import conf

    events = tmp_path / "lineage.jsonl"
    transport = {"type": "file", "log_file_path": str(events), "append": True}
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps(transport))
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", "govflow-test")
    _clear(conf)  # the provider caches its config
    yield events
    _clear(conf)


def _clear(conf):
    for name in ("transport", "is_disabled", "namespace", "config_path", "config_conn_id"):
        getattr(getattr(conf, name), "cache_clear", lambda: None)()


def _decided(sample_files):
    with session_scope() as s:
        registry.register_model(
            s, name="credit", owner="d", risk_tier="minimal", actor="alice", batches_uri="s3://batches/credit"
        )
        row = registry.register_version(
            s,
            model="credit",
            version="1.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            eval_data=sample_files["eval"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="manual__1")
        for check in ("validation", "pii"):
            record_check_result(
                s,
                version=row,
                run=run,
                result=CheckResult(check=check, status="pass"),
                data_sha256=row.training_data_sha256,
            )
        decision = gate.evaluate_gate(s, "credit", "1.0", "pipeline:governance_gate")
        return row.id, decision.id


def test_the_gate_outcome_is_an_openlineage_event_with_data_in_and_evidence_out(
    db_url, sample_files, file_transport
):
    version_id, decision_id = _decided(sample_files)
    dag_version = {"dag_version_id": "0199-abc", "bundle_name": "dags-folder", "bundle_version": None}
    with session_scope() as s:
        from govflow.store import GateDecision, ModelVersion

        row, decision = s.get(ModelVersion, version_id), s.get(GateDecision, decision_id)
        run = {"dag_id": "governance_gate", "run_id": "manual__1", "dag_version": dag_version}
        assert emit_gate_lineage(s, row, run, decision) is True
        artifact_sha, training_uri = row.artifact_sha256, row.training_data_uri
    (event,) = [json.loads(line) for line in file_transport.read_text().splitlines()]
    assert event["eventType"] == "COMPLETE"
    assert event["job"] == {"namespace": "govflow-test", "name": "governance_gate.decide", "facets": {}}
    inputs = {d["facets"]["govflow_content"]["role"]: d for d in event["inputs"]}
    assert set(inputs) == {"artifact", "training_data", "eval_data", "batch_data"}
    assert inputs["artifact"]["facets"]["govflow_content"]["sha256"] == artifact_sha
    assert (inputs["training_data"]["namespace"], inputs["training_data"]["name"]) == ("file", training_uri)
    assert (inputs["batch_data"]["namespace"], inputs["batch_data"]["name"]) == ("s3://batches", "credit")
    outputs = {d["facets"]["govflow_content"]["role"] for d in event["outputs"]}
    assert outputs == {"evidence:validation", "evidence:pii", "gate_decision"}
    facet = event["run"]["facets"]["govflow_modelVersion"]
    assert (facet["model"], facet["version"], facet["decision"], facet["decisionId"]) == (
        "credit",
        "1.0",
        "approved",
        decision_id,
    )
    assert facet["dagVersion"] == {k: v for k, v in dag_version.items() if v is not None}


def test_without_an_openlineage_transport_nothing_is_emitted(db_url, sample_files, monkeypatch, tmp_path):
    from airflow.providers.openlineage import conf

    monkeypatch.delenv("AIRFLOW__OPENLINEAGE__TRANSPORT", raising=False)
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__DISABLED", "true")
    _clear(conf)
    version_id, decision_id = _decided(sample_files)
    with session_scope() as s:
        from govflow.store import GateDecision, ModelVersion

        run = {"dag_id": "governance_gate", "run_id": "manual__1"}
        assert (
            emit_gate_lineage(s, s.get(ModelVersion, version_id), run, s.get(GateDecision, decision_id))
            is False
        )
    _clear(conf)


def test_the_gate_task_s_outcome_emits_the_event_with_the_run_s_dag_version(
    db_url, sample_files, file_transport
):
    from govflow.service.gate import decision_to_dict
    from govflow.store import GateDecision
    from govflow.tasks import gate as gate_tasks

    _, decision_id = _decided(sample_files)
    with session_scope() as s:
        decision = decision_to_dict(s.get(GateDecision, decision_id), model="credit", version="1.0")
    dag_version = {"dag_version_id": "0199-def", "bundle_name": "dags-folder", "bundle_version": "v9"}
    ref = {
        "model": "credit",
        "version": "1.0",
        "tier": "minimal",
        "run": {
            "dag_id": "governance_gate",
            "run_id": "manual__1",
            "trigger_kind": "rest",
            "dag_version": dag_version,
        },
    }
    result = gate_tasks.outcome(ref, decision, stage="candidate")
    assert result["decision"] == "approved"
    (event,) = [json.loads(line) for line in file_transport.read_text().splitlines()]
    assert event["run"]["facets"]["govflow_modelVersion"]["dagVersion"] == dag_version
    assert event["run"]["facets"]["govflow_modelVersion"]["decisionId"] == decision_id
