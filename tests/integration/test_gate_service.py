"""Gate use cases on a real DB (SQLite and PostgreSQL): evaluate, approve, waive, replay, access rules."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from govflow.access import Directory
from govflow.checks import CheckResult
from govflow.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import AuditEvent, GateDecision, session_scope
from govflow.store.audit import verify_chain

ALL = ("validation", "pii", "fairness", "drift", "documentation")


def setup_version(files, *, name="credit-risk", tier="high", version="1.0", submitter="alice"):
    with session_scope() as s:
        if s.scalar(select(registry.Model.id).where(registry.Model.name == name)) is None:
            registry.register_model(
                s, name=name, owner="Ana", risk_tier=tier, actor=submitter, regions=["EU"]
            )
        registry.register_version(
            s,
            model=name,
            version=version,
            artifact=files["artifact"],
            training_data=files["training"],
            reference_data=files["reference"],
            eval_data=files["eval"],
            actor=submitter,
        )


def record(check, status="pass", *, name="credit-risk", version="1.0", run="run-1", data="registered"):
    """Record a check result through the store's API; returns its id."""
    with session_scope() as s:
        row = registry.get_version(s, name, version)
        data_sha = {"registered": row.training_data_sha256, "other": "f" * 64}.get(data, data)
        if check == "documentation" and data == "registered":
            data_sha = None
        result = CheckResult(
            check=check,
            status=status,
            summary={"status": status},
            errors=["bad input"] if status == "error" else [],
        )
        stored = record_check_result(
            s,
            version=row,
            run=ensure_run(s, dag_id="governance_gate", run_id=run),
            result=result,
            data_sha256=data_sha,
        )
        return stored.id


def record_all(statuses=None, **kw):
    statuses = statuses or {}
    return {check: record(check, statuses.get(check, "pass"), **kw) for check in ALL}


def evaluate(name="credit-risk", version="1.0", actor="airflow"):
    with session_scope() as s:
        row = gate.evaluate_gate(s, name, version, actor)
        return gate.decision_to_dict(row)


def approve(actor, verdict="approve", comment="looks fine", users=None, version="1.0"):
    with session_scope() as s:
        # As Airflow's auth manager would have proven it (the high tier counts no other approval).
        return gate.approve(
            s,
            "credit-risk",
            version,
            actor,
            verdict=verdict,
            comment=comment,
            users=users,
            auth_method="airflow",
        ).preview


@pytest.fixture
def high(db_url, sample_files):
    setup_version(sample_files)
    return sample_files


def test_decision_is_stored_with_policy_sha_and_evidence_ids(high):
    ids = record_all()
    decision = evaluate()
    assert decision["decision"] == "pending_approval"
    assert [r["code"] for r in decision["reasons"]] == ["approvals_missing"]
    assert sorted(decision["evidence_ids"]) == sorted(ids.values())
    from govflow.policy import load_policy

    assert decision["policy_sha256"] == load_policy().sha256
    assert decision["approvals"] == {"required": 2, "approved_by": []}
    with session_scope() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "gate.evaluated")).one()
        assert event.actor == "airflow" and f'"decision_id":{decision["id"]}' in event.payload


def test_missing_failed_and_errored_evidence_reject(high):
    record("validation", "fail")
    record("pii", "error")
    record("drift", data="other")
    decision = evaluate()
    assert decision["decision"] == "rejected"
    assert [(r["code"], r["check"]) for r in decision["reasons"]] == [
        ("check_failed", "validation"),
        ("check_errored", "pii"),
        ("check_missing", "fairness"),
        ("evidence_data_mismatch", "drift"),
        ("check_missing", "documentation"),
        ("approvals_missing", None),
    ]


def test_two_reviewers_approve_then_gate_approves(high):
    record_all()
    assert approve("rita").decision == "pending_approval"
    assert approve("rob").decision == "approved"
    decision = evaluate()
    assert decision["decision"] == "approved" and decision["approvals"]["approved_by"] == ["rita", "rob"]


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        (
            "vera",
            "permission denied: vera (viewer) may not approve credit-risk@1.0 (high tier); "
            "needs role reviewer or admin",
        ),
        (
            "dave",
            "permission denied: dave (data_scientist) may not approve credit-risk@1.0 (high tier); "
            "needs role reviewer or admin",
        ),
        ("mallory", "permission denied: unknown user 'mallory'"),
    ],
)
def test_who_may_not_approve(high, actor, message):
    record_all()
    with pytest.raises(PermissionDeniedError) as info:
        approve(actor)
    assert str(info.value).startswith(message)
    with session_scope() as s:
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.action == "approval.recorded")) is None


def test_submitter_may_not_approve_even_as_reviewer(high):
    record_all()
    users = Directory.from_mapping({"alice": ["data_scientist", "reviewer"], "rob": ["reviewer"]})
    with pytest.raises(
        PermissionDeniedError,
        match=r"^permission denied: alice submitted credit-risk@1.0 and may "
        r"not approve it \(separation of duties\)$",
    ):
        approve("alice", users=users)


def test_rejection_needs_a_comment_and_rejects(high):
    record_all()
    with pytest.raises(BadInputError, match="a rejection needs a comment"):
        approve("rita", verdict="reject", comment="  ")
    approve("rita", verdict="reject", comment="target leakage in feature x")
    decision = evaluate()
    assert decision["decision"] == "rejected"
    assert decision["reasons"][0]["message"] == (
        "approvals: rita (reviewer) rejected this evidence: target leakage in feature x"
    )


