"""The approval loop closed in a real Airflow 3.3.2 (LocalExecutor, PostgreSQL for both databases).

A high-risk version is submitted with ``--trigger``; governance_gate asks two reviewers (rita in
request 0, rob in request 1) through Airflow's Required Actions. Nobody opens Airflow: rita approves
by clicking Approve on the Governance view's version page (Chromium), rob approves through the
Governance API (the JSON POST the page sends). Each verdict answers that reviewer's open request in
Airflow as that reviewer, so the run goes on to success and promotes the version; each approval is
recorded exactly once (the answer finish collects from Airflow is the same approval, by its
Required Action key), and the signed audit chain stays intact.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.e2e._flow import GATE, submit_high_risk, wait_for_two_requests, web
from tests.e2e.conftest import govflow
from tests.e2e.test_governance_ui import browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

MODEL = "loop-e2e"
APPROVALS = f"/governance/api/models/{MODEL}/versions/1.0/approvals"


def test_reviewers_approving_in_the_governance_view_answer_airflow_and_the_run_promotes(
    airflow_stack,
    govflow_env,
    trained,
    browser,  # noqa: F811
):
    admin = airflow_stack.client("admin")
    admin.wait_for_dag(GATE, timeout=180)
    run_id = submit_high_risk(govflow_env, trained, MODEL, "1.0")
    wait_for_two_requests(admin, run_id)

    # rita: the version page's Approve button, in Chromium, signed in to Airflow's UI.
    context = browser.new_context()
    context.add_cookies(
        [{"name": "_token", "value": airflow_stack.client("rita").token(), "url": airflow_stack.url}]
    )
    page = context.new_page()
    page.goto(f"{airflow_stack.url}/governance/models/{MODEL}/versions/1.0")
    page.fill("#comment", "evidence read in the Governance view")
    page.get_by_role("button", name="Approve").click()
    said = page.locator("#review-result").filter(
        has_text=f"recorded: approve (gate now: pending_approval); "
        f"answered Airflow's request approval 1 of 2 in run {run_id}"
    )
    said.wait_for(timeout=60_000)
    context.close()

    # rob: the same route as JSON (what the page, and `govflow approve --api`, send).
    with web(airflow_stack, "rob") as rob:
        answer = rob.post(APPROVALS, json={"verdict": "approve", "comment": "ok"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"] == f"recorded; answered Airflow's request approval 2 of 2 in run {run_id}"
    assert answer.json()["airflow"]["request"]["map_index"] == 1

    # Airflow holds both answers, each given by its reviewer (the view forwarded their own tokens).
    details = admin.required_actions(GATE, run_id, pending=None)
    assert sorted(
        (d["task_instance"]["map_index"], d["chosen_options"], d["responded_by_user"]["name"])
        for d in details
    ) == [(0, ["Approve"], "rita"), (1, ["Approve"], "rob")]

    # The run goes on by itself: finish re-decides and promotes.
    run = admin.wait_for_run(GATE, run_id, timeout=900, poll=3)
    assert run["state"] == "success", {t["task_id"]: t["state"] for t in admin.task_instances(GATE, run_id)}
    outcome = admin.xcom(GATE, run_id, "finish")
    assert (outcome["decision"], outcome["stage"]) == ("approved", "production"), outcome

    from govflow.service import registry
    from govflow.store import Approval, AuditEvent, Run, session_scope

    with session_scope() as s:
        version = registry.get_version(s, MODEL, "1.0")
        assert version.stage == "production"
        gate_run = s.scalar(select(Run).where(Run.dag_id == GATE, Run.run_id == run_id))
        rows = s.scalars(
            select(Approval).where(Approval.version_id == version.id).order_by(Approval.id)
        ).all()
        # Once each: the view's approval carries the Required Action finish then read from Airflow.
        assert [(a.approver, a.verdict, a.auth_method, a.run_id, a.required_action) for a in rows] == [
            ("rita", "approve", "airflow", gate_run.id, f"{GATE}/{run_id}/approval/0/1"),
            ("rob", "approve", "airflow", gate_run.id, f"{GATE}/{run_id}/approval/1/1"),
        ]
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "approval.recorded", AuditEvent.subject == f"version:{MODEL}@1.0"
            )
        ).all()
        assert sorted(e.actor for e in events) == ["rita", "rob"]

    # Every view agrees: nothing waits for rita any more; the version page shows production, two approvals.
    with web(airflow_stack, "rita") as rita:
        mine = rita.get("/governance/api/approvals").json()
        assert [i for i in mine["items"] if i["model"] == MODEL] == []
        detail = rita.get(f"/governance/api/models/{MODEL}/versions/1.0").json()
        assert detail["stage"] == "production"
        assert sorted(a["approver"] for a in detail["approvals"]) == ["rita", "rob"]

    verified = govflow(govflow_env, "audit", "verify", "--json")
    assert verified["ok"] is True, verified
