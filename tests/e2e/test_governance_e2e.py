"""End to end on a real Airflow 3 (api-server, scheduler, dag-processor; LocalExecutor) with PostgreSQL
for both Airflow's and govflow's databases:

a training job runs `govflow submit --trigger --wait` for a high-risk model; two reviewers answer the
approval requests through Airflow's REST API; the version reaches production with its evidence,
decision, approvals and audit events; then nightly_compliance runs for it.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from govflow.access import os_user
from govflow.errors import PermissionDeniedError
from govflow.timeutil import utc
from tests.e2e.conftest import GOVFLOW, govflow

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

MODEL = "credit-e2e"


def test_high_risk_model_reaches_production_through_rest_approvals_then_nightly(
    airflow_stack, govflow_env, trained
):
    batches = Path(trained["batches"])
    govflow(
        govflow_env,
        "model",
        "register",
        "--name",
        MODEL,
        "--owner",
        "olga.owner@bank.example",
        "--risk-tier",
        "high",
        "--team",
        "Retail credit analytics",
        "--use-case",
        "pre-sorts credit applications for manual review",
        "--goal",
        "shorter queues",
        "--stakeholder",
        "Dana Privacy:dpo:dana.dpo@bank.example",
        "--region",
        "EU",
        "--sector",
        "finance",
        "--data-protection-notes",
        "no direct identifiers; sex used only to measure fairness",
        "--batches",
        str(batches),
        "--json",
    )
    admin = airflow_stack.client("admin")
    admin.wait_for_dag("governance_gate", timeout=180)
    admin.wait_for_dag("nightly_compliance", timeout=180)

    # The training job: register, trigger over REST, wait for the outcome.
    submit = subprocess.Popen(
        [
            GOVFLOW,
            "submit",
            "--model",
            MODEL,
            "--version",
            "2.0.0",
            "--artifact",
            trained["artifact"],
            "--training-data",
            trained["training_data"],
            "--reference-data",
            trained["reference_data"],
            "--eval-data",
            trained["eval_data"],
            "--code-version",
            "git:abc1234",
            "--framework",
            "scikit-learn",
            "--params",
            json.dumps(trained["params"]),
            "--metrics",
            json.dumps(trained["metrics"]),
            "--label",
            "income",
            "--prediction",
            "prediction",
            "--score",
            "score",
            "--positive-label",
            ">50K",
            "--sensitive",
            "sex",
            "--suite",
            trained["suite"],
            "--notes",
            trained["notes"],
            "--trigger",
            "--wait",
            "--timeout",
            "1200",
            "--poll",
            "3",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=govflow_env,
    )
    out: dict[str, str] = {}
    run_id = None
    reader = threading.Thread(
        target=lambda: out.update(zip(("stdout", "stderr"), submit.communicate(), strict=False))
    )
    reader.start()

    try:
        # The reviewers answer each request as soon as it appears (within 0.5 s of its creation):
        # Airflow 3.3.2 failed approval tasks answered this fast (docs/airflow-hitl-fast-answer-repro.md).
        answered = _answer_fast(airflow_stack, admin, submit=submit)
        run_id = answered[0]["task_instance"]["dag_run_id"]
    finally:
        reader.join(timeout=1500)
        if submit.poll() is None:
            submit.kill()
    assert submit.returncode == 0, _diagnose(airflow_stack, out, run_id)
    given = admin.required_actions("governance_gate", run_id, pending=False)
    assert len(given) == 2
    for action in given:  # Airflow's own clock: created, then answered within half a second
        delay = utc(action["responded_at"]) - utc(action["created_at"])
        assert delay.total_seconds() < 0.5, (action["task_instance"]["map_index"], delay)
    states = {t["task_id"]: t["state"] for t in admin.task_instances("governance_gate", run_id)}
    assert states["approval"] == "success" and states["finish"] == "success", states
    result = json.loads(out["stdout"])
    assert (result["decision"], result["stage"], result["state"]) == ("approved", "production", "success")
    assert result["run_id"] == run_id and sorted(result["approved_by"]) == ["rita", "rob"]
    assert {d["kind"] for d in result["documents"]} == {"model_card", "annex_iv"}

    _assert_governance_record(run_id)
    _assert_nightly_runs_for_the_version(admin)


def _answer_fast(stack, admin, *, submit, timeout=900):
    """Answer each approval request the moment it is listed, by the reviewer it is assigned to
    (request 0: admin/rita, request 1: rob; Airflow may list either first).

    Before the first answer, Airflow refuses a viewer (403) and a user the request is not
    assigned to; the reviewers' tokens are fetched up front so the answers are not delayed.
    """
    clients = {name: stack.client(name) for name in ("vic", "dana", "rita", "rob")}
    for client in clients.values():
        client.token()
    answered: dict[int, dict] = {}
    deadline = time.monotonic() + timeout
    while len(answered) < 2:
        for action in admin.required_actions("governance_gate"):
            index, run_id = action["task_instance"]["map_index"], action["task_instance"]["dag_run_id"]
            if index in answered:
                continue
            if not answered:
                assigned = sorted(u["id"] for u in action["assigned_users"])
                # The policy's approver roles, never alice, split over the two requests (one each).
                assert assigned == (["admin", "rita"] if index == 0 else ["rob"])
                assert "credit-e2e@2.0.0" in action["subject"] and "Evidence digest" in action["body"]
                with pytest.raises(PermissionDeniedError, match="HTTP 403"):  # a viewer may not answer
                    clients["vic"].approve("governance_gate", run_id, "approval", map_index=index)
                with pytest.raises(PermissionDeniedError, match="is not a respondent"):  # not assigned
                    clients["dana"].approve("governance_gate", run_id, "approval", map_index=index)
            reviewer = "rita" if index == 0 else "rob"
            clients[reviewer].approve(
                "governance_gate",
                run_id,
                "approval",
                map_index=index,
                comment=f"{reviewer}: evidence reviewed",
            )
            answered[index] = action
        if submit.poll() is not None and len(answered) < 2:
            raise AssertionError(
                f"govflow submit ended ({submit.returncode}) with {len(answered)} answers given"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"no 2 approval requests within {timeout}s")
        time.sleep(0.05)
    return [answered[i] for i in sorted(answered)]


def _assert_governance_record(run_id):
    from sqlalchemy import select

    from govflow.artifacts import ArtifactStore
    from govflow.service import gate
    from govflow.service.checks import latest_check_results
    from govflow.service.registry import get_version
    from govflow.store import Approval, Run, session_scope
    from govflow.store.audit import list_events, verify_chain

    with session_scope() as s:
        version = get_version(s, MODEL, "2.0.0")
        # Registered by the training job's CLI as its OS account; alice triggered the run in Airflow.
        assert version.stage == "production" and version.created_by == os_user()
        results = latest_check_results(s, version.id)
        statuses = {c: r.status for c, r in results.items()}
        # Fairness may warn (a strong proxy of sex among the features): the high tier lets warnings
        # through to the approvers as notes.
        assert statuses.pop("fairness") in ("pass", "warn")
        assert statuses == {
            "validation": "pass",
            "pii": "pass",
            "drift": "pass",
            "performance": "pass",  # champion/challenger: nothing in production yet to compare with
            "documentation": "pass",
        }
        store = ArtifactStore()
        assert all(store.verify(r.evidence_uri, r.evidence_sha256) for r in results.values())
        run = s.scalar(select(Run).where(Run.dag_id == "governance_gate", Run.run_id == run_id))
        assert (run.trigger_kind, run.status) == ("rest", "approved")
        decision = gate.latest_decision(s, version.id)
        assert decision.decision == "approved" and decision.reasons == []
        approvals = s.scalars(select(Approval).where(Approval.version_id == version.id)).all()
        assert sorted((a.approver, a.role, a.verdict) for a in approvals) == [
            ("rita", "reviewer", "approve"),
            ("rob", "reviewer", "approve"),
        ]
        assert all(a.evidence_digest == decision.evidence_digest for a in approvals)
        assert gate.replay_decision(s, decision.id).same
        chain = verify_chain(s)
        assert chain.ok, chain.problem
        actions = [e.action for e in list_events(s, subject_prefix=f"version:{MODEL}@2.0.0")]
    for expected, times in {
        "version.registered": 1,
        "check.recorded": 6,  # validation, pii, fairness, drift, performance, documentation
        "gate.evaluated": 2,
        "approval.recorded": 2,
        "version.stage_changed": 1,
    }.items():
        assert actions.count(expected) == times, f"{expected}: {actions}"


def _assert_nightly_runs_for_the_version(admin):
    from sqlalchemy import select

    from govflow.service.registry import get_version
    from govflow.store import CheckResultRow, Run, session_scope

    run = admin.trigger("nightly_compliance", {})
    final = admin.wait_for_run("nightly_compliance", run["dag_run_id"], timeout=900, poll=3)
    assert final["state"] == "success"
    summary = admin.xcom("nightly_compliance", run["dag_run_id"], "summary")
    assert summary["audit"]["ok"] is True
    # The stack is shared by the e2e module, so other tests' production models are checked too.
    checked = {m["model"]: (m["version"], m["problems"]) for m in summary["models"]}
    assert checked[MODEL] == ("2.0.0", [])
    assert all(problems == [] for _, problems in checked.values()), checked
    with session_scope() as s:
        version = get_version(s, MODEL, "2.0.0")
        rows = s.scalars(
            select(CheckResultRow)
            .join(Run, CheckResultRow.run_id == Run.id)
            .where(CheckResultRow.version_id == version.id, Run.dag_id == "nightly_compliance")
        ).all()
        statuses = {r.check: r.status for r in rows}
        assert statuses.pop("fairness") in ("pass", "warn")
        assert statuses == {"drift": "pass", "pii": "pass", "performance": "pass", "documentation": "pass"}


def _diagnose(stack, out, run_id) -> str:
    lines = [f"govflow submit failed: {out.get('stderr', '')[-2000:]}", out.get("stdout", "")[-2000:]]
    if run_id:
        for task in stack.client("admin").task_instances("governance_gate", run_id):
            if task.get("state") == "failed":
                log = stack.task_log("governance_gate", run_id, task["task_id"])
                lines.append(f"--- {task['task_id']} log:\n{log[-3000:]}")
    lines.append(stack.log_tail("scheduler", 20))
    return "\n".join(lines)
