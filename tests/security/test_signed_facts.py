"""Attack: write the governance DB (the service role can) so the gate reads facts it never signed.

Before, the gate read its facts straight from the rows: `UPDATE models SET
risk_tier='minimal'` took a high-risk version from pending to approved,
`UPDATE check_results SET status='pass'` turned a rejection into an approval,
`UPDATE approvals SET auth_method='airflow'` made two dev-mode approvals count,
deleting a reviewer's rejection row (or the events after the newest checkpoint)
sent the gate back to pending, and `audit verify` said "intact". Now every fact
is checked against its signed event before the gate decides and before a
promotion (failing closed with a reason naming the row and field), and `audit
verify` reports the same problems.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text

from govflow import config, data, store
from govflow.cli import main
from govflow.policy import load_policy
from govflow.service import gate, registry
from govflow.service.gate import PromotionRefusedError, UnsignedFactError
from govflow.service.gate_inputs import gather_inputs
from govflow.store import AuditEvent, CheckResultRow, session_scope
from govflow.store.seals import HEAD_NAME, checkpoint_root
from tests._helpers import checked_version

MODEL, VERSION = "credit-risk", "1.0"
DEFAULT = data.default_policy()


@pytest.fixture(autouse=True)
def dev_mode(monkeypatch):
    monkeypatch.setenv("GOVFLOW_DEV_MODE", "1")  # the service calls name the bundled demo users


def _sql(url: str, *statements: str, params: dict | None = None) -> None:
    """What a DB writer does: plain SQL, the append-only triggers switched off where it touches events."""
    engine = store.make_engine(url)
    with engine.begin() as conn:
        if any("audit_events" in s for s in statements):
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
            else:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for statement in statements:
            conn.execute(text(statement), params or {})
    engine.dispose()


def _approve(approver: str, verdict: str = "approve", auth: str = "airflow") -> None:
    with session_scope() as s:
        gate.approve(s, MODEL, VERSION, approver, verdict=verdict, comment="looked at it", auth_method=auth)


def _decide(policy_path=DEFAULT) -> str:
    with session_scope() as s:
        return gate.evaluate_gate(
            s, MODEL, VERSION, "airflow", auth_method="system", policy=load_policy(policy_path)
        ).decision


def _result_id(check: str) -> int:
    with session_scope() as s:
        return s.scalar(select(CheckResultRow.id).where(CheckResultRow.check == check))


def _verify(capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["audit", "verify", "--json"])
    return code, json.loads(capsys.readouterr().out)


def _forge_approved_decision(url: str) -> None:
    """A DB writer's shortcut to `promote`: an approved decision row on the current evidence."""
    with session_scope() as s:
        row = registry.get_version(s, MODEL, VERSION)
        digest = gather_inputs(s, row).digest
        sha = s.execute(text("SELECT sha256 FROM policies WHERE active")).scalar_one()
    _sql(
        url,
        "INSERT INTO gate_decisions (version_id, target_stage, decision, reasons, policy_sha256, "
        "evidence_ids, evidence_digest, inputs, documents, decided_by, decided_at) VALUES "
        "(:v, 'production', 'approved', '[]', :sha, '[]', :digest, '{}', '[]', 'airflow', CURRENT_TIMESTAMP)",
        params={"v": row.id, "sha": sha, "digest": digest},
    )


def _relaxed(tmp_path):
    """The default policy, same version string, but the high tier needs no approval."""
    text_ = DEFAULT.read_text()
    relaxed = re.sub(r"(  high:\n(?:.*\n)*?    approvals:\n      count: )2", r"\g<1>0", text_, count=1)
    assert relaxed != text_
    path = tmp_path / "relaxed.yaml"
    path.write_text(relaxed)
    return path


@dataclass(frozen=True)
class Attack:
    """``setup`` runs through govflow; ``sql(url, tmp_path)`` is the DB writer's part; the gate's
    refusal must match ``reason`` (a regex) and `audit verify` must name a row starting ``where``."""

    setup: Callable[[], None]
    sql: Callable[[str], list[str]]
    reason: str
    where: str
    policy: bool = False  # the gate is then given the relaxed policy the DB now names
    verify_reason: str | None = None  # what `audit verify` says, when not ``reason``


def _nothing() -> None:
    pass


def _dev_approvals() -> None:
    # A dev approval is refused before it is recorded now; an API-token one is signed as such.
    _approve("rita", auth="api-token")
    _approve("rob", auth="api-token")


