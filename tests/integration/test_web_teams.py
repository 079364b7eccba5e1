"""The Governance view and its API show each person their own teams' portfolio and queue, on every
route (the services filter; the pages only render what they get)."""

from __future__ import annotations

import pytest

from govflow.checks import CheckResult
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import session_scope
from tests._helpers import dev_mode_unless_production

ROLES = """
users:
  alice: {roles: [data_scientist]}
  rita: {roles: [reviewer], teams: [retail]}
  rob: {roles: [reviewer]}
  vic: {roles: [viewer], teams: [cards]}
"""


def _pending(name: str, team: str, sample_files) -> None:
    """``name``@1 of ``team`` (limited tier): every check passed, decided pending an approval."""
    with session_scope() as s:
        registry.register_model(s, name=name, owner="Ana", risk_tier="limited", actor="alice", team=team)
        row = registry.register_version(
            s,
            model=name,
            version="1",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            eval_data=sample_files["eval"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id=f"run-{name}")
        for check in ("validation", "pii", "drift", "documentation"):
            record_check_result(
                s,
                version=row,
                run=run,
                result=CheckResult(check=check, status="pass"),
                data_sha256=None if check == "documentation" else row.eval_data_sha256,
            )
    with session_scope() as s:
        assert gate.evaluate_gate(s, name, "1", "airflow").decision == "pending_approval"


@pytest.fixture
def two_teams(db_url, sample_files, tmp_path, monkeypatch):
    dev_mode_unless_production(monkeypatch)
    roles = tmp_path / "roles.yaml"
    roles.write_text(ROLES)
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(roles))
    _pending("basket", "retail", sample_files)
    _pending("limits", "cards", sample_files)
    return db_url


def client_as(user: str):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    return TestClient(create_app(user_dependency=lambda: user))


def test_a_scoped_reviewer_sees_only_their_teams_models(two_teams):
    rita = client_as("rita")
    portfolio = rita.get("/api/portfolio").json()
    assert [m["name"] for m in portfolio["models"]] == ["basket"]
    assert portfolio["counts"]["models"] == 1 and portfolio["counts"]["pending_approvals"] == 1
    assert portfolio["scope"] == {"teams": ["retail"], "all_teams": False}
    assert [m["name"] for m in rita.get("/api/models").json()["models"]] == ["basket"]
    assert [i["model"] for i in rita.get("/api/approvals").json()["items"]] == ["basket"]
    page = rita.get("/")
    assert page.status_code == 200 and "basket" in page.text and "limits" not in page.text
    assert "Your portfolio: the models of team retail." in page.text
    assert rita.get("/runs/governance_gate/run-basket", follow_redirects=False).status_code == 307
    assert rita.get("/runs/governance_gate/run-limits").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/limits",
        "/api/models/limits/versions/1",
        "/api/models/limits/diff?a=1&b=1",
        "/models/limits",
        "/models/limits/versions/1",
    ],
)
def test_another_teams_model_is_refused_on_every_route(two_teams, path):
    refused = client_as("rita").get(path)
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "permission denied: rita (reviewer of team retail) may not see limits (team cards)"
    )
    assert client_as("rob").get(path).status_code == 200  # no `teams`: every team


def test_a_scoped_reviewer_can_approve_only_their_teams_model(two_teams):
    rita = client_as("rita")
    refused = rita.post("/api/models/limits/versions/1/approvals", json={"verdict": "approve"})
    assert refused.status_code == 403
    assert "may not approve limits@1 (team cards)" in refused.json()["detail"]
    assert rita.post("/api/models/limits/versions/1/gate").status_code == 403
    done = rita.post("/api/models/basket/versions/1/approvals", json={"verdict": "approve"})
    assert done.status_code == 200, done.text
    assert rita.post("/api/models/basket/versions/1/gate").json()["decision"] == "approved"
    assert client_as("rob").get("/api/models/limits/versions/1").json()["stage"] == "candidate"


def test_a_scoped_viewer_and_an_unscoped_reviewer(two_teams):
    assert [m["name"] for m in client_as("vic").get("/api/models").json()["models"]] == ["limits"]
    rob = client_as("rob")
    assert [m["name"] for m in rob.get("/api/portfolio").json()["models"]] == ["basket", "limits"]
    assert sorted(i["model"] for i in rob.get("/api/approvals").json()["items"]) == ["basket", "limits"]


def test_another_teams_documents_and_alerts_are_out_of_reach(two_teams):
    from govflow.store import Alert, Model

    refused = client_as("rita").get("/api/models/limits/versions/1/documents/1")
    assert refused.status_code == 403 and "may not read the documents of limits" in refused.json()["detail"]
    assert client_as("rob").get("/api/models/limits/versions/1/documents/1").status_code == 404  # none yet
    with session_scope() as s:
        for name in ("basket", "limits"):
            model_id = s.query(Model.id).filter(Model.name == name).scalar()
            s.add(Alert(model_id=model_id, problem_key=f"p-{name}", channel="log", severity="high",
                        message=f"{name} drifted", recipients=[]))  # fmt: skip
    assert [p["model"] for p in client_as("rita").get("/api/alerts").json()["problems"]] == ["basket"]
    assert [p["model"] for p in client_as("rob").get("/api/alerts").json()["problems"]] == [
        "basket",
        "limits",
    ]
