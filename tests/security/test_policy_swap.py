"""Attack: point GOVFLOW_POLICY at a relaxed copy that keeps the version string.

Before the active policy was stored in the DB, such a file approved a version
that the real policy requires approvals for. Now the gate refuses to decide
with any policy whose sha256 is not the one an admin applied (`govflow policy apply`).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from govflow import data
from govflow.cli import main
from govflow.errors import PermissionDeniedError
from govflow.policy import load_policy
from govflow.service import gate, registry
from govflow.service.policy import PolicyNotActiveError, active_policy, apply_policy
from govflow.store import AuditEvent, CheckResultRow, GateDecision, session_scope
from tests._helpers import passed_limited_version

DEFAULT = data.default_policy()


@pytest.fixture(autouse=True)
def dev_mode(monkeypatch):
    monkeypatch.setenv("GOVFLOW_DEV_MODE", "1")  # --as names the bundled demo users


@pytest.fixture
def passed_version(db_url, sample_files):
    """A limited-tier version with every required check passed and no approval yet."""
    passed_limited_version(sample_files, "chat")
    return sample_files


def _relaxed(tmp_path):
    """The default policy, same version string, but the limited tier needs no approval."""
    text = DEFAULT.read_text()
    marker = "    approvals:\n      count: 1\n"
    assert text.count(marker) == 1
    path = tmp_path / "relaxed.yaml"
    path.write_text(text.replace(marker, "    approvals:\n      count: 0\n"))
    assert load_policy(path).version == load_policy(DEFAULT).version
    return path


def _decisions() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(GateDecision))


def test_the_bundled_default_is_applied_on_first_use_and_audited(passed_version):
    with session_scope() as s:
        assert active_policy(s) is None
        assert gate.evaluate_gate(s, "chat", "1", "airflow").decision == "pending_approval"
    with session_scope() as s:
        row = active_policy(s)
        assert row.sha256 == load_policy(DEFAULT).sha256 and row.applied_by == "govflow"
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "policy.applied")).all()
    assert [e.subject for e in events] == [f"policy:{row.version}"]


def test_parallel_first_uses_apply_the_bundled_default_once(db_url):
    """The gate's checks of one version start together; each needs the active policy and, before
    any was applied, activates the bundled default. Racing, one of them used to fail its insert
    (uq_policies_one_active) and wait out a retry."""
    import threading

    from govflow.service.policy import require_active

    policy, barrier, errors = load_policy(DEFAULT), threading.Barrier(4), []

    def first_use() -> None:
        try:
            barrier.wait()
            with session_scope() as s:
                require_active(s, policy)
        except Exception as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "policy.applied")).all()
        assert active_policy(s).sha256 == policy.sha256 and len(events) == 1


def test_a_swapped_policy_file_with_the_same_version_approves_nothing(
    passed_version, tmp_path, monkeypatch, capsys
):
    with session_scope() as s:
        gate.evaluate_gate(s, "chat", "1", "airflow")  # the default becomes active
    monkeypatch.setenv("GOVFLOW_POLICY", str(_relaxed(tmp_path)))
    before = _decisions()
    with pytest.raises(PolicyNotActiveError, match="is not the active policy"), session_scope() as s:
        gate.evaluate_gate(s, "chat", "1", "airflow")
    capsys.readouterr()
    assert main(["gate", "--model", "chat", "--version", "1", "--json"]) == 1
    assert "the gate refuses to decide" in capsys.readouterr().err
    assert _decisions() == before
    with session_scope() as s:
        assert registry.get_version(s, "chat", "1").stage == "candidate"


def test_a_non_default_policy_is_refused_before_any_policy_is_applied(passed_version, tmp_path, monkeypatch):
    monkeypatch.setenv("GOVFLOW_POLICY", str(_relaxed(tmp_path)))
    with pytest.raises(PolicyNotActiveError, match="no policy has been applied"), session_scope() as s:
        gate.evaluate_gate(s, "chat", "1", "airflow")
    assert _decisions() == 0


def test_only_an_admin_applies_a_policy_and_the_gate_then_uses_it(
    passed_version, tmp_path, monkeypatch, capsys
):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    relaxed = _relaxed(tmp_path)
    with pytest.raises(PermissionDeniedError), session_scope() as s:
        apply_policy(s, load_policy(relaxed), "rita", auth_method="airflow")  # a reviewer
    capsys.readouterr()
    assert main(["policy", "apply", str(relaxed), "--as", "rita"]) == 1
    # The direct-DB CLI's actor (dev mode here, the OS user otherwise) never applies a policy.
    assert main(["policy", "apply", str(relaxed), "--as", "admin", "--json"]) == 1
    assert "needs an identity proven by Airflow" in capsys.readouterr().err
    body = {"text": relaxed.read_text(), "source": str(relaxed)}
    assert (
        TestClient(create_app(user_dependency=lambda: "rita")).post("/api/policy", json=body).status_code
        == 403
    )
    answer = TestClient(create_app(user_dependency=lambda: "admin")).post("/api/policy", json=body)
    assert answer.status_code == 200, answer.text
    applied = answer.json()
    assert applied["changed"] and applied["applied_by"] == "admin"
    monkeypatch.setenv("GOVFLOW_POLICY", str(relaxed))
    with session_scope() as s:
        assert gate.evaluate_gate(s, "chat", "1", "airflow").decision == "approved"
    monkeypatch.delenv("GOVFLOW_POLICY")  # the bundled default is no longer the active one
    with pytest.raises(PolicyNotActiveError), session_scope() as s:
        gate.evaluate_gate(s, "chat", "1", "airflow")
    with session_scope() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "policy.applied")).one()
        assert event.actor == "admin" and json.loads(event.payload)["sha256"] == applied["sha256"]


def test_applying_a_bad_policy_writes_nothing(db_url, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ntiers: nope\n")
    assert main(["policy", "apply", str(bad), "--as", "admin"]) == 2
    assert "policy" in capsys.readouterr().err
    with session_scope() as s:
        assert active_policy(s) is None
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_worker_with_a_swapped_policy_records_no_check_result(passed_version, tmp_path):
    from govflow.service.pipeline import run_check

    with session_scope() as s:
        gate.evaluate_gate(s, "chat", "1", "airflow")  # the default becomes active
        before = s.scalar(select(func.count()).select_from(CheckResultRow))
    run = {"dag_id": "governance_gate", "run_id": "manual__swapped", "trigger_kind": "rest"}
    with pytest.raises(PolicyNotActiveError):
        run_check(run, "chat", "1", "drift", policy=load_policy(_relaxed(tmp_path)))
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(CheckResultRow)) == before
