"""Teams and scoped reviewers: a reviewer of one team can neither see nor approve another team's
models, through the service every adapter (CLI, Governance view, Airflow's answers) calls, and the
gate counts no out-of-team verdict. The team and the scope are signed facts: a DB writer who
re-teams a model or widens an approval's scope gets a closed gate, never an approval.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from govflow import store
from govflow.checks import CheckResult
from govflow.cli import main
from govflow.errors import PermissionDeniedError
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.service.signed_facts import UnsignedFactError
from govflow.store import Approval, GateDecision, session_scope
from govflow.tasks.gate import GateRef, eligible_reviewers
from tests._helpers import dev_mode_unless_production, passed_limited_version

ROLES = """
users:
  alice: {roles: [data_scientist], teams: [retail]}
  rita: {roles: [reviewer], teams: [retail]}
  carl: {roles: [reviewer], teams: [cards]}
  rob: {roles: [reviewer]}
"""


@pytest.fixture
def retail(db_url, sample_files, tmp_path, monkeypatch):
    """A limited-tier model of team retail with passing checks (one approval needed)."""
    dev_mode_unless_production(monkeypatch)
    roles = tmp_path / "roles.yaml"
    roles.write_text(ROLES)
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(roles))
    passed_limited_version(sample_files, "scorer", team=" retail ")
    return db_url


def _approve(who, verdict="approve"):
    with session_scope() as s:
        return gate.approve(s, "scorer", "1", who, verdict=verdict, comment="c", auth_method="airflow")


def _evaluate():
    with session_scope() as s:
        return gate.decision_to_dict(gate.evaluate_gate(s, "scorer", "1", "airflow"))


def _sql(url, statement):
    engine = store.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_an_out_of_team_reviewer_may_not_approve_reject_or_waive(retail):
    for verdict in ("approve", "reject"):
        with pytest.raises(PermissionDeniedError) as info:
            _approve("carl", verdict)
        assert str(info.value) == (
            f"permission denied: carl (reviewer of team cards) may not {verdict} scorer@1 (team retail)"
        )
    waiving = pytest.raises(PermissionDeniedError, match=r"carl \(reviewer of team cards\) may not waive")
    with waiving, session_scope() as s:
        gate.waive(s, "scorer", "1", "pii", "carl", reason="r", auth_method="airflow")
    with session_scope() as s:
        assert s.query(Approval).count() == 0  # nothing recorded
    assert _evaluate()["decision"] == "pending_approval"


def test_the_teams_reviewer_approves_and_the_scope_is_signed_with_it(retail):
    recorded = _approve("rita")
    assert recorded.row.scope_teams == ["retail"]
    decision = _evaluate()
    assert decision["decision"] == "approved" and decision["approvals"]["approved_by"] == ["rita"]
    with session_scope() as s:
        payload, model = (
            s.execute(text(f"SELECT payload FROM audit_events WHERE action = '{action}'")).scalar_one()
            for action in ("approval.recorded", "model.registered")
        )
    assert json.loads(payload)["teams"] == ["retail"] and json.loads(model)["team"] == "retail"


def test_unscoped_reviewers_approve_any_team(retail):
    _approve("rob")
    assert _evaluate()["approvals"]["approved_by"] == ["rob"]


def test_approval_requests_go_only_to_reviewers_covering_the_team(retail):
    ref = GateRef.of(
        {
            "model": "scorer",
            "version": "1",
            "tier": "limited",
            "run": {"dag_id": "g", "run_id": "r"},
            "submitted_by": "alice",
            "team": "retail",
        }
    )
    assert eligible_reviewers(ref) == ["rita", "rob"]
    assert eligible_reviewers(GateRef.of({**ref.to_dict(), "team": "cards"})) == ["carl", "rob"]


def test_a_db_writer_who_re_teams_a_model_gets_a_closed_gate(retail, capsys):
    _sql(retail, "UPDATE models SET team = 'cards' WHERE name = 'scorer'")
    # carl now passes the service's scope check (it reads the row) ...
    _approve("carl")
    # ... but the gate refuses to decide on a re-teamed model, so his approval buys nothing.
    with pytest.raises(UnsignedFactError, match=r"models #\d+ team 'cards' does not match its signed event"):
        _evaluate()
    capsys.readouterr()
    assert main(["audit", "verify", "--json"]) == 1
    assert "team 'cards'" in json.loads(capsys.readouterr().out)["problem"]


def test_a_db_writer_who_widens_an_approvals_scope_gets_a_closed_gate(retail):
    _approve("rita")
    _sql(retail, "UPDATE approvals SET scope_teams = NULL")
    with pytest.raises(UnsignedFactError, match=r"approvals #\d+ scope_teams None does not match"):
        _evaluate()


def test_the_cli_registers_a_team_and_refuses_an_out_of_team_approval(retail, capsys):
    assert main(["model", "register", "--name", "cards-limit", "--owner", "Cy", "--risk-tier", "limited",
                 "--team", "cards", "--as", "alice"]) == 0  # fmt: skip
    with session_scope() as s:
        assert registry.get_model(s, "cards-limit").team == "cards"
    capsys.readouterr()
    code = main(["approve", "--model", "scorer", "--version", "1", "--comment", "ok", "--as", "carl"])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.splitlines() == [
        "govflow: error: permission denied: carl (reviewer of team cards) "
        "may not approve scorer@1 (team retail)"
    ]


def test_where_the_bank_pack_asks_for_independence_the_owners_team_may_not_approve(retail, sample_files):
    from govflow.policy import load_policy, parse_policy

    base = load_policy()
    mrm = parse_policy(
        base.text.replace(
            f'version: "{base.version}"', 'version: "2099.1.1"\npacks: [model-risk-management]'
        ),
        source="mrm.yaml",
    )
    with session_scope() as s:
        registry.register_model(
            s, name="loans", owner="Bo", risk_tier="limited", actor="alice", team="retail", sector="finance"
        )
        registry.register_version(
            s,
            model="loans",
            version="1",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            eval_data=sample_files["eval"],
            actor="alice",
        )
        row = registry.get_version(s, "loans", "1")
        record_check_result(
            s,
            version=row,
            run=ensure_run(s, dag_id="governance_gate", run_id="run-loans"),
            result=CheckResult(check="validation", status="pass"),
            data_sha256=row.eval_data_sha256,
        )
    with pytest.raises(PermissionDeniedError) as info, session_scope() as s:
        gate.approve(s, "loans", "1", "rita", comment="ok", auth_method="airflow", policy=mrm)
    assert str(info.value) == (
        "permission denied: rita (reviewer of team retail) reviews for retail, the team that owns loans@1; "
        "Model risk management (SR 11-7 / OCC 2011-12) asks for an approver independent of it"
    )
    with session_scope() as s:  # rob, with no team scope, validates independently
        recorded = gate.approve(s, "loans", "1", "rob", comment="ok", auth_method="airflow", policy=mrm)
    assert recorded.preview.approved_by == ("rob",)  # counted (the checks still missing reject it)


def test_replay_holds_for_decisions_stored_before_teams_and_names_a_re_teamed_model(retail):
    _approve("rob")  # unscoped, as every approval before teams
    decision_id = _evaluate()["id"]
    with session_scope() as s:
        stored = s.get(GateDecision, decision_id)
        assert stored.inputs["version"]["team"] == "retail"
        # As a decision stored before teams and packs: no team, sector or regions in its inputs.
        version = {
            k: v for k, v in stored.inputs["version"].items() if k not in ("team", "sector", "regions")
        }
        stored.inputs = {**stored.inputs, "version": version}
    with session_scope() as s:
        assert gate.replay_decision(s, decision_id).same
    _sql(retail, "UPDATE models SET team = 'cards' WHERE name = 'scorer'")
    with session_scope() as s:
        assert gate.replay_decision(s, decision_id).same  # decided without a team: nothing to differ
    with session_scope() as s:
        s.get(GateDecision, decision_id).inputs = {**s.get(GateDecision, decision_id).inputs, "version": {
            **version, "team": "retail"}}  # fmt: skip
    with session_scope() as s:
        assert gate.replay_decision(s, decision_id).differences == (
            "the version's registered data hashes, submitter or team differ from the stored ones",
        )


def test_where_the_policy_names_the_dpo_only_the_dpo_signs_off_a_pii_waiver(retail, tmp_path, monkeypatch):
    from govflow.policy import load_policy, parse_policy

    base = load_policy()
    text = base.text.replace(f'version: "{base.version}"', 'version: "2099.1.2"')
    at = text.index("      count: 1\n", text.index("  limited:"))  # the limited tier's approvals
    dpo_policy = parse_policy(
        text[:at] + "      check_waiver_roles: {pii: [dpo]}\n" + text[at:], source="dpo.yaml"
    )
    assert dpo_policy.tier("limited").approvals.check_waiver_roles == {"pii": ["dpo"]}
    (tmp_path / "roles.yaml").write_text(ROLES + "  dana: {roles: [dpo], teams: [retail]}\n")
    with session_scope() as s:
        row = registry.get_version(s, "scorer", "1")
        record_check_result(
            s,
            version=row,
            run=ensure_run(s, dag_id="governance_gate", run_id="run-2"),
            result=CheckResult(check="pii", status="fail", summary={"columns_with_pii": ["email"]}),
            data_sha256=row.eval_data_sha256,
        )
    refused = pytest.raises(PermissionDeniedError, match=r"rita \(reviewer of team retail\) may not waive")
    with refused, session_scope() as s:
        gate.waive(s, "scorer", "1", "pii", "rita", reason="r", auth_method="airflow", policy=dpo_policy)
    with session_scope() as s:
        recorded = gate.waive(
            s, "scorer", "1", "pii", "dana", reason="hashed", auth_method="airflow", policy=dpo_policy
        )
        assert (recorded.row.role, recorded.row.scope_teams) == ("dpo", ["retail"])
        assert not any(r.check == "pii" for r in recorded.preview.reasons)  # the DPO's waiver applies


def test_where_a_pack_asks_for_independence_the_owners_team_is_not_asked(retail, monkeypatch):
    from govflow.policy import load_policy, parse_policy

    base = load_policy()
    mrm = parse_policy(
        base.text.replace(
            f'version: "{base.version}"', 'version: "2099.1.3"\npacks: [model-risk-management]'
        ),
        source="mrm.yaml",
    )
    monkeypatch.setattr("govflow.tasks.gate.load_policy", lambda: mrm)
    bank = {"model": "m", "version": "1", "tier": "limited", "run": {"dag_id": "g", "run_id": "r"}}
    bank |= {"submitted_by": "alice", "team": "retail", "sector": "finance", "regions": ["US"]}
    assert eligible_reviewers(GateRef.of(bank)) == ["rob"]  # rita reviews for retail: not independent
    assert eligible_reviewers(GateRef.of({**bank, "sector": "retail"})) == ["rita", "rob"]