def test_nothing_to_approve_without_evidence(high):
    with pytest.raises(ConflictError, match="has no check results yet: nothing to approve"):
        approve("rita")


def test_new_evidence_voids_earlier_approvals(high):
    record_all()
    approve("rita")
    approve("rob")
    assert evaluate()["decision"] == "approved"
    record("drift", run="run-2")  # a re-run: new evidence, new digest
    decision = evaluate()
    assert decision["decision"] == "pending_approval"
    assert sum("void: it was given on other evidence" in n for n in decision["notes"]) == 2


def test_waiver_of_a_failed_check_by_a_reviewer(high):
    ids = record_all({"fairness": "fail"})
    assert evaluate()["decision"] == "rejected"
    with session_scope() as s:
        recorded = gate.waive(
            s,
            "credit-risk",
            "1.0",
            "fairness",
            "rob",
            reason="gap is within the CI on 5k rows",
            auth_method="airflow",
        )
        assert recorded.row.check_result_id == ids["fairness"]
    approve("rita")
    approve("rob")
    decision = evaluate()
    assert decision["decision"] == "approved"
    assert decision["waived"] == [
        {
            "id": str(recorded.row.id),
            "check": "fairness",
            "evidence_id": str(ids["fairness"]),
            "waived_by": "rob",
            "role": "reviewer",
            "reason": "gap is within the CI on 5k rows",
            "auth_method": "airflow",
        }
    ]
    assert any(n.startswith("fairness: fail (evidence") and "waived by rob" in n for n in decision["notes"])
    # A re-run of the check is new evidence: the waiver does not carry over to it.
    record("fairness", "fail", run="run-2")
    assert [r["code"] for r in evaluate()["reasons"]][:1] == ["check_failed"]


@pytest.mark.parametrize(
    ("actor", "statuses", "reason", "error", "message"),
    [
        (
            "vera",
            {"fairness": "fail"},
            "ok",
            PermissionDeniedError,
            "permission denied: vera (viewer) may not waive checks of credit-risk@1.0 (high tier); "
            "needs role reviewer",
        ),
        ("admin", {"fairness": "fail"}, "ok", PermissionDeniedError, "admin (admin) may not waive checks"),
        ("rob", {"fairness": "fail"}, " ", BadInputError, "a waiver needs a reason"),
        ("rob", {"fairness": "error"}, "ok", ConflictError, "errored: an error cannot be waived"),
        ("rob", {}, "ok", ConflictError, "is pass: nothing to waive"),
    ],
)
def test_waiver_refusals(high, actor, statuses, reason, error, message):
    record_all(statuses)
    with session_scope() as s, pytest.raises(error, match=re.escape(message)):
        gate.waive(s, "credit-risk", "1.0", "fairness", actor, reason=reason, auth_method="airflow")


def test_replay_reproduces_the_decision(high):
    record_all({"fairness": "warn"})
    approve("rita")
    first = evaluate()
    with session_scope() as s:
        report = gate.replay_decision(s, first["id"])
    assert report.same, report.differences
    assert report.replayed["decision"] == "pending_approval"
    # Later evidence and approvals do not change how the stored decision replays.
    approve("rob")
    record("drift", run="run-2")
    with session_scope() as s:
        assert gate.replay_decision(s, first["id"]).same


def test_replay_names_tampered_inputs(high):
    ids = record_all()
    decision = evaluate()
    with session_scope() as s:
        s.execute(text("UPDATE check_results SET status = 'fail' WHERE id = :id"), {"id": ids["pii"]})
        s.execute(
            text("UPDATE gate_decisions SET decision = 'approved' WHERE id = :id"), {"id": decision["id"]}
        )
    with session_scope() as s:
        report = gate.replay_decision(s, decision["id"])
    assert not report.same
    assert f"evidence {ids['pii']} changed since the decision: status pass -> fail" in report.differences
    assert "decision: stored pending_approval, replayed rejected" in report.differences
    assert any(d.startswith("stored column decision (approved) differs") for d in report.differences)


def test_replay_of_unknown_decision(high):
    with session_scope() as s, pytest.raises(NotFoundError, match="unknown gate decision 999"):
        gate.replay_decision(s, 999)


def test_unacceptable_tier_is_always_rejected(db_url, sample_files):
    setup_version(sample_files, name="social-score", tier="unacceptable")
    record_all(name="social-score")
    decision = evaluate(name="social-score")
    assert decision["decision"] == "rejected"
    assert [r["code"] for r in decision["reasons"]] == ["tier_prohibited"]
    with session_scope() as s, pytest.raises(ConflictError, match="prohibited unacceptable risk tier"):
        gate.approve(s, "social-score", "1.0", "rita", comment="x")


def test_everything_is_audited_and_the_chain_holds(high):
    record_all({"fairness": "fail"})
    evaluate()
    with session_scope() as s:
        gate.waive(s, "credit-risk", "1.0", "fairness", "rob", reason="accepted", auth_method="airflow")
    approve("rita")
    with session_scope() as s:
        actions = [a for a in s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq))]
        assert actions[-3:] == ["gate.evaluated", "waiver.recorded", "approval.recorded"]
        assert verify_chain(s).ok
        assert s.scalar(select(GateDecision.decided_by)) == "airflow"
