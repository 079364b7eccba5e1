"""The auditor's evidence bundle of a governed version and its offline verification (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from govflow.checks import CheckResult
from govflow.cli import main
from govflow.hashing import sha256_bytes
from govflow.policy import load_policy
from govflow.service import docs, gate, registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import AuditEvent, CheckResultRow, session_scope

NOTES = """\
out_of_scope_uses: [Fully automated refusals]
training_data: UCI Adult census extract.
metrics_rationale: Accuracy on held-out data.
limitations: [Old data]
recommendations: [Re-train yearly]
risks: [Selection-rate gap by sex]
human_oversight: A credit officer reviews every refusal.
robustness: Inputs are validated first.
monitoring: Nightly re-checks.
transparency: Applicants are told.
"""
RAW_EMAIL = "dora.dpo@example.org"
RESULTS = [
    CheckResult(
        "validation",
        "pass",
        {"evaluated": 1, "failed": 0},
        {"expectations": [{"type": "expect_column_to_exist", "column": "x", "success": True}]},
    ),
    CheckResult("pii", "pass", {"rows": 2, "columns_with_pii": []}, {"columns": {"x": {"entities": {}}}}),
    CheckResult(
        "fairness",
        "pass",
        {"demographic_parity_difference": 0.02, "equalized_odds_difference": 0.03},
        {
            "by_group": {
                "a": {
                    "count": 100,
                    "selection_rate": 0.3,
                    "accuracy": 0.9,
                    "true_positive_rate": 0.8,
                    "false_positive_rate": 0.1,
                    "false_negative_rate": 0.2,
                },
                "b": {
                    "count": 100,
                    "selection_rate": 0.32,
                    "accuracy": 0.88,
                    "true_positive_rate": 0.79,
                    "false_positive_rate": 0.12,
                    "false_negative_rate": 0.21,
                },
            }
        },
    ),
    CheckResult(
        "drift",
        "pass",
        {"share_drifted": 0.0, "drifted_columns": []},
        {"columns": {"x": {"drifted": False, "method": "ks", "score": 0.7}}},
    ),
]


@pytest.fixture
def governed(db_url, sample_files):
    """A high-risk version: all checks, notes, a documentation pass, two approvals, an approved decision."""
    with session_scope() as s:
        registry.register_model(
            s,
            name="credit",
            owner="Dana",
            risk_tier="high",
            actor="alice",
            team="ml",
            use_case="Screening",
            business_goals=["Speed"],
            stakeholders=[f"Dora:dpo:{RAW_EMAIL}"],
            regions=["EU"],
            sector="finance",
            data_protection_notes="Pseudonymised.",
            batches_uri="/data/batches",
        )
        row = registry.register_version(
            s,
            model="credit",
            version="2.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            reference_data=sample_files["reference"],
            eval_data=sample_files["eval"],
            code_version="abc",
            framework="scikit-learn",
            params={"algorithm": "LogisticRegression", "C": 1.0},
            metrics={"accuracy": 0.8},
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="run-1", trigger_kind="rest")
        for result in RESULTS:
            result = CheckResult(
                result.check,
                result.status,
                result.summary,
                result.details,
                library_versions={"scikit-learn": "1.7.2"},
            )
            record_check_result(s, version=row, run=run, result=result, data_sha256=row.training_data_sha256)
        docs.record_notes(s, "credit", "2.0", NOTES, actor="alice")
        doc = docs.check_documentation(s, "credit", "2.0", run=run)
        assert doc.status == "pass", doc.summary
        assert (
            gate.evaluate_gate(s, "credit", "2.0", "pipeline:governance_gate").decision == "pending_approval"
        )
    with session_scope() as s:
        gate.approve(s, "credit", "2.0", "rita", comment="evidence reviewed", auth_method="airflow")
        gate.approve(s, "credit", "2.0", "rob", auth_method="airflow")
        assert gate.evaluate_gate(s, "credit", "2.0", "pipeline:governance_gate").decision == "approved"
    return "credit", "2.0"


@pytest.fixture
def bundle(governed, tmp_path) -> Path:
    path = tmp_path / "bundle.zip"
    assert (
        main(
            [
                "evidence",
                "export",
                "--model",
                "credit",
                "--version",
                "2.0",
                "--out",
                str(path),
                "--as",
                "vera",
            ]
        )
        == 0
    )
    return path


def _read(path: Path) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    # The manifest's signature, over the manifest (tests/security/test_bundle_attacks.py).
    files.pop("manifest.sig")
    return json.loads(files.pop("manifest.json")), files


def test_the_manifest_holds_files_policy_decision_approvals_and_audit_events(bundle):
    manifest, files = _read(bundle)
    assert manifest["files"] == {
        name: {"sha256": sha256_bytes(data), "size": len(data)} for name, data in files.items()
    }
    assert sorted(files) == sorted(
        [
            "documents/annex_iv.html",
            "documents/annex_iv.md",
            "documents/model_card.html",
            "documents/model_card.md",
            "documents/notes.yaml",
            "evidence/documentation-5.json",
            "evidence/drift-4.json",
            "evidence/fairness-3.json",
            "evidence/pii-2.json",
            "evidence/validation-1.json",
            f"policy/{load_policy().sha256[:16]}.yaml",
        ]
    )
    policy = manifest["policy"]
    assert policy["sha256"] == load_policy().sha256 == sha256_bytes(files[policy["path"]])
    assert policy["used_by"] == ["documentation", "decision 1", "decision 2"]
    assert manifest["decision"]["decision"] == "approved" and manifest["decision"]["reasons"] == []
    first = manifest["decisions"][0]
    assert (first["decision"], [r["code"] for r in first["reasons"]]) == (
        "pending_approval",
        ["approvals_missing"],
    )
    # The documents rendered for the bundle are linked from the latest decision.
    links = {(d["kind"], d["format"]): d["sha256"] for d in manifest["decision"]["documents"]}
    assert links == {
        (d["kind"], d["format"]): d["sha256"] for d in manifest["documents"] if d["kind"] != "notes"
    }
    assert len(links) == 4
    assert [(a["approver"], a["verdict"]) for a in manifest["approvals"]] == [
        ("rita", "approve"),
        ("rob", "approve"),
    ]
    for result in manifest["check_results"]:
        assert sha256_bytes(files[result["evidence_path"]]) == result["evidence_sha256"]
    assert manifest["audit_chain"]["verified_at_export"] is True
    with session_scope() as s:
        stored = {
            e.seq: e.hash
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.subject.in_(["model:credit", "version:credit@2.0"]))
            )
        }
        exported = s.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.exported")).one()
    listed = {e["seq"]: e["hash"] for e in manifest["audit_events"]}
    assert listed == {seq: h for seq, h in stored.items() if seq < exported.seq}
    actions = [e["action"] for e in manifest["audit_events"]]
    assert (
        actions[:2] == ["model.registered", "version.registered"] and actions.count("approval.recorded") == 2
    )
    with zipfile.ZipFile(bundle) as archive:
        assert json.loads(exported.payload)["manifest_sha256"] == sha256_bytes(archive.read("manifest.json"))
    assert json.loads(exported.payload)["bundle_sha256"] == sha256_bytes(bundle.read_bytes())


def test_the_bundled_documents_show_the_decision_and_hold_no_raw_pii(bundle):
    _, files = _read(bundle)
    annex = files["documents/annex_iv.md"].decode()
    assert "| **Latest gate decision** | approved for production by pipeline:governance_gate" in annex
    assert "| **Approvals recorded** | approve by rita (reviewer)" in annex
    for name, data in files.items():
        if name.startswith("documents/"):
            assert RAW_EMAIL.encode() not in data, name


def test_verify_passes_on_the_untouched_bundle(bundle, capsys):
    assert main(["evidence", "verify", str(bundle), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["problems"] == [] and report["files_checked"] == 11


def _rewrite(path: Path, *, replace=None, drop=(), add=None) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members = {k: (replace or {}).get(k, v) for k, v in members.items() if k not in drop}
    members.update(add or {})
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"replace": {"evidence/fairness-3.json": b'{"status":"pass"}'}},
            ("altered", "evidence/fairness-3.json"),
        ),
        ({"drop": ("documents/annex_iv.html",)}, ("missing", "documents/annex_iv.html")),
        ({"add": {"evidence/extra.json": b"{}"}}, ("added", "evidence/extra.json")),
    ],
    ids=["modified", "removed", "added"],
)
def test_verify_exits_1_naming_the_changed_file(bundle, capsys, change, expected):
    _rewrite(bundle, **change)
    assert main(["evidence", "verify", str(bundle), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["problems"][0]["problem"], report["problems"][0]["path"]) == expected
    assert main(["evidence", "verify", str(bundle)]) == 1
    assert f"{expected[0]}: {expected[1]}" in capsys.readouterr().out


def test_export_refuses_evidence_altered_in_the_artifact_store(governed, tmp_path, capsys):
    with session_scope() as s:
        uri = s.scalars(select(CheckResultRow.evidence_uri).where(CheckResultRow.check == "drift")).one()
    Path(uri).write_text('{"check": "drift", "status": "pass"}')
    assert (
        main(
            ["evidence", "export", "--model", "credit", "--version", "2.0", "--out", str(tmp_path / "b.zip")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not match its sha256" in err
    assert not (tmp_path / "b.zip").exists()


def test_verify_of_a_file_that_is_not_a_zip_is_bad_input(tmp_path, capsys):
    junk = tmp_path / "junk.zip"
    junk.write_text("hello")
    assert main(["evidence", "verify", str(junk)]) == 2
    assert capsys.readouterr().err.startswith("govflow: error: not a zip file")
