"""Rendering, storing and linking documents, and the documentation check, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govflow.artifacts import ArtifactStore
from govflow.checks import CheckResult
from govflow.cli import main
from govflow.hashing import sha256_bytes
from govflow.service import docs, gate, registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import AuditEvent, CheckResultRow, Document, GateDecision, session_scope

HIGH_REQUIRED = [
    "model_details",
    "intended_use",
    "training_data",
    "evaluation",
    "fairness",
    "limitations",
    "risk_management",
    "data_governance",
    "human_oversight",
    "accuracy_robustness",
    "monitoring",
]
RAW_EMAIL = "rita.kowalski@example.org"
RAW_EXAMPLE = "john.smith@mail.example.com"
NOTES = """\
out_of_scope_uses: [Fully automated refusals]
training_data: UCI Adult census extract, 10,000 rows, labels from the census income field.
metrics_rationale: Accuracy and ROC AUC on held-out data.
limitations: [Trained on 1994 US census data]
recommendations: [Re-train on current EU data before deployment]
risks: [Different selection rates by sex, monitored by the fairness check]
human_oversight: A credit officer reviews every refusal.
robustness: Inputs are validated against the expectation suite before scoring.
monitoring: Nightly drift and fairness re-checks on production batches.
transparency: Applicants are told a model assists the decision.
"""


def _register(session, files, *, name="adult-income", full=True):
    if full:
        registry.register_model(
            session,
            name=name,
            owner="Dana Scientist",
            risk_tier="high",
            actor="alice",
            team="credit-ml",
            use_case="Income band screening",
            business_goals=["Faster review"],
            stakeholders=[f"Rita Kowalski:reviewer:{RAW_EMAIL}"],
            regions=["EU"],
            sector="finance",
            data_protection_notes="Pseudonymised extract.",
            batches_uri="/data/batches",
        )
        return registry.register_version(
            session,
            model=name,
            version="1.0",
            artifact=files["artifact"],
            training_data=files["training"],
            reference_data=files["reference"],
            eval_data=files["eval"],
            code_version="git:4f2a9c1",
            framework="scikit-learn",
            params={"algorithm": "LogisticRegression", "C": 1.0},
            metrics={"accuracy": 0.85},
            actor="alice",
        )
    registry.register_model(session, name=name, owner="Sam", risk_tier="high", actor="alice")
    return registry.register_version(
        session,
        model=name,
        version="1.0",
        artifact=files["artifact"],
        training_data=files["training"],
        actor="alice",
    )


CHECK_RESULTS = [
    CheckResult(
        "validation",
        "pass",
        {"evaluated": 1, "failed": 0},
        {"expectations": [{"type": "expect_column_values_to_not_be_null", "column": "x", "success": True}]},
        library_versions={"great_expectations": "1.24.1"},
    ),
    CheckResult(
        "pii",
        "pass",
        {"rows": 2, "columns_with_pii": []},
        {
            "columns": {
                "x": {"entities": {}},
                "contact": {"entities": {"EMAIL_ADDRESS": {"rate": 1.0, "examples": ["j***@m***.com"]}}},
            }
        },
        library_versions={"presidio-analyzer": "2"},
    ),
    CheckResult(
        "fairness",
        "pass",
        {
            "demographic_parity_difference": 0.05,
            "equalized_odds_difference": 0.04,
            "sensitive_features": ["sex"],
        },
        {
            "by_group": {
                "Female": {
                    "count": 120,
                    "selection_rate": 0.2,
                    "accuracy": 0.9,
                    "true_positive_rate": 0.7,
                    "false_positive_rate": 0.05,
                    "false_negative_rate": 0.3,
                },
                "Male": {
                    "count": 140,
                    "selection_rate": 0.25,
                    "accuracy": 0.86,
                    "true_positive_rate": 0.72,
                    "false_positive_rate": 0.08,
                    "false_negative_rate": 0.28,
                },
            }
        },
        library_versions={"fairlearn": "0.15.0"},
    ),
    CheckResult(
        "drift",
        "pass",
        {"share_drifted": 0.0, "drifted_columns": []},
        {"columns": {"x": {"drifted": False, "method": "ks", "score": 0.4}}},
        library_versions={"evidently": "0.7.23"},
    ),
]


def _record_checks(session, row, run_id="run-1"):
    run = ensure_run(session, dag_id="governance_gate", run_id=run_id, trigger_kind="rest")
    for result in CHECK_RESULTS:
        # A raw value a buggy check might leave in its evidence: documents must not show it.
        details = {**result.details, "debug_sample": [RAW_EXAMPLE]}
        record_check_result(
            session,
            version=row,
            run=run,
            data_sha256=row.training_data_sha256,
            result=CheckResult(
                result.check, result.status, result.summary, details, library_versions=result.library_versions
            ),
        )
    return run


@pytest.fixture
def full_version(db_url, sample_files):
    with session_scope() as s:
        row = _register(s, sample_files)
        _record_checks(s, row)
        docs.record_notes(s, "adult-income", "1.0", NOTES, actor="alice")
    return "adult-income", "1.0"


@pytest.fixture
def sparse_version(db_url, sample_files):
    with session_scope() as s:
        _register(s, sample_files, name="bare", full=False)
    return "bare", "1.0"


def test_render_stores_documents_with_sha256_and_an_audit_event(full_version, tmp_path):
    with session_scope() as s:
        result = docs.render_docs(s, *full_version, "html", tmp_path / "out", actor="alice")
    assert [d["kind"] for d in result["documents"]] == ["model_card", "annex_iv"]
    assert result["incomplete"] == []
    store = ArtifactStore()
    with session_scope() as s:
        rows = s.scalars(select(Document).where(Document.kind != "notes").order_by(Document.id)).all()
        assert [(d.kind, d.format) for d in rows] == [("model_card", "html"), ("annex_iv", "html")]
        for row, written in zip(rows, result["documents"], strict=False):
            data = store.get_bytes(row.uri)
            assert sha256_bytes(data) == row.sha256
            assert Path(written["path"]).read_bytes() == data
            assert row.completeness["incomplete"] == []
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "docs.rendered")).all()
        assert [e.subject for e in events] == ["version:adult-income@1.0"] * 2


def test_rendering_an_unchanged_version_again_adds_nothing(full_version):
    with session_scope() as s:
        first = docs.render_docs(s, *full_version, "md", actor="alice")
    with session_scope() as s:
        again = docs.render_docs(s, *full_version, "md", actor="bob")
        assert [d["id"] for d in again["documents"]] == [d["id"] for d in first["documents"]]
        assert (
            s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "docs.rendered"))
            == 2
        )


def test_the_fully_documented_version_passes_and_the_html_holds_every_required_section(full_version):
    with session_scope() as s:
        run = ensure_run(s, dag_id="governance_gate", run_id="run-1")
        row = docs.check_documentation(s, *full_version, run=run)
        assert (row.status, row.summary["incomplete_sections"], row.data_sha256) == ("pass", [], None)
        result = docs.render_docs(s, *full_version, "html", actor="alice")
    html = ArtifactStore().get_bytes(result["documents"][1]["uri"]).decode()
    sections: set[str] = set()

    class Sections(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "section":
                sections.update((dict(attrs).get("data-sections") or "").split())

    Sections().feed(html)
    assert set(HIGH_REQUIRED) <= sections
    for raw in (RAW_EMAIL, RAW_EXAMPLE):
        assert raw not in html


def test_the_sparse_version_fails_naming_its_incomplete_sections(sparse_version):
    with session_scope() as s:
        row = docs.check_documentation(s, *sparse_version, run=ensure_run(s, dag_id="cli", run_id="c1"))
        assert row.status == "fail"
        assert row.summary["incomplete_sections"] == HIGH_REQUIRED
        result = docs.render_docs(s, *sparse_version, "md", actor="alice")
    text = ArtifactStore().get_bytes(result["documents"][0]["uri"]).decode()
    assert "_Not documented: no use case registered (govflow model register --use-case)_" in text
    assert result["incomplete"] == HIGH_REQUIRED


def test_documents_are_linked_from_the_latest_decision(full_version):
    with session_scope() as s:
        decision = gate.evaluate_gate(s, *full_version, "pipeline:governance_gate")
        decision_id = decision.id
        rendered = docs.render_docs(s, *full_version, "md", actor="alice")
    with session_scope() as s:
        links = s.get(GateDecision, decision_id).documents
        assert [(link["kind"], link["format"], link["sha256"]) for link in links] == [
            (d["kind"], "md", d["sha256"]) for d in rendered["documents"]
        ]
        by_kind = sorted(links, key=lambda link: link["kind"])
        assert docs.document_links(s, s.get(GateDecision, decision_id).version_id) == by_kind
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "docs.rendered")).first()
        assert json.loads(event.payload)["decision_id"] == decision_id


def test_document_version_records_one_documentation_result_per_run(full_version):
    for _ in range(2):  # a retried task
        with session_scope() as s:
            run = ensure_run(s, dag_id="governance_gate", run_id="run-7")
            out = docs.document_version(s, *full_version, run=run, actor="pipeline:governance_gate")
    assert out["check"]["status"] == "pass"
    assert sorted((d["kind"], d["format"]) for d in out["documents"]) == [
        ("annex_iv", "html"),
        ("annex_iv", "md"),
        ("model_card", "html"),
        ("model_card", "md"),
    ]
    with session_scope() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(CheckResultRow)
                .where(CheckResultRow.check == "documentation")
            )
            == 1
        )


def test_the_documentation_result_accounts_for_the_rendering(full_version, monkeypatch):
    import time

    render = docs.render_docs

    def slow_render(*args, **kwargs):
        time.sleep(0.15)  # stands for a slow template or object store
        return render(*args, **kwargs)

    monkeypatch.setattr(docs, "render_docs", slow_render)
    with session_scope() as s:
        run = ensure_run(s, dag_id="nightly_compliance", run_id="run-8")
        out = docs.document_version(s, *full_version, run=run, actor="pipeline:nightly_compliance")
    assert out["check"]["duration_s"] >= 0.3  # two formats rendered, both inside the result's time


def test_notes_carry_over_to_a_later_version_and_say_so(full_version, sample_files):
    with session_scope() as s:
        registry.register_version(
            s,
            model="adult-income",
            version="1.1",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
        context = docs.version_context(s, "adult-income", "1.1")
    fact = context["facts"]["limitations"]["limitations"]
    assert fact.value == ["Trained on 1994 US census data"] and fact.source == "notes (written for 1.0)"


# --- CLI -----------------------------------------------------------------------------------


def test_cli_render_writes_files_and_prints_one_json_object(full_version, tmp_path, capsys):
    code = main(
        [
            "docs",
            "render",
            "--model",
            "adult-income",
            "--version",
            "1.0",
            "--format",
            "md",
            "--out",
            str(tmp_path / "docs"),
            "--as",
            "alice",
            "--json",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert [d["path"] for d in payload["documents"]] == [
        str(tmp_path / "docs" / f"adult-income-1.0-{k}.md") for k in ("model_card", "annex_iv")
    ]
    code = main(
        [
            "docs",
            "render",
            "--model",
            "adult-income",
            "--version",
            "1.0",
            "--format",
            "html",
            "--kind",
            "annex_iv",
            "--out",
            str(tmp_path / "annex.html"),
            "--json",
        ]
    )
    assert code == 0 and (tmp_path / "annex.html").read_text().startswith("<!DOCTYPE html>")


def test_cli_docs_check_exits_1_when_incomplete(sparse_version, capsys):
    assert main(["docs", "check", "--model", "bare", "--version", "1.0", "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "fail" and payload["summary"]["incomplete_sections"] == HIGH_REQUIRED
    assert payload["missing"]["fairness"] == ["Fairness check", "Groups evaluated"]


def test_cli_bad_input_is_one_line_and_exit_2(full_version, tmp_path, capsys):
    assert main(["docs", "render", "--model", "nope", "--version", "1.0", "--format", "md"]) == 2
    err = capsys.readouterr().err
    assert err == "govflow: error: unknown model 'nope'\n"
    bad = tmp_path / "notes.yaml"
    bad.write_text("limitaions: typo\n")
    assert main(["docs", "notes", "--model", "adult-income", "--version", "1.0", "--file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key(s) limitaions" in err
    assert main(["docs", "render", "--model", "adult-income", "--version", "1.0", "--format", "pdf"]) == 2


def test_a_rendering_back_to_earlier_bytes_is_the_newest_document_again(db_url, sample_files):
    from govflow.artifacts import ArtifactStore
    from govflow.service import registry as registry_service
    from govflow.service.docs import _store_document, document_links
    from govflow.store import session_scope as scope

    with scope() as s:
        registry_service.register_model(s, name="doc-cycle", owner="o", risk_tier="minimal", actor="alice")
        registry_service.register_version(
            s,
            model="doc-cycle",
            version="1",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
    completeness = {"incomplete": []}
    ids = []
    for text in ("# A\n", "# B\n", "# B\n", "# A\n"):
        with scope() as s:
            row = registry_service.get_version(s, "doc-cycle", "1")
            ids.append(
                _store_document(
                    s, row, "model_card", "md", text, completeness, actor="alice", artifacts=ArtifactStore()
                ).id
            )
    assert ids[1] == ids[2]  # unchanged: no new row
    assert len(set(ids)) == 3  # back to A is a new, newest row
    with scope() as s:
        row = registry_service.get_version(s, "doc-cycle", "1")
        (link,) = document_links(s, row.id)
        assert link["document_id"] == ids[3]
        assert ArtifactStore().get_bytes(link["uri"]) == b"# A\n"


@pytest.mark.parametrize(("umask", "mode"), [(0o077, 0o600), (0o022, 0o644)])
def test_written_documents_follow_the_process_umask(full_version, tmp_path, umask, mode):
    import os
    import stat

    previous = os.umask(umask)
    try:
        with session_scope() as s:
            result = docs.render_docs(s, *full_version, "md", tmp_path / "out", actor="alice")
    finally:
        os.umask(previous)
    modes = {stat.S_IMODE(os.stat(d["path"]).st_mode) for d in result["documents"]}
    assert modes == {mode}  # never widened to 0644 behind a private umask