def _one_approval_one_rejection() -> None:
    _approve("rita")
    _approve("rob", verdict="reject")


def _waiver() -> None:
    # Waivers need an identity Airflow proved (a dev/os waiver is refused before any row exists).
    with session_scope() as s:
        gate.waive(s, MODEL, VERSION, "fairness", "rita", reason="known gap", auth_method="airflow")


ATTACKS = {
    "tier": Attack(
        _nothing,
        lambda url: ["UPDATE models SET risk_tier = 'minimal'"],
        r"models #\d+ risk_tier 'minimal' does not match its signed event \(#\d+: 'high'\)",
        "models ",
    ),
    "regions": Attack(
        _nothing,
        lambda url: ["UPDATE models SET regions = '[\"US\"]'"],
        r"models #\d+ regions \['US'\] does not match its signed event",
        "models ",
    ),
    "check status": Attack(
        _nothing,
        lambda url: [f"UPDATE check_results SET status = 'pass' WHERE id = {_result_id('fairness')}"],
        r"check_results #\d+ status 'pass' does not match its signed event \(#\d+: 'fail'\)",
        "check_results ",
    ),
    "check freshness": Attack(
        _nothing,
        lambda url: ["UPDATE check_results SET created_at = '2031-01-01 00:00:00'"],
        r"check_results #\d+ created_at '2031-01-01T00:00:00.000000\+00:00' does not match its signed event",
        "check_results ",
    ),
    "evidence sha256 swap": Attack(
        _nothing,
        lambda url: [
            "UPDATE check_results SET evidence_sha256 = (SELECT evidence_sha256 FROM check_results "
            f"WHERE id = {_result_id('pii')}), evidence_uri = (SELECT evidence_uri FROM check_results "
            f"WHERE id = {_result_id('pii')}) WHERE id = {_result_id('fairness')}"
        ],
        r"check_results #\d+ evidence_sha256 '[0-9a-f]{64}' does not match its signed event",
        "check_results ",
    ),
    "registered data hash": Attack(
        _nothing,
        lambda url: [f"UPDATE model_versions SET training_data_sha256 = '{'ab' * 32}'"],
        rf"model_versions version:{MODEL}@{VERSION} training_data_sha256 '(ab)+' does not match",
        "model_versions ",
    ),
    "approval auth method": Attack(
        _dev_approvals,
        lambda url: ["UPDATE approvals SET auth_method = 'airflow'"],
        r"approvals #\d+ auth_method 'airflow' does not match its signed event \(#\d+: 'api-token'\)",
        "approvals ",
    ),
    "approval verdict": Attack(
        _one_approval_one_rejection,
        lambda url: ["UPDATE approvals SET verdict = 'approve'"],
        r"approvals #\d+ verdict 'approve' does not match its signed event \(#\d+: 'reject'\)",
        "approvals ",
    ),
    "forged approval row": Attack(
        _dev_approvals,
        lambda url: [
            "INSERT INTO approvals (version_id, approver, role, verdict, evidence_digest, auth_method, "
            "created_at) SELECT version_id, 'admin', 'admin', 'approve', evidence_digest, 'airflow', "
            "created_at FROM approvals WHERE approver = 'rita'"
        ],
        r"approvals #\d+ has no signed event for version:credit-risk@1.0: written around govflow",
        "approvals ",
    ),
    "deleted rejection": Attack(
        _one_approval_one_rejection,
        lambda url: ["DELETE FROM approvals WHERE verdict = 'reject'"],
        r"approvals #\d+ is gone, but signed event #\d+ recorded it \(reject by rob, "
        r"version:credit-risk@1.0\): deleted from the DB",
        "approvals ",
    ),
    "deleted check result": Attack(
        _nothing,
        lambda url: [f"DELETE FROM check_results WHERE id = {_result_id('fairness')}"],
        r"check_results #\d+ is gone, but signed event #\d+ recorded it \(fairness fail, "
        r"version:credit-risk@1.0\): deleted from the DB",
        "check_results ",
    ),
    "deleted decision row": Attack(
        _nothing,
        lambda url: ["DELETE FROM gate_decisions"],
        r"gate_decisions #\d+ is gone, but signed event #\d+ recorded it \(rejected by airflow",
        "gate_decisions ",
        # SQLite reuses the id for the forged row: verify then finds it differing from the event.
        verify_reason=r"gate_decisions #\d+ (is gone|decision 'approved' does not match)",
    ),
    "waiver author": Attack(
        _waiver,
        lambda url: ["UPDATE waivers SET waived_by = 'rob'"],
        r"waivers #\d+ waived_by 'rob' does not match its signed event \(#\d+: 'rita'\)",
        "waivers ",
    ),
    "waiver moved to another result": Attack(
        _waiver,
        lambda url: [f"UPDATE waivers SET check_result_id = {_result_id('pii')}"],
        r"waivers #\d+ check_result_id \d+ does not match its signed event",
        "waivers ",
    ),
    "active policy row": Attack(
        _nothing,
        lambda url: ["UPDATE policies SET sha256 = :relaxed_sha, text = :relaxed_text WHERE active"],
        r"policies [0-9a-f]{12} is active but no signed policy.applied event made it so",
        "policies ",
        policy=True,
    ),
}


