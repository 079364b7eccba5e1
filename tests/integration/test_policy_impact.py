"""Policy impact before apply, and non-compliance after: replayed from the stored decision inputs."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from govflow import config, storage
from govflow.access import load_users
from govflow.errors import BadInputError
from govflow.hashing import sha256_bytes
from govflow.policy import load_policy, parse_policy
from govflow.service import gate, registry
from govflow.service.policy import alert_noncompliant_owners, apply_policy
from govflow.service.policy_impact import noncompliant_versions, policy_impact
from govflow.store import Alert, AuditEvent, GateDecision, ModelVersion, session_scope
from tests.integration.test_gate_service import approve, evaluate, record_all, setup_version


def admin_apply(policy):
    with session_scope() as s:
        return apply_policy(
            s, policy, "admin", users=load_users(config.demo_roles_path()), auth_method="airflow"
        )


def tightened(version="2099.1.1", *, keep_version=False):
    """The default policy, but high-tier approvals count only through API tokens."""
    base = load_policy()
    body = base.text.replace(
        "      accepted_auth: [airflow, api-token]\n    # Only formats",
        "      accepted_auth: [api-token]\n    # Only formats",
    )
    assert body != base.text
    if not keep_version:
        body = body.replace(f'version: "{base.version}"', f'version: "{version}"')
    return parse_policy(body, source="tightened.yaml")


@pytest.fixture
def production(db_url, sample_files):
    """credit-risk 1.0: approved by rita and rob (Airflow sessions), then in production."""
    setup_version(sample_files)
    record_all()
    approve("rita")
    approve("rob")
    assert evaluate()["decision"] == "approved"
    with session_scope() as s:
        gate.promote(s, "credit-risk", "1.0", "admin")
    return sample_files


def test_impact_lists_the_production_model_a_tighter_policy_rejects(production):
    with session_scope() as s:
        report = policy_impact(s, tightened())
    assert report["examined"] == 1
    [change] = report["changed"]
    assert (change["model"], change["version"], change["stage"]) == ("credit-risk", "1.0", "production")
    assert (change["before"], change["after"]) == ("approved", "pending_approval")
    assert change["approvals_no_longer_counted"] == ["rita", "rob"]
    assert [r["code"] for r in change["new_reasons"]] == ["approvals_missing"]
    assert report["newly_rejected_production"] == ["credit-risk 1.0"]
    # The active policy itself changes nothing.
    with session_scope() as s:
        assert policy_impact(s, load_policy())["changed"] == []


def test_apply_refuses_a_changed_policy_that_keeps_its_version(production):
    with pytest.raises(BadInputError, match="changed but keeps version"):
        admin_apply(tightened(keep_version=True))


def test_apply_signs_the_report_flags_and_alerts_until_retired(production):
    policy = tightened()
    row, changed = admin_apply(policy)
    assert changed
    with session_scope() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "policy.impact")).one()
        payload = json.loads(event.payload)
        flagged = s.scalars(select(AuditEvent).where(AuditEvent.action == "version.non_compliant")).one()
    stored = storage.read_bytes(payload["uri"])
    assert sha256_bytes(stored) == payload["sha256"]  # the trail signs the report's content
    assert json.loads(stored)["newly_rejected_production"] == ["credit-risk 1.0"]
    assert flagged.subject == "version:credit-risk:1.0"
    assert json.loads(flagged.payload)["policy_version"] == "2099.1.1"

    with session_scope() as s:
        [item] = noncompliant_versions(s)
    assert (item["model"], item["since_policy"]) == ("credit-risk", "2099.1.1")
    assert item["grace_until"] > row.applied_at.isoformat()
    alerts = alert_noncompliant_owners(actor="airflow")
    assert alerts and all(a["problem"] == "nightly:policy-noncompliant" for a in alerts)
    with session_scope() as s:
        assert s.scalars(select(Alert.model_id)).first() is not None
        registry.transition_stage(s, model="credit-risk", version="1.0", to="archived", actor="admin")
    with session_scope() as s:
        assert noncompliant_versions(s) == []


def test_impact_of_many_versions_in_one_pass(production):
    """500 production/candidate versions (copies of the stored decision): each one examined once."""
    with session_scope() as s:
        source = s.scalars(select(ModelVersion)).one()
        decision = s.scalars(select(GateDecision)).all()[-1]
        for i in range(499):
            copy = ModelVersion(
                **{
                    c.name: getattr(source, c.name)
                    for c in ModelVersion.__table__.columns
                    if c.name not in ("id", "version", "stage")
                },
                version=f"copy-{i}",
                stage="candidate",
            )
            s.add(copy)
            s.flush()
            s.add(
                GateDecision(
                    **{
                        c.name: getattr(decision, c.name)
                        for c in GateDecision.__table__.columns
                        if c.name not in ("id", "version_id")
                    },
                    version_id=copy.id,
                )
            )
    with session_scope() as s:
        report = policy_impact(s, tightened())
    assert report["examined"] == 500
    assert len(report["changed"]) == 500
    assert report["newly_rejected_production"] == ["credit-risk 1.0"]


def test_nightly_alerts_the_owner_until_re_approved(production, monkeypatch, tmp_path):
    from govflow.tasks import nightly

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # alerts look up connections: none here
    admin_apply(tightened())
    night = {"dag_id": "nightly_compliance", "run_id": "scheduled__1", "trigger_kind": "schedule"}
    target = {"model": "credit-risk", "version": "1.0", "tier": "high"}
    audit = nightly.verify_audit()
    summary = nightly.summarize(night, [target], audit)
    assert summary["models"][0]["problems"] == ["nightly:policy-noncompliant"]
    # Re-evaluated every night under the active policy until it would approve the version again.
    admin_apply(tightened("2099.1.2"))  # still tight: still non-compliant
    assert nightly.summarize(night, [target], audit)["models"][0]["problems"] == [
        "nightly:policy-noncompliant"
    ]
    relaxed = parse_policy(
        load_policy().text.replace(f'version: "{load_policy().version}"', 'version: "2099.1.3"'),
        source="relaxed.yaml",
    )
    admin_apply(relaxed)
    assert nightly.summarize(night, [target], audit)["models"][0]["problems"] == []


def test_cli_policy_impact_lists_the_change(production, tmp_path, capsys):
    from tests._helpers import cli

    path = tmp_path / "tightened.yaml"
    path.write_text(tightened().text)
    code, out, _ = cli(capsys, "policy", "impact", str(path))
    assert code == 0
    assert "would change 1 of 1" in out
    assert "credit-risk 1.0 (production): approved -> pending_approval" in out
    assert "approval by rita no longer counts" in out
    code, out, _ = cli(capsys, "policy", "impact", str(path), "--json")
    assert json.loads(out)["newly_rejected_production"] == ["credit-risk 1.0"]
