"""An answer Airflow accepted reaches govflow even when the task that asked is gone (real Airflow 3.3.2,
LocalExecutor, PostgreSQL for both databases).

Both approval tasks of a high-risk run fail before anyone answers (as Airflow 3.3.2's scheduler
did to quickly answered tasks: docs/airflow-hitl-fast-answer-repro.md), so the run ends with the
version still pending. The reviewers then answer anyway (Airflow stores the answers: HTTP 200).
The next nightly_compliance run reconciles: it reads the answers from Airflow's HITL details,
records them once with the run and the Required Action they came from, decides again and promotes.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from tests.e2e.conftest import govflow

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

MODEL = "lost-e2e"
GATE = "governance_gate"


def test_answers_given_after_the_approval_tasks_failed_are_reconciled_by_nightly(
    airflow_stack, govflow_env, trained
):
    admin = airflow_stack.client("admin")
    admin.wait_for_dag(GATE, timeout=180)
    govflow(
        govflow_env,
        *("model", "register", "--name", MODEL, "--owner", "olga.owner@bank.example", "--risk-tier", "high"),
        *("--team", "Retail credit analytics", "--use-case", "pre-sorts credit applications"),
        *("--goal", "shorter queues", "--stakeholder", "Dana Privacy:dpo:dana.dpo@bank.example"),
        *("--region", "EU", "--sector", "finance", "--data-protection-notes", "no direct identifiers"),
        *("--batches", trained["batches"], "--json"),
    )
    submitted = govflow(
        govflow_env,
        *("submit", "--model", MODEL, "--version", "1.0", "--artifact", trained["artifact"]),
        *("--training-data", trained["training_data"], "--reference-data", trained["reference_data"]),
        *("--eval-data", trained["eval_data"], "--suite", trained["suite"], "--notes", trained["notes"]),
        *("--code-version", "git:abc1234", "--framework", "scikit-learn"),
        *("--params", json.dumps(trained["params"]), "--metrics", json.dumps(trained["metrics"])),
        *("--label", "income", "--prediction", "prediction", "--score", "score"),
        *("--positive-label", ">50K", "--sensitive", "sex", "--trigger", "--json"),
    )
    run_id = submitted["run_id"]

    # Both requests appear; both tasks fail before anyone answers.
    def asked() -> bool:
        if len(admin.required_actions(GATE, run_id)) == 2:
            return True
        if admin.get_run(GATE, run_id)["state"] in ("success", "failed"):
            states = {t["task_id"]: t["state"] for t in admin.task_instances(GATE, run_id)}
            raise AssertionError(f"the run ended without asking reviewers: {states}")
        return False

    requests = _wait(asked, "two approval requests")
    for index in (0, 1):
        admin._api(  # the operator's "mark failed", as the scheduler did to answered tasks
            "PATCH",
            f"/dags/{GATE}/dagRuns/{run_id}/taskInstances/approval/{index}",
            json={"new_state": "failed"},
        )
    assert requests
    run = admin.wait_for_run(GATE, run_id, timeout=600, poll=2)
    assert run["state"] == "success"  # finish and notify ran (all_done); the version is still pending
    assert admin.xcom(GATE, run_id, "finish")["decision"] == "pending_approval"

    # The reviewers answer the failed tasks' requests: Airflow accepts and stores the answers.
    for reviewer, index in (("rita", 0), ("rob", 1)):
        answer = airflow_stack.client(reviewer).approve(
            GATE, run_id, "approval", map_index=index, comment="ok"
        )
        assert answer["chosen_options"] == ["Approve"]  # 200: Airflow stored it
    assert _version_stage() == "candidate"

    nightly = admin.trigger("nightly_compliance", {})
    final = admin.wait_for_run("nightly_compliance", nightly["dag_run_id"], timeout=900, poll=3)
    assert final["state"] == "success"
    report = admin.xcom("nightly_compliance", nightly["dag_run_id"], "reconcile_approvals")
    assert [(d["model"], d["run_id"], d["decision"], d["stage"]) for d in report["decisions"]] == [
        (MODEL, run_id, "approved", "production")
    ]
    assert _version_stage() == "production"
    from govflow.service import registry
    from govflow.store import Approval, Run, session_scope

    with session_scope() as s:
        version = registry.get_version(s, MODEL, "1.0")
        rows = s.scalars(
            select(Approval).where(Approval.version_id == version.id).order_by(Approval.id)
        ).all()
        gate_run = s.scalar(select(Run).where(Run.dag_id == GATE, Run.run_id == run_id))
        assert [(a.approver, a.verdict, a.auth_method, a.run_id, a.required_action) for a in rows] == [
            ("rita", "approve", "airflow", gate_run.id, f"{GATE}/{run_id}/approval/0/1"),
            ("rob", "approve", "airflow", gate_run.id, f"{GATE}/{run_id}/approval/1/1"),
        ]
    # A second reconcile finds nothing new: each answer is recorded once.
    again = admin.trigger("nightly_compliance", {})
    assert (
        admin.wait_for_run("nightly_compliance", again["dag_run_id"], timeout=900, poll=3)["state"]
        == "success"
    )
    with session_scope() as s:
        version = registry.get_version(s, MODEL, "1.0")
        assert len(s.scalars(select(Approval).where(Approval.version_id == version.id)).all()) == 2


def _version_stage() -> str:
    from govflow.service import registry
    from govflow.store import session_scope

    with session_scope() as s:
        return registry.get_version(s, MODEL, "1.0").stage


def _wait(condition, what: str, timeout: float = 900):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {timeout:.0f}s")