@pytest.fixture
def fairness_failed(db_url, sample_files):
    """High risk `credit-risk@1.0`: every check recorded, fairness failed; the gate rejected it once."""
    checked_version(sample_files, {"fairness": "fail"})
    assert _decide() == "rejected"
    return db_url


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_db_write_never_decides(name, fairness_failed, tmp_path, capsys):
    attack = ATTACKS[name]
    attack.setup()
    policy_path, params = DEFAULT, {}
    if attack.policy:
        policy_path = _relaxed(tmp_path)
        relaxed = load_policy(policy_path)
        params = {"relaxed_sha": relaxed.sha256, "relaxed_text": relaxed.text}
    _sql(fairness_failed, *attack.sql(fairness_failed), params=params)
    with session_scope() as s:
        decisions_before = s.scalar(text("SELECT count(*) FROM gate_decisions"))

    with pytest.raises(UnsignedFactError, match=attack.reason) as refused:
        _decide(policy_path)
    assert str(refused.value).startswith(f"the gate refuses to decide {MODEL}@{VERSION}: ")
    with session_scope() as s:
        assert s.scalar(text("SELECT count(*) FROM gate_decisions")) == decisions_before  # nothing stored

    _forge_approved_decision(fairness_failed)  # even with an approved decision row, no promotion
    with pytest.raises((UnsignedFactError, PromotionRefusedError)), session_scope() as s:
        gate.promote(s, MODEL, VERSION, "rita", policy=load_policy(policy_path))
    with session_scope() as s:
        assert registry.get_version(s, MODEL, VERSION).stage == "candidate"

    code, report = _verify(capsys)
    assert code == 1
    locations = [p["location"] for p in report["checkpoint_problems"]]
    assert any(loc.startswith(attack.where) for loc in locations), report
    expected = attack.verify_reason or attack.reason
    assert any(re.search(expected, p["problem"]) for p in report["checkpoint_problems"]), report


def test_the_honest_path_still_approves_promotes_and_verifies(db_url, sample_files, capsys):
    checked_version(sample_files)
    assert _decide() == "pending_approval"
    _approve("rita")
    _approve("rob")
    assert _decide() == "approved"
    with session_scope() as s:
        promoted, _ = gate.promote(s, MODEL, VERSION, "rita", policy=load_policy(DEFAULT))
        assert promoted.stage == "production"
    code, report = _verify(capsys)
    assert code == 0, report
    assert report["checkpoints_checked"] >= 1  # the seals written after each decision


def test_a_cut_tail_after_the_newest_checkpoint_is_refused(fairness_failed, capsys):
    """Item 6: the reviewer's rejection and its event deleted, the newest events of the trail."""
    with session_scope() as s:
        before = s.scalar(select(func.max(AuditEvent.seq)))
    _approve("rita")
    _approve("rob", verdict="reject")  # its commit seals the trail at its event
    _sql(
        fairness_failed,
        "DELETE FROM approvals WHERE verdict = 'reject'",
        f"DELETE FROM audit_events WHERE seq > {before + 1}",
    )
    with pytest.raises(
        UnsignedFactError,
        match=rf"signed event #{before + 2}, the newest sealed fact about version:{MODEL}@{VERSION}, is gone",
    ):
        _decide()
    code, report = _verify(capsys)
    assert code == 1 and report["first_broken_seq"] == before + 2
    assert "were deleted" in report["problem"]


