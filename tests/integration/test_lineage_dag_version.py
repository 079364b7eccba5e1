"""Evidence records the Airflow DAG version (and bundle version) that produced it; documents show it."""

from __future__ import annotations

from types import SimpleNamespace

from govflow.artifacts import ArtifactStore
from govflow.checks import CheckResult
from govflow.service import docs, registry
from govflow.service.checks import load_evidence, record_check_result
from govflow.service.runs import RunRef, run_row
from govflow.store import session_scope

VERSION_ID = "0199d2c4-7a1e-7c3e-9f00-000000000042"


def _context(bundle_version=None):
    """What Airflow 3 hands a task: the run, and the task instance with its DAG version and bundle."""
    dag_run = SimpleNamespace(dag_id="governance_gate", run_id="manual__7", run_type="manual", conf={})
    ti = SimpleNamespace(
        dag_version_id=VERSION_ID,
        bundle_instance=SimpleNamespace(name="govflow-dags", version=bundle_version),
    )
    return {"dag_run": dag_run, "ti": ti}


def test_a_run_ref_carries_the_dag_and_bundle_version_through_xcom():
    ref = RunRef.from_context(_context("3f2c1e9"))
    assert ref.dag_version == {
        "dag_version_id": VERSION_ID,
        "bundle_name": "govflow-dags",
        "bundle_version": "3f2c1e9",
    }
    assert RunRef.of(ref.to_dict()) == ref  # the dict form the tasks pass on
    assert RunRef.from_context({"dag_run": _context()["dag_run"]}).dag_version is None  # outside a task


def test_evidence_and_documents_name_the_dag_version_that_produced_them(db_url, sample_files):
    ref = RunRef.from_context(_context("3f2c1e9"))
    with session_scope() as s:
        registry.register_model(
            s, name="credit", owner="d", risk_tier="minimal", actor="alice", use_case="Screening"
        )
        row = registry.register_version(
            s,
            model="credit",
            version="1.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
        run = run_row(s, ref)
        result = record_check_result(
            s,
            version=row,
            run=run,
            result=CheckResult(check="validation", status="pass"),
            data_sha256=row.training_data_sha256,
        )
        evidence = load_evidence(result)
        assert evidence["run"]["dag_version"] == ref.dag_version
    with session_scope() as s:
        payload = docs.render_docs(s, "credit", "1.0", "md", actor="alice", kinds=("model_card",))
        text = "".join(ArtifactStore().get_bytes(d["uri"]).decode() for d in payload["documents"])
    assert f"DAG version {VERSION_ID}, bundle govflow-dags@3f2c1e9" in text
