"""The Governance view's app over a real governance DB (identity injected as Airflow's auth would)."""

from __future__ import annotations

import pytest

from govflow.checks import CheckResult
from govflow.service import registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import session_scope


def seed_version(sample_files, run_id: str = "r1") -> None:
    """credit-risk@1.0 (high tier) with a passing drift result recorded by gate run ``run_id``."""
    with session_scope() as s:
        registry.register_model(
            s,
            name="credit-risk",
            owner="Ana",
            risk_tier="high",
            actor="alice",
            stakeholders=["Rita:reviewer:rita@example.org"],
            regions=["EU"],
        )
        version = registry.register_version(
            s,
            model="credit-risk",
            version="1.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id=run_id)
        record_check_result(
            s,
            version=version,
            run=run,
            data_sha256=version.training_data_sha256,
            result=CheckResult(check="drift", status="pass", summary={"share_drifted": 0.0}),
        )


@pytest.fixture
def seeded(db_url, sample_files):
    seed_version(sample_files)
    return db_url


def client_as(user: str):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    return TestClient(create_app(user_dependency=lambda: user))


def test_pages_show_models_versions_and_evidence(seeded):
    client = client_as("vera")
    page = client.get("/")
    assert page.status_code == 200
    assert "credit-risk" in page.text and "high" in page.text
    page = client.get("/models/credit-risk")
    assert page.status_code == 200 and "1.0" in page.text and "drift: pass" in page.text
    page = client.get("/models/credit-risk/versions/1.0")
    assert page.status_code == 200
    assert "version.registered" in page.text and "check.recorded" in page.text
    assert 'id="review"' not in page.text  # a viewer gets no review form
    assert client.get("/models/ghost").status_code == 404


def test_json_api(seeded):
    client = client_as("vera")
    models = client.get("/api/models").json()["models"]
    assert models[0]["name"] == "credit-risk" and models[0]["newest_stage"] == "candidate"
    detail = client.get("/api/models/credit-risk/versions/1.0").json()
    assert [c["check"] for c in detail["checks"]] == ["drift"]
    assert [e["action"] for e in detail["audit"]["events"]] == ["check.recorded", "version.registered"]


def test_approval_through_the_api_applies_roles_and_separation_of_duties(seeded):
    assert (
        client_as("vera")
        .post("/api/models/credit-risk/versions/1.0/approvals", json={"verdict": "approve"})
        .status_code
        == 403
    )
    refused = client_as("alice").post(
        "/api/models/credit-risk/versions/1.0/approvals", json={"verdict": "approve"}
    )
    assert refused.status_code == 403  # alice submitted it (and is no reviewer)
    page = client_as("rita").get("/models/credit-risk/versions/1.0")
    assert 'id="review"' in page.text
    done = client_as("rita").post(
        "/api/models/credit-risk/versions/1.0/approvals",
        json={"verdict": "approve", "comment": "evidence reviewed"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["approver"] == "rita"
    detail = client_as("vera").get("/api/models/credit-risk/versions/1.0").json()
    assert detail["approvals"][0]["verdict"] == "approve"
    newest = detail["audit"]["events"][0]
    assert newest["action"] == "approval.recorded" and newest["actor"] == "rita"
    bad = client_as("rita").post("/api/models/credit-risk/versions/1.0/approvals", json={"verdict": "maybe"})
    assert bad.status_code == 422


def test_documents_are_served_only_while_they_match_their_sha256(seeded):
    from govflow.artifacts import ArtifactStore
    from govflow.store import Document

    stored = ArtifactStore().put_text("# Model card\n", suffix=".md")
    with session_scope() as s:
        version = registry.get_version(s, "credit-risk", "1.0")
        doc = Document(
            version_id=version.id, kind="model_card", format="md", uri=stored.uri, sha256=stored.sha256
        )
        s.add(doc)
        s.flush()
        doc_id = doc.id
    client = client_as("vera")
    url = f"/api/models/credit-risk/versions/1.0/documents/{doc_id}"
    served = client.get(url)
    assert served.status_code == 200 and served.text == "# Model card\n"
    assert "model_card (md)" in client.get("/models/credit-risk/versions/1.0").text
    with open(stored.uri, "w") as handle:
        handle.write("# Edited behind govflow's back\n")
    assert client.get(url).status_code == 409
    assert client.get("/api/models/credit-risk/versions/1.0/documents/9999").status_code == 404
