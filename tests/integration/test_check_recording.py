"""Recording check results: evidence in the artifact store; one row and event per (run, version, check)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from govflow.artifacts import ArtifactStore
from govflow.checks import CheckResult
from govflow.errors import ConflictError
from govflow.service import registry
from govflow.service.checks import latest_check_results, load_evidence, record_check_result
from govflow.service.runs import ensure_run
from govflow.store import AuditEvent, CheckResultRow, session_scope
from govflow.store.audit import verify_chain


@pytest.fixture
def version_id(db_url, sample_files):
    with session_scope() as s:
        registry.register_model(s, name="m", owner="o", risk_tier="limited", actor="alice")
        row = registry.register_version(
            s,
            model="m",
            version="1",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
        return row.id


def _result(status="pass", rate=0.0):
    return CheckResult(
        check="drift",
        status=status,
        summary={"share_drifted": rate, "drifted_columns": []},
        details={"columns": {"x": {"drifted": False, "method": "ks", "score": 0.4}}},
        duration_s=0.5,
        library_versions={"evidently": "0.7.23"},
    )


def _record(result, run_id="run-1"):
    with session_scope() as s:
        version = registry.get_version(s, "m", "1")
        run = ensure_run(s, dag_id="governance_gate", run_id=run_id, trigger_kind="rest")
        row = record_check_result(
            s, version=version, run=run, result=result, data_sha256="ab" * 32, policy_sha256="cd" * 32
        )
        return row.id


def test_retry_records_once(version_id):
    first = _record(_result())
    again = _record(_result(status="fail", rate=1.0))  # a retried task: same run, version and check
    assert first == again
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(CheckResultRow)) == 1
        assert s.scalar(select(CheckResultRow.status)) == "pass"
        recorded = s.scalars(select(AuditEvent).where(AuditEvent.action == "check.recorded")).all()
        assert len(recorded) == 1
        assert verify_chain(s).ok


def test_evidence_is_stored_content_addressed_and_verified(version_id):
    row_id = _record(_result())
    _record(_result(status="warn"), run_id="run-2")
    with session_scope() as s:
        row = s.get(CheckResultRow, row_id)
        evidence = load_evidence(row)
        assert evidence["columns"]["x"]["method"] == "ks"
        assert evidence["data_sha256"] == "ab" * 32 and evidence["run"]["run_id"] == "run-1"
        assert ArtifactStore().verify(row.evidence_uri, row.evidence_sha256)
        assert latest_check_results(s, version_id)["drift"].status == "warn"
        # Tampered evidence is refused, not silently read.
        path = row.evidence_uri
    with open(path, "w") as handle:
        json.dump({"columns": {}}, handle)
    with session_scope() as s, pytest.raises(ConflictError, match="does not match its sha256"):
        load_evidence(s.get(CheckResultRow, row_id))


def test_put_file_streams_into_the_same_content_address_as_put_bytes(version_id, tmp_path):
    big = tmp_path / "bundle.zip"
    big.write_bytes(b"x" * 3_000_000)
    store = ArtifactStore()
    from_file = store.put_file(big, suffix=".zip")
    assert from_file == store.put_bytes(big.read_bytes(), suffix=".zip")
    assert from_file.size == 3_000_000 and store.verify(from_file.uri, from_file.sha256)
