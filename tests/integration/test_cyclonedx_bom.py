"""`govflow evidence export --format cyclonedx`: a CycloneDX 1.6 ML-BOM validated against the schema."""

from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sqlalchemy import select

from govflow.checks import CheckResult
from govflow.cli import main
from govflow.service import docs, gate, registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import AuditEvent, session_scope

NOTES = """\
limitations: [Trained on 2019 data only]
metrics_rationale: Accuracy on held-out data.
risks: [Selection-rate gap by sex]
human_oversight: A credit officer reviews every refusal.
"""
FAIRNESS = CheckResult(
    "fairness",
    "pass",
    {
        "demographic_parity_difference": 0.02,
        "equalized_odds_difference": 0.03,
        "max_demographic_parity_difference": 0.1,
        "exceeded": [],
        "sensitive_features": ["sex"],
        "task": "binary",
    },
    {"by_group": {"f": {"count": 100, "selection_rate": 0.30}, "m": {"count": 100, "selection_rate": 0.32}}},
)


@pytest.fixture
def approved(db_url, sample_files):
    with session_scope() as s:
        registry.register_model(
            s,
            name="credit",
            owner="Dana",
            risk_tier="minimal",
            actor="alice",
            use_case="Screening loan applications",
        )
        row = registry.register_version(
            s,
            model="credit",
            version="2.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            eval_data=sample_files["eval"],
            code_version="abc123",
            framework="scikit-learn",
            params={"algorithm": "LogisticRegression"},
            metrics={"accuracy": 0.8125},
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="run-1", trigger_kind="rest")
        record_check_result(s, version=row, run=run, result=FAIRNESS, data_sha256=row.training_data_sha256)
        docs.record_notes(s, "credit", "2.0", NOTES, actor="alice")
        decision = gate.evaluate_gate(s, "credit", "2.0", "pipeline:governance_gate")
        return row.artifact_sha256, row.training_data_sha256, decision.decision, decision.id


def _export(tmp_path, version="2.0", name="bom.json"):
    out = tmp_path / name
    code = main(
        [
            "evidence",
            "export",
            "--model",
            "credit",
            "--version",
            version,
            "--format",
            "cyclonedx",
            "--out",
            str(out),
            "--as",
            "vera",
            "--json",
        ]
    )
    return code, out


def test_the_bom_validates_against_the_cyclonedx_1_6_schema_and_holds_the_evidence(
    approved, tmp_path, capsys
):
    artifact_sha, training_sha, decision, decision_id = approved
    code, out = _export(tmp_path)
    assert code == 0, capsys.readouterr().err
    text = out.read_text()
    # The library's own strict validator over the schema it ships, independent of the exporter's check.
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6" and bom["bomFormat"] == "CycloneDX"
    by_ref = {c["bom-ref"]: c for c in bom["components"]}
    model = by_ref["model"]
    assert model["type"] == "machine-learning-model" and model["version"] == "2.0"
    assert model["hashes"] == [{"alg": "SHA-256", "content": artifact_sha}]
    assert by_ref["data-training"]["type"] == "data"
    assert by_ref["data-training"]["hashes"][0]["content"] == training_sha
    card = model["modelCard"]
    assert {"ref": "data-training"} in card["modelParameters"]["datasets"]
    assert card["modelParameters"]["task"] == "binary"
    metrics = {(m["type"], m["value"]) for m in card["quantitativeAnalysis"]["performanceMetrics"]}
    assert ("accuracy", "0.8125") in metrics
    assert ("demographic_parity_difference", "0.02") in metrics
    assert not any(t.startswith("max_") for t, _ in metrics)  # thresholds are policy, not metrics
    fairness = card["considerations"]["fairnessAssessments"][0]
    assert fairness["groupAtRisk"].startswith("sex = f")
    assert card["considerations"]["technicalLimitations"] == ["Trained on 2019 data only"]
    assert card["considerations"]["ethicalConsiderations"][0]["name"] == "Selection-rate gap by sex"
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert (props["govflow:decision"], props["govflow:decision_id"]) == (decision, str(decision_id))
    assert props["govflow:code_version"] == "abc123"
    payload = json.loads(capsys.readouterr().out)
    with session_scope() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.bom_exported")).one()
        assert payload["sha256"] in event.payload


def test_a_bom_for_an_unknown_version_is_refused_and_nothing_is_written(approved, tmp_path, capsys):
    code, out = _export(tmp_path, version="9.9")
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "9.9" in err
    assert not out.exists() and list(tmp_path.glob(".tmp-*")) == []
    with session_scope() as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.bom_exported")).all() == []


def test_a_bom_needs_a_json_file_name(approved, tmp_path, capsys):
    code, out = _export(tmp_path, name="bom.zip")
    assert code == 2 and not out.exists()
