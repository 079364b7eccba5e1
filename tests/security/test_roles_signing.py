"""Signing keys split by role: a worker's check-result key cannot record a decision.

Before the split one key signed everything, and every worker that ran checks on
submitted artifacts held it: a shell on a worker (or a pickle that read the
key) could sign an approval, a promotion or a policy change that `audit
verify` then accepted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from govflow import signing
from govflow.errors import BadInputError
from govflow.signing import Keyring, generate_key_files
from govflow.store import session_scope
from govflow.store.audit import append_event, verify_chain


@pytest.fixture
def keys(tmp_path, monkeypatch):
    """A decision key and a check-result key, both trusted (the check key's .pub named check-*)."""
    trusted = tmp_path / "trusted"
    decision = generate_key_files(tmp_path / "decision" / "decision.pem")
    check = generate_key_files(tmp_path / "check" / "check.pem")
    trusted.mkdir()
    (trusted / "decision.pub").write_text((tmp_path / "decision" / "decision.pub").read_text())
    (trusted / "check-worker.pub").write_text((tmp_path / "check" / "check.pub").read_text())
    monkeypatch.setenv("GOVFLOW_TRUSTED_KEYS_DIR", str(trusted))
    return decision, check


def _worker(monkeypatch, check) -> None:
    """This process becomes a check worker: it holds the check-result key only."""
    monkeypatch.delenv("GOVFLOW_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("GOVFLOW_CHECK_SIGNING_KEY_FILE", check.source)


def test_each_action_is_signed_by_its_role_and_verifies(db_url, keys, monkeypatch):
    decision, check = keys
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", decision.source)
    monkeypatch.setenv("GOVFLOW_CHECK_SIGNING_KEY_FILE", check.source)
    with session_scope() as s:
        result = append_event(s, actor="airflow", action="check.recorded", subject="version:m@1")
        approval = append_event(s, actor="rita", action="approval.recorded", subject="version:m@1")
        assert (result.key_id, approval.key_id) == (check.key_id, decision.key_id)
    with session_scope() as s:
        assert verify_chain(s).ok


def test_a_worker_with_the_check_key_cannot_sign_a_decision(db_url, keys, monkeypatch):
    _, check = keys
    _worker(monkeypatch, check)
    for action in ("approval.recorded", "waiver.recorded", "version.stage_changed", "policy.applied"):
        with pytest.raises(BadInputError, match="only the check-result key"), session_scope() as s:
            append_event(s, actor="rita", action=action, subject="version:m@1")
    with session_scope() as s:  # a check result it may record
        append_event(s, actor="airflow", action="check.recorded", subject="version:m@1")
    # nor a checkpoint or a bundle manifest, and it never falls back to a generated local key
    with pytest.raises(BadInputError, match="only the check-result key"):
        signing.sign_manifest(b"manifest")
    assert not (Path(os.environ["GOVFLOW_HOME"]) / "keys").exists()


@pytest.mark.parametrize("action", ["approval.recorded", "version.stage_changed", "policy.applied"])
def test_a_decision_signed_with_the_check_key_is_a_forgery(db_url, keys, monkeypatch, action):
    """A worker shell that signs a decision with its own key anyway (bypassing key_for_action)."""
    decision, check = keys
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", decision.source)
    with session_scope() as s:
        append_event(s, actor="airflow", action="check.recorded", subject="version:m@1")
    monkeypatch.setattr("govflow.store.audit.key_for_action", lambda _action: check)
    with session_scope() as s:
        forged = append_event(s, actor="rita", action=action, subject="version:m@1")
        forged_seq = forged.seq
    monkeypatch.setattr("govflow.store.audit.key_for_action", signing.key_for_action)
    with session_scope() as s:
        report = verify_chain(s)
    assert not report.ok and report.first_broken_seq == forged_seq
    assert "check-result key" in (report.problem or "")


def test_a_decision_key_id_on_a_check_key_signature_is_refused(db_url, keys, monkeypatch):
    """Relabelled: the row claims the decision key's id, but only the check key signed it."""
    decision, check = keys
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", decision.source)
    relabelled = signing.SigningKey(private=check.private, key_id=decision.key_id, source="forged")
    monkeypatch.setattr("govflow.store.audit.key_for_action", lambda _action: relabelled)
    with session_scope() as s:
        append_event(s, actor="rita", action="approval.recorded", subject="version:m@1")
    monkeypatch.setattr("govflow.store.audit.key_for_action", signing.key_for_action)
    with session_scope() as s:
        report = verify_chain(s, signature_every=1000)
    assert not report.ok and report.first_broken_seq == 1


def test_a_check_key_anywhere_is_a_check_key_everywhere(keys, monkeypatch, tmp_path):
    decision, check = keys
    ring = Keyring.trusted(include_signing_key=False)
    assert check.key_id in ring.check_ids and decision.key_id not in ring.check_ids
    assert ring.refuse(check.key_id, "sig", "approval.recorded", b"m") is not None
    assert ring.refuse(check.key_id, "sig", "check.recorded", b"m") is None
    # an action nobody listed is a decision (fail closed)
    assert ring.refuse(check.key_id, "sig", "something.new", b"m") is not None
