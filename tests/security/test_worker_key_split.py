"""A gate run split across workers by key: checks where only the check-result key is, decisions apart.

The key split existed, but every process of the stack held the decision key, so the
code that parses submitted data and loads a model artifact ran next to the key that
approves and promotes. Now the DAG tasks that sign decisions go to the decision queue
(``GOVFLOW_DECISION_QUEUE``) and the check workers hold only the check-result key.
These tests run one version's gate tasks the way such a split deployment runs them:
resolve and the decision in a process with the decision key, every check, the
mitigation and the documentation in a process with only the check-result key.
"""

from __future__ import annotations

import logging
import os

import pytest
from sqlalchemy import select

from govflow import signing
from govflow.service import registry
from govflow.service.check_table import gate_checks
from govflow.store import AuditEvent, session_scope
from govflow.store.audit import verify_chain
from govflow.tasks.gate import check, document, evaluate, mitigate, resolve
from tests._helpers import sample_trainer

RUN = {"dag_id": "governance_gate", "run_id": "manual__split", "trigger_kind": "rest"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return sample_trainer("train_model")(tmp_path_factory.mktemp("job"), mitigate=True)


def _conf(job: dict) -> dict:
    keys = ("suite", "label", "positive_label", "prediction", "score", "sensitive")
    return {
        "model": "split-model",
        "version": "1",
        "artifact": job["artifact"],
        "training_data": job["training_data"],
        "reference_data": job["reference_data"],
        "eval_data": job["eval_data"],
        "params": job["params"] | {"governance": {k: job[k] for k in keys}},
    }


@pytest.fixture
def split_keys(production_deployment, tmp_path_factory, monkeypatch):
    """The production deployment's decision key, plus a check-result key trusted as check-*.pub."""
    decision_pem = production_deployment / "decision.pem"
    check = signing.generate_key_files(tmp_path_factory.mktemp("worker-keys") / "check-worker.pem")
    (production_deployment / "check-worker.pub").write_text(signing.public_pem(check.public))
    return {"decision": str(decision_pem), "check": check.source, "check_id": check.key_id}


def _decision_process(monkeypatch, keys) -> None:
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", keys["decision"])
    monkeypatch.delenv("GOVFLOW_CHECK_SIGNING_KEY_FILE", raising=False)


def _check_worker(monkeypatch, keys) -> None:
    monkeypatch.delenv("GOVFLOW_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("GOVFLOW_CHECK_SIGNING_KEY_FILE", keys["check"])


def test_checks_on_a_check_key_worker_and_the_decision_apart_verify(
    db_url, trained, split_keys, monkeypatch, caplog
):
    _decision_process(monkeypatch, split_keys)
    with session_scope() as s:
        registry.register_model(s, name="split-model", owner="Ana", risk_tier="limited", actor="alice")
    ref = resolve(RUN, _conf(trained), triggering_user="dave")

    _check_worker(monkeypatch, split_keys)
    with pytest.raises(Exception, match="only the check-result key"):
        signing.signing_key()  # this process really cannot sign a decision
    caplog.set_level(logging.WARNING)
    results = {name: check(ref, name) for name in gate_checks()}
    statuses = {name: r["status"] for name, r in results.items()}
    mitigate(ref)
    document(ref)
    # Each check ran to a verdict; none errored for want of a key.
    assert "error" not in statuses.values(), results
    # A check-only process writes no seal (a seal is the decision key's) and does not complain
    # about it on every commit: the decision's commit seals the version's chain.
    assert "could not write the audit seals" not in caplog.text

    _decision_process(monkeypatch, split_keys)
    decision = evaluate(ref)
    # The gate verified the check-key-signed results as signed facts and decided on them.
    assert decision["decision"] == "rejected", decision
    # Findings about this model (its PII scan, its bare registration's documentation), nothing about
    # a signature: a fact-check failure would be a reason naming the mismatching row.
    assert {r["check"] for r in decision["reasons"] if r["code"] == "check_failed"} == {
        "pii",
        "documentation",
    }
    assert not [r for r in decision["reasons"] if "sign" in r["message"] or "seal" in r["message"]]
    with session_scope() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.subject == "version:split-model@1")).all()
        by_action: dict[str, set[str]] = {}
        for event in events:
            by_action.setdefault(event.action, set()).add(event.key_id)
        assert by_action["check.recorded"] == {split_keys["check_id"]}
        decision_id = signing.signing_key().key_id
        assert by_action["version.registered"] == {decision_id}
        assert by_action["gate.evaluated"] == {decision_id}
        assert verify_chain(s).ok


