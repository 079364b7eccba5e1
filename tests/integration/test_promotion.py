"""Promotion rules on a real DB (SQLite and PostgreSQL): only an approved, current decision promotes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from govflow import config
from govflow.access import load_users
from govflow.checks import CheckResult
from govflow.errors import BadInputError, PermissionDeniedError
from govflow.policy import load_policy, parse_policy
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.gate import PromotionRefusedError
from govflow.service.policy import apply_policy
from govflow.service.runs import ensure_run
from govflow.store import AuditEvent, session_scope
from govflow.store.audit import verify_chain

ALL = ("validation", "pii", "fairness", "drift", "documentation")


def register(files, version):
    with session_scope() as s:
        if s.scalar(select(registry.Model.id).where(registry.Model.name == "credit-risk")) is None:
            registry.register_model(s, name="credit-risk", owner="Ana", risk_tier="high", actor="alice")
        registry.register_version(
            s,
            model="credit-risk",
            version=version,
            artifact=files["artifact"],
            training_data=files["training"],
            eval_data=files["eval"],
            actor="alice",
        )


def record_all(version, run="run-1", statuses=None):
    with session_scope() as s:
        row = registry.get_version(s, "credit-risk", version)
        for check in ALL:
            result = CheckResult(check=check, status=(statuses or {}).get(check, "pass"))
            record_check_result(
                s,
                version=row,
                run=ensure_run(s, dag_id="governance_gate", run_id=f"{run}-{version}"),
                result=result,
                data_sha256=None if check == "documentation" else row.eval_data_sha256,
            )


def approve_all(version, *who):
    for name in who:
        with session_scope() as s:
            gate.approve(s, "credit-risk", version, name, comment="ok", auth_method="airflow")


def evaluate(version, **kw):
    with session_scope() as s:
        return gate.evaluate_gate(s, "credit-risk", version, "airflow", **kw).decision


def promote(version, actor="admin", **kw):
    with session_scope() as s:
        row, decision = gate.promote(s, "credit-risk", version, actor, **kw)
        return row.stage, decision.id


def stage(version):
    with session_scope() as s:
        return registry.get_version(s, "credit-risk", version).stage


@pytest.fixture
def approved(db_url, sample_files):
    register(sample_files, "1.0")
    record_all("1.0")
    approve_all("1.0", "rita", "rob")
    assert evaluate("1.0") == "approved"
    return sample_files


def test_promotion_archives_the_previous_production_version(approved, sample_files):
    assert promote("1.0", actor="alice")[0] == "production"
    register(sample_files, "2.0")
    record_all("2.0")
    approve_all("2.0", "rita", "rob")
    assert evaluate("2.0") == "approved"
    assert promote("2.0", actor="rob")[0] == "production"
    assert (stage("1.0"), stage("2.0")) == ("archived", "production")
    with session_scope() as s:
        moves = [
            (e.actor, e.payload)
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "version.stage_changed")
                .order_by(AuditEvent.seq)
            )
        ]
        assert [m[0] for m in moves] == ["alice", "rob", "rob"]
        assert '"to":"archived"' in moves[1][1] and '"superseded_by":"2.0"' in moves[1][1]
        assert '"decision_id"' in moves[2][1]
        assert verify_chain(s).ok


def test_no_decision_no_promotion(db_url, sample_files):
    register(sample_files, "1.0")
    with pytest.raises(
        PromotionRefusedError, match=r"credit-risk@1.0 has no gate decision: run `govflow gate"
    ):
        promote("1.0")
    assert stage("1.0") == "candidate"


def test_pending_decision_does_not_promote(db_url, sample_files):
    register(sample_files, "1.0")
    record_all("1.0")
    approve_all("1.0", "rita")
    assert evaluate("1.0") == "pending_approval"
    with pytest.raises(PromotionRefusedError) as info:
        promote("1.0")
    assert str(info.value).endswith(
        "is pending_approval: approvals: 1 of 2 required from role reviewer or admin on the current evidence"
    )
    assert info.value.exit_code == 1


def test_rejected_decision_does_not_promote(db_url, sample_files):
    register(sample_files, "1.0")
    record_all("1.0", statuses={"drift": "fail"})
    approve_all("1.0", "rita", "rob")
    assert evaluate("1.0") == "rejected"
    with pytest.raises(PromotionRefusedError, match=r"is rejected: drift: evidence \d+ has status fail"):
        promote("1.0")


def test_decision_that_is_no_longer_current_does_not_promote(approved):
    record_all("1.0", run="run-2", statuses={"pii": "warn"})  # new evidence after the approved decision
    with pytest.raises(
        PromotionRefusedError,
        match=r"no longer current: the evidence changed; re-deciding now gives "
        r"pending_approval",
    ):
        promote("1.0")
    assert stage("1.0") == "candidate"


def test_a_later_rejection_makes_the_decision_stale(approved):
    with session_scope() as s:
        gate.approve(s, "credit-risk", "1.0", "rob", verdict="reject", comment="changed my mind: leakage")
    with pytest.raises(PromotionRefusedError, match="re-deciding now gives rejected: approvals: rob"):
        promote("1.0")


def test_a_policy_change_makes_the_decision_stale(approved):
    changed = parse_policy(load_policy().text.replace('version: "2026.12.1"', 'version: "2026.12.9"'))
    with session_scope() as s:  # an admin applies the new policy after the decision was taken
        apply_policy(s, changed, "admin", users=load_users(config.demo_roles_path()), auth_method="airflow")
    with pytest.raises(
        PromotionRefusedError, match=r"the policy changed \(sha256 [0-9a-f]{12} -> [0-9a-f]{12}\)"
    ):
        promote("1.0", policy=changed)


def test_evidence_that_went_stale_since_the_decision(approved):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)  # the high tier accepts 7-day-old evidence
    with pytest.raises(
        PromotionRefusedError,
        match=r"re-deciding now gives rejected: validation: evidence \d+ is 8 "
        r"days old",
    ):
        promote("1.0", now=later)


def test_viewer_may_not_promote_and_only_to_production(approved):
    with pytest.raises(PermissionDeniedError, match=r"vera \(viewer\) may not promote credit-risk@1.0"):
        promote("1.0", actor="vera")
    with pytest.raises(BadInputError, match="promote moves versions to production only"):
        promote("1.0", to="staging")
    assert stage("1.0") == "candidate"


def test_a_production_version_is_not_promoted_twice(approved):
    promote("1.0")
    from govflow.errors import ConflictError

    with pytest.raises(ConflictError, match="is production: it cannot move to production"):
        promote("1.0")
