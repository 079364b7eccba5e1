"""Attacks on identity: impersonation through the CLI, self-minted roles, unproven approvals, the
run conf naming the submitter, and unknown users in the Governance view.

Tests run in dev mode (tests/conftest.py); the attacks here switch it off to see what production refuses.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govflow.access import os_user
from govflow.service import gate, registry
from govflow.store import Approval, AuditEvent, session_scope
from tests._helpers import VERSION, checked_version, sqlite_only
from tests._helpers import cli as run


@pytest.fixture
def version(db_url, sample_files):
    checked_version(sample_files)
    return db_url


def counts() -> tuple[int, int]:
    with session_scope() as s:
        return s.scalar(select(func.count(Approval.id))), s.scalar(select(func.count(AuditEvent.seq)))


@sqlite_only
def test_impersonation_is_refused_outside_dev_mode_and_writes_nothing(version, capsys, monkeypatch):
    monkeypatch.delenv("GOVFLOW_DEV_MODE")
    before = counts()
    for argv, env in [(("--as", "rita"), None), ((), "rob")]:
        if env:
            monkeypatch.setenv("GOVFLOW_USER", env)
        code, out, err = run(capsys, "approve", *VERSION, *argv, "--comment", "lgtm")
        assert (code, out) == (1, "")
        assert err.count("\n") == 1 and "acts as the OS user" in err and "not as" in err
    assert counts() == before


@sqlite_only
def test_roles_cannot_be_minted_from_govflow_home_or_the_environment(
    version, capsys, monkeypatch, govflow_home
):
    """A users.yaml in $GOVFLOW_HOME (a volume task code can write) or GOVFLOW_USERS grants nothing."""
    monkeypatch.delenv("GOVFLOW_DEV_MODE")
    me = os_user()
    forged = f"users:\n  {me}:\n    roles: [reviewer, admin]\n"
    (govflow_home / "users.yaml").write_text(forged)
    elsewhere = govflow_home / "mine.yaml"
    elsewhere.write_text(forged)
    monkeypatch.setenv("GOVFLOW_USERS", str(elsewhere))
    before = counts()
    code, _, err = run(capsys, "approve", *VERSION, "--comment", "self-approved")
    assert code == 1 and f"unknown user '{me}'" in err and "no roles file configured" in err
    assert counts() == before


# The roles file's ownership rules (StrictModes): tests/security/test_roles_file.py.


@sqlite_only
def test_dev_mode_approvals_do_not_count_for_high_and_the_reason_says_why(version, capsys):
    for reviewer in ("rita", "rob"):  # refused before anything is recorded, with the command that counts
        code, _, err = run(capsys, "approve", *VERSION, "--as", reviewer, "--comment", "ok")
        assert code == 2
        assert "the high tier counts approvals authenticated by airflow or api-token, not dev" in err
        assert "govflow approve --model credit-risk --version 1.0 --api" in err
    with session_scope() as s:
        assert s.scalars(select(Approval)).all() == []
        decision = gate.evaluate_gate(s, "credit-risk", "1.0", "admin", auth_method="system")
        assert decision.decision == "pending_approval"
        (missing,) = [r for r in decision.reasons if r["code"] == "approvals_missing"]
        assert missing["fix"].endswith("govflow approve --model M --version V --api")
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "approval.recorded")).all()
        assert events == []


def test_approvals_proven_by_airflow_count(version):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    for reviewer in ("rita", "rob"):
        client = TestClient(create_app(user_dependency=lambda reviewer=reviewer: reviewer))
        answer = client.post("/api/models/credit-risk/versions/1.0/approvals", json={"verdict": "approve"})
        assert answer.status_code == 200 and answer.json()["auth_method"] == "airflow"
    decision = client.post("/api/models/credit-risk/versions/1.0/gate").json()
    assert decision["decision"] == "approved" and decision["approvals"]["approved_by"] == ["rita", "rob"]


VIEW_PATHS = (
    "/",
    "/models/credit-risk",
    "/api/models",
    "/api/models/credit-risk/versions/1.0",
    "/docs",
    "/redoc",
    "/openapi.json",
)


@pytest.mark.parametrize("path", VIEW_PATHS)
def test_unknown_users_see_nothing_api_docs_included(version, path):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    stranger = TestClient(create_app(user_dependency=lambda: "mallory"))
    assert stranger.get(path).status_code == 403
    assert TestClient(create_app(user_dependency=lambda: "vera")).get(path).status_code == 200


def test_an_auth_manager_role_mapped_in_the_roles_file_lets_a_user_in(version, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    roles = tmp_path / "roles.yaml"
    roles.write_text("users: {}\nauth_manager_roles:\n  Viewer: [viewer]\n")
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(roles))
    assert TestClient(create_app(user_dependency=lambda: ("otto", ("Viewer",)))).get("/").status_code == 200
    assert TestClient(create_app(user_dependency=lambda: ("otto", ("Op",)))).get("/").status_code == 403


def test_the_run_conf_cannot_name_the_submitter(db_url, sample_files):
    from govflow.tasks.gate import resolve

    with session_scope() as s:
        registry.register_model(s, name="credit-risk", owner="Ana", risk_tier="high", actor="alice")
    conf = {
        "model": "credit-risk",
        "version": "2.0",
        "artifact": str(sample_files["artifact"]),
        "training_data": str(sample_files["training"]),
        "submitted_by": "rita",  # a reviewer claiming someone else submitted it, to approve it herself
    }
    run_ref = {"dag_id": "governance_gate", "run_id": "manual__1", "trigger_kind": "rest"}
    ref = resolve(run_ref, conf, triggering_user="dave")
    assert ref["submitted_by"] == "dave"
    with session_scope() as s:
        assert registry.get_version(s, "credit-risk", "2.0").created_by == "dave"
        (ignored,) = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "run.submitter_claim_ignored")
        ).all()
        assert '"claimed":"rita"' in ignored.payload and '"submitted_by":"dave"' in ignored.payload


def test_the_package_has_no_path_to_govflow_home_roles():
    source = Path(__file__).resolve().parents[2] / "include" / "govflow" / "config.py"
    assert "users.yaml" not in source.read_text().replace('"policies" / "users.yaml"', "")


@sqlite_only
def test_every_cli_event_records_how_its_actor_was_authenticated(db_url, capsys, monkeypatch):
    register = ("model", "register", "--owner", "Ana", "--risk-tier", "minimal")
    assert run(capsys, *register, "--name", "by-dev", "--as", "alice")[0] == 0
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(_roles_for_me(db_url, monkeypatch)))
    assert run(capsys, *register, "--name", "by-os")[0] == 0
    with session_scope() as s:
        events = {e.subject: (e.actor, e.auth_method) for e in s.scalars(select(AuditEvent))}
    assert events == {"model:by-dev": ("alice", "dev"), "model:by-os": (os_user(), "os")}


def _roles_for_me(db_url, monkeypatch) -> Path:
    path = Path(os.environ["GOVFLOW_HOME"]).parent / "operator-roles.yaml"
    path.write_text(f"users:\n  {os_user()}:\n    roles: [data_scientist]\n")
    return path


def test_a_dev_mode_waiver_is_refused(db_url, sample_files, capsys):
    checked_version(sample_files, {"fairness": "fail"})
    code, _, err = run(capsys, "waive", *VERSION, "--check", "fairness", "--as", "rob", "--reason", "noise")
    assert code == 1 and "a waiver needs an identity proven by Airflow" in err
    with session_scope() as s:
        decision = gate.evaluate_gate(s, "credit-risk", "1.0", "admin", auth_method="system")
        assert decision.decision == "rejected" and decision.inputs["result"]["waived"] == []


def test_a_reviewer_known_only_by_a_mapped_auth_manager_role_can_approve(version, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    roles = tmp_path / "roles.yaml"
    roles.write_text("users:\n  alice: {roles: [data_scientist]}\nauth_manager_roles:\n  Op: [reviewer]\n")
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(roles))
    client = TestClient(create_app(user_dependency=lambda: ("olga", ("Op",))))
    page = client.get("/models/credit-risk/versions/1.0")
    assert page.status_code == 200 and 'id="review"' in page.text  # the review form: olga may review
    answer = client.post("/api/models/credit-risk/versions/1.0/approvals", json={"verdict": "approve"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["approver"], answer.json()["role"]) == ("olga", "reviewer")


def test_an_api_approval_the_tier_cannot_count_is_refused_with_403(version):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    app = create_app(user_dependency=lambda: "rita", auth_method="dev")  # a deployment proving nothing
    answer = TestClient(app).post(
        "/api/models/credit-risk/versions/1.0/approvals", json={"verdict": "approve"}
    )
    assert answer.status_code == 403
    assert "govflow approve --model credit-risk --version 1.0 --api" in answer.json()["detail"]
    with session_scope() as s:
        assert s.scalars(select(Approval)).all() == []
