"""CLI contract of gate, gate replay, approve, waive and promote: JSON, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from govflow.checks import CheckResult
from govflow.cli import main
from govflow.service import registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import session_scope
from tests._helpers import sqlite_only

VERSION = ["--model", "credit-risk", "--version", "1.0"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, _err = run(capsys, *argv, "--json")
    assert out.count("\n") == 1, out  # exactly one JSON object
    return code, json.loads(out)


@pytest.fixture
def version(db_url, sample_files, capsys):
    assert (
        run(
            capsys,
            "model",
            "register",
            "--name",
            "credit-risk",
            "--owner",
            "Ana",
            "--risk-tier",
            "high",
            "--region",
            "EU",
            "--as",
            "alice",
        )[0]
        == 0
    )
    assert (
        run(
            capsys,
            "version",
            "register",
            *VERSION,
            "--artifact",
            str(sample_files["artifact"]),
            "--training-data",
            str(sample_files["training"]),
            "--eval-data",
            str(sample_files["eval"]),
            "--as",
            "alice",
        )[0]
        == 0
    )
    return sample_files


def record(statuses=None, run_id="run-1"):
    with session_scope() as s:
        row = registry.get_version(s, "credit-risk", "1.0")
        ids = {}
        for check in ("validation", "pii", "fairness", "drift", "documentation"):
            result = CheckResult(check=check, status=(statuses or {}).get(check, "pass"))
            ids[check] = record_check_result(
                s,
                version=row,
                run=ensure_run(s, dag_id="governance_gate", run_id=run_id),
                result=result,
                data_sha256=None if check == "documentation" else row.training_data_sha256,
            ).id
        return ids


def approve_in_airflow(reviewer: str, comment: str) -> dict:
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    client = TestClient(create_app(user_dependency=lambda: reviewer))
    answer = client.post(
        "/api/models/credit-risk/versions/1.0/approvals", json={"verdict": "approve", "comment": comment}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_walk_from_candidate_through_pending_to_production(version, capsys):
    record()
    code, decision = run_json(capsys, "gate", *VERSION)
    assert (code, decision["decision"]) == (1, "pending_approval")
    assert decision["reasons"][0]["code"] == "approvals_missing"

    # A direct-DB (--as) approval cannot count for the high tier: refused up front, naming what counts
    # (dev mode on SQLite; on PostgreSQL, a production deployment, --as is the OS account)...
    code, _out, err = run(capsys, "approve", *VERSION, "--as", "rita", "--comment", "evidence reviewed")
    counted = "the high tier counts approvals authenticated by airflow or api-token, not "
    assert code == 2 and (f"{counted}dev" in err or f"{counted}os" in err)
    assert "`govflow approve --model credit-risk --version 1.0 --api`" in err
    assert "govflow approve --model M --version V --api" in decision["reasons"][0]["fix"]
    # ...reviewers approve as Airflow's auth manager proves them (the Governance API).
    assert approve_in_airflow("rita", "evidence reviewed")["gate_preview"]["decision"] == "pending_approval"
    assert approve_in_airflow("rob", "ok")["gate_preview"]["decision"] == "approved"

    code, refused = run_json(capsys, "promote", *VERSION, "--to", "production", "--as", "admin")
    assert code == 1 and refused["promoted"] is False  # the stored decision is still the pending one
    assert refused["reason"].startswith(
        f"the latest gate decision ({decision['id']}) for credit-risk@1.0 is pending_approval"
    )

    code, decision = run_json(capsys, "gate", *VERSION)
    assert (code, decision["decision"], decision["approvals"]["approved_by"]) == (
        0,
        "approved",
        ["rita", "rob"],
    )
    code, promoted = run_json(capsys, "promote", *VERSION, "--to", "production", "--as", "admin")
    assert code == 0 and promoted == {
        "model": "credit-risk",
        "version": "1.0",
        "promoted": True,
        "stage": "production",
        "decision_id": decision["id"],
        "archived": None,
        "promoted_by": "admin",
    }

    code, report = run_json(capsys, "gate", "replay", str(decision["id"]))
    assert (code, report["same"], report["differences"]) == (0, True, [])
    code, _out, _ = run(capsys, "audit", "verify")
    assert code == 0


def test_viewer_approving_exits_1_with_a_clear_message(version, capsys):
    record()
    code, out, err = run(capsys, "approve", *VERSION, "--as", "vera", "--comment", "lgtm")
    assert (code, out) == (1, "")
    assert err == (
        "govflow: error: permission denied: vera (viewer) may not approve credit-risk@1.0 (high tier); "
        "needs role reviewer or admin\n"
    )


@sqlite_only
def test_actor_from_environment_else_the_os_user(version, capsys, monkeypatch):
    record()
    # Without --as the actor is the OS user, who holds no govflow role here.
    code, _out, err = run(capsys, "approve", *VERSION, "--comment", "x")
    assert code == 1 and "permission denied: unknown user" in err
    monkeypatch.setenv(
        "GOVFLOW_USER", "rita"
    )  # a known reviewer now, whose OS identity the tier does not count
    code, _out, err = run(capsys, "approve", *VERSION, "--comment", "x")
    assert code == 2 and "approval refused" in err and "not dev" in err


def test_submitter_approving_exits_1(version, capsys, tmp_path, monkeypatch):
    record()
    users = tmp_path / "users.yaml"
    users.write_text("users:\n  alice: {roles: [data_scientist, reviewer]}\n")
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(users))
    code, _, err = run(capsys, "approve", *VERSION, "--as", "alice", "--comment", "mine")
    assert code == 1 and "separation of duties" in err


def test_reject_and_waive(version, capsys):
    record({"fairness": "fail"})
    code, decision = run_json(capsys, "gate", *VERSION)
    assert code == 1 and decision["decision"] == "rejected"
    # A waiver is a governance change: the direct-DB CLI's dev-mode (or OS) identity is refused.
    code, _out, err = run(capsys, "waive", *VERSION, "--check", "fairness", "--as", "rob", "--reason", "gap")
    assert code == 1 and "a waiver needs an identity proven by Airflow" in err
    code, _out, err = run(capsys, "waive", *VERSION, "--check", "fairness", "--as", "vera", "--reason", "x")
    assert code == 1 and "permission denied" in err
    code, approval = run_json(
        capsys, "approve", *VERSION, "--as", "rita", "--reject", "--comment", "needs mitigation"
    )
    assert approval["verdict"] == "reject" and approval["gate_preview"]["decision"] == "rejected"
    code, decision = run_json(capsys, "gate", *VERSION)
    assert code == 1 and decision["waived"] == []
    assert "approvals: rita (reviewer) rejected this evidence: needs mitigation" in [
        r["message"] for r in decision["reasons"]
    ]


def test_gate_human_output(version, capsys):
    record({"drift": "warn"})
    code, out, err = run(capsys, "gate", *VERSION)
    lines = out.splitlines()
    assert code == 1 and err == ""
    assert lines[0].startswith("gate decision 1 for credit-risk@1.0 (high tier, policy 2026.12.1 ")
    assert lines[0].endswith("): pending_approval")
    assert lines[1] == "  - approvals: 0 of 2 required from role reviewer or admin on the current evidence"
    assert lines[2].startswith("  note: drift: warn (evidence ")


def test_replay_exits_1_on_any_difference(version, capsys):
    ids = record()
    code, decision = run_json(capsys, "gate", *VERSION)
    code, out, _ = run(capsys, "gate", "replay", str(decision["id"]))
    assert (code, out) == (0, f"decision {decision['id']} replays identically: pending_approval\n")
    with session_scope() as s:
        s.execute(
            text("UPDATE check_results SET data_sha256 = :h WHERE id = :id"),
            {"h": "0" * 64, "id": ids["drift"]},
        )
    code, report = run_json(capsys, "gate", "--json", "replay", str(decision["id"]))  # --json on either side
    assert code == 1 and not report["same"]
    assert report["replayed"]["decision"] == "rejected"
    assert any(
        d.startswith(f"evidence {ids['drift']} changed since the decision: data_sha256 ")
        for d in report["differences"]
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["gate"], "govflow gate: --model and --version are required (or: govflow gate replay DECISION_ID)"),
        (["gate", "--model", "credit-risk"], "--model and --version are required"),
        (["gate", "replay", "abc"], "invalid decision id 'abc': expected a number"),
        (["gate", "replay", "77"], "unknown gate decision 77"),
        (["gate", "--model", "credit-risk", "replay", "1"], "takes a DECISION_ID, not --model/--version"),
        (["gate", "--model", "ghost", "--version", "1"], "unknown model 'ghost'"),
        (["approve", *VERSION, "--as", "rita"], "required: --comment"),
        (["approve", *VERSION, "--as", "rita", "--reject", "--comment", " "], "a rejection needs a comment"),
        (["waive", *VERSION, "--check", "speed", "--as", "rob", "--reason", "x"], "unknown check 'speed'"),
        (
            ["promote", *VERSION, "--to", "staging", "--as", "admin"],
            "promote moves versions to production only",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(version, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_promotion_refused_exits_1(version, capsys):
    code, out, err = run(capsys, "promote", *VERSION, "--to", "production", "--as", "admin")
    assert (code, out) == (1, "")
    assert err == (
        "govflow: error: credit-risk@1.0 has no gate decision: run `govflow gate --model credit-risk "
        "--version 1.0` first\n"
    )