def _resolved_bare_version(monkeypatch, keys, sample_files):
    """A registered version (artifact and training data only), resolved by the decision process."""
    _decision_process(monkeypatch, keys)
    with session_scope() as s:
        registry.register_model(s, name="split-model", owner="Ana", risk_tier="limited", actor="alice")
    conf = {
        "model": "split-model",
        "version": "1",
        "artifact": str(sample_files["artifact"]),
        "training_data": str(sample_files["training"]),
    }
    return resolve(RUN, conf, triggering_user="dave")


def test_a_check_key_worker_cannot_take_the_decision_task(db_url, sample_files, split_keys, monkeypatch):
    """Misrouted (a decision task on a check worker): refused, nothing decided."""
    ref = _resolved_bare_version(monkeypatch, split_keys, sample_files)
    _check_worker(monkeypatch, split_keys)
    with pytest.raises(Exception, match="only the check-result key"):
        evaluate(ref)
    with session_scope() as s:
        decided = s.scalars(select(AuditEvent).where(AuditEvent.action == "gate.evaluated")).all()
        assert decided == []


def test_a_decision_key_process_refuses_to_run_a_check_or_load_a_model(
    db_url, sample_files, split_keys, monkeypatch
):
    """Misrouted the other way (a check on the decision queue, e.g. by whoever can write Airflow's
    serialized DAG): the process holding the decision key neither parses the data nor loads the
    model file, and records nothing."""
    from govflow.policy import load_policy
    from govflow.service.model_artifacts import load_registered
    from govflow.store import CheckResultRow

    ref = _resolved_bare_version(monkeypatch, split_keys, sample_files)
    monkeypatch.setenv("GOVFLOW_DECISION_QUEUE", "govern")
    for name in gate_checks():
        with pytest.raises(Exception, match="holds the decision key"):
            check(ref, name)
    with pytest.raises(Exception, match="holds the decision key"):
        load_registered(str(sample_files["artifact"]), None, policy=load_policy(), tier="limited")
    with session_scope() as s:
        assert s.scalars(select(CheckResultRow)).all() == []
    # The same process without the split setting (one key for everything, e.g. `make up`) still checks.
    monkeypatch.delenv("GOVFLOW_DECISION_QUEUE")
    assert check(ref, "pii")["status"] in {"pass", "warn", "fail"}


def test_an_inline_check_key_is_sealed_and_still_marks_a_production_deployment(
    govflow_home, tmp_path, monkeypatch
):
    """Compose hands the check workers their key inline (GOVFLOW_CHECK_SIGNING_KEY): it leaves
    os.environ before a sandbox child starts, and the deployment is still a production one
    afterwards (it was not: the check read os.environ only, so a sealed key declared it away)."""
    from govflow import config, sealing

    monkeypatch.delenv("GOVFLOW_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("GOVFLOW_DB_URL", f"sqlite:///{tmp_path / 'gov.db'}")
    key = signing.generate_key_files(tmp_path / "check-worker.pem")
    monkeypatch.setenv("GOVFLOW_CHECK_SIGNING_KEY", (tmp_path / "check-worker.pem").read_text())
    sealing.seal_process()
    assert "GOVFLOW_CHECK_SIGNING_KEY" not in os.environ
    assert config.production_reason() == "a signing key is configured (GOVFLOW_CHECK_SIGNING_KEY)"
    assert signing.key_for_action("check.recorded").key_id == key.key_id
    assert not signing.holds_decision_key()
    with pytest.raises(Exception, match="only the check-result key"):
        signing.key_for_action("gate.evaluated")