def test_a_deleted_decision_is_refused(fairness_failed, capsys):
    """A rejected decision removed with its event at the tail of the trail: the seal still names it."""
    with session_scope() as s:
        last = s.scalar(select(func.max(AuditEvent.seq)))
        assert s.get(AuditEvent, last).action == "gate.evaluated"
    _sql(fairness_failed, "DELETE FROM gate_decisions", f"DELETE FROM audit_events WHERE seq = {last}")
    with pytest.raises(
        UnsignedFactError, match=rf"signed event #{last}, the newest sealed fact about version:"
    ):
        _decide()
    assert _verify(capsys)[0] == 1


def test_a_deleted_event_mid_trail_is_refused(fairness_failed, capsys):
    """A rejection and its event deleted from the middle of the trail: a seq is missing."""
    _approve("rob", verdict="reject")
    _approve("rita")
    with session_scope() as s:
        seq = s.scalar(select(AuditEvent.seq).where(AuditEvent.action == "approval.recorded").limit(1))
    _sql(
        fairness_failed,
        "DELETE FROM approvals WHERE verdict = 'reject'",
        f"DELETE FROM audit_events WHERE seq = {seq}",
    )
    with pytest.raises(
        UnsignedFactError,
        match=rf"signed event #{seq + 1} \(approval.recorded\) follows #{seq} about "
        rf"version:{MODEL}@{VERSION}, which is gone from the trail: deleted from the DB",
    ):
        _decide()
    assert _verify(capsys)[0] == 1


def test_a_cut_tail_about_another_version_is_refused_too(fairness_failed, sample_files, capsys):
    """The newest events of the whole trail (another model's rejection) cut: head.json names them."""
    with session_scope() as s:
        registry.register_model(s, name="other", owner="Ana", risk_tier="minimal", actor="alice")
        registry.register_version(
            s,
            model="other",
            version="1",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
    with session_scope() as s:
        registry.transition_stage(s, model="other", version="1", to="rejected", actor="rita", reason="no")
        last = s.scalar(select(func.max(AuditEvent.seq)))
    _sql(
        fairness_failed,
        f"DELETE FROM audit_events WHERE seq = {last}",
        "UPDATE model_versions SET stage = 'candidate' WHERE version = '1'",
    )
    with pytest.raises(
        UnsignedFactError,
        match=rf"the newest audit seal is of seq {last} but the trail ends at seq {last - 1}",
    ):
        _decide()
    assert _verify(capsys)[0] == 1


def test_a_rewritten_evidence_document_is_refused(fairness_failed):
    """The content-addressed evidence re-read before deciding must still hash to its signed sha256."""
    with session_scope() as s:
        row = s.get(CheckResultRow, _result_id("fairness"))
        uri = row.evidence_uri
    with open(uri, "rb") as handle:
        document = json.loads(handle.read())
    document["status"] = "pass"
    with open(uri, "w") as handle:
        handle.write(json.dumps(document))
    with pytest.raises(UnsignedFactError, match=r"check_results #\d+ evidence document .* does not match"):
        _decide()


def test_a_result_moved_from_another_version_is_refused(fairness_failed, sample_files):
    """A passing fairness result of version 2.0 re-pointed at 1.0 (the newest of 1.0's counts)."""
    from govflow.checks import CheckResult
    from govflow.service.checks import record_check_result
    from govflow.service.runs import ensure_run

    with session_scope() as s:
        row = registry.register_version(
            s,
            model=MODEL,
            version="2.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="r2")
        moved = record_check_result(
            s,
            version=row,
            run=run,
            data_sha256=row.training_data_sha256,
            result=CheckResult(check="fairness", status="pass", summary={}),
        ).id
        target = registry.get_version(s, MODEL, VERSION).id
    _sql(fairness_failed, f"UPDATE check_results SET version_id = {target} WHERE id = {moved}")
    with pytest.raises(UnsignedFactError, match=rf"check_results #{moved} has no signed event for version:"):
        _decide()


def test_every_decision_writes_a_seal_outside_the_db(fairness_failed):
    head = json.loads((config.home() / "artifacts" / "audit-checkpoints" / HEAD_NAME).read_text())
    assert checkpoint_root().endswith("audit-checkpoints")
    with session_scope() as s:
        last = s.scalar(select(func.max(AuditEvent.seq)))
        assert head["seq"] == last and head["head_hash"] == s.get(AuditEvent, last).hash
