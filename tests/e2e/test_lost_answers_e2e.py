"""An answer Airflow accepted reaches govflow even when the task that asked is gone (real Airflow 3.3.2,
LocalExecutor, PostgreSQL for both databases).

Both approval tasks of a high-risk run fail before anyone answers (as Airflow 3.3.2's scheduler
did to quickly answered tasks: docs/airflow-hitl-fast-answer-repro.md), so the run ends with the
version still pending. The reviewers then answer anyway (Airflow stores the answers: HTTP 200).
The next nightly_compliance run reconciles: it reads the answers from Airflow's HITL details,
records them once with the run and the Required Action they came from, decides again and promotes.

On the way, the links between the Governance view and Airflow are followed for this real run: "My
approvals" lists Airflow's open Required Actions for the signed-in reviewer with the link Airflow's own
UI uses (opened in Chromium, the request is there); the task's "Governance evidence" extra link, read
through Airflow's REST API, lands on the version page; the version page's "Airflow run" link is this
run, and Airflow's UI shows it.
"""

from __future__ import annotations

import html
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from tests.e2e._flow import GATE, submit_high_risk, wait_for_two_requests, web
from tests.e2e.test_governance_ui import browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

MODEL = "lost-e2e"


def test_answers_given_after_the_approval_tasks_failed_are_reconciled_by_nightly(
    airflow_stack,
    govflow_env,
    trained,
    browser,  # noqa: F811
):
    admin = airflow_stack.client("admin")
    admin.wait_for_dag(GATE, timeout=180)
    run_id = submit_high_risk(govflow_env, trained, MODEL, "1.0")
    # Both requests appear; both tasks fail before anyone answers.
    wait_for_two_requests(admin, run_id)
    _assert_my_approvals_link_the_open_requests(airflow_stack, browser, run_id)
    for index in (0, 1):
        admin._api(  # the operator's "mark failed", as the scheduler did to answered tasks
            "PATCH",
            f"/dags/{GATE}/dagRuns/{run_id}/taskInstances/approval/{index}",
            json={"new_state": "failed"},
        )
    run = admin.wait_for_run(GATE, run_id, timeout=600, poll=2)
    assert run["state"] == "success"  # finish and notify ran (all_done); the version is still pending
    assert admin.xcom(GATE, run_id, "finish")["decision"] == "pending_approval"
    _assert_links_between_the_run_and_the_version(airflow_stack, browser, run_id)

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
    # Unpaused at start, the cron DAG also gets Airflow's own run for its latest interval; when that
    # run's reconcile (retried) comes after the answers it records them first and this one has
    # nothing left to do. Either way only a nightly reconcile can have recorded them: finish ran.
    assert [(d["model"], d["run_id"], d["decision"], d["stage"]) for d in report["decisions"]] in (
        [(MODEL, run_id, "approved", "production")],
        [],
    )
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


def _asks(action: dict, user: str) -> bool:
    """Whether an Airflow Required Action names ``user`` as a respondent (one naming nobody asks anyone)."""
    named = {str(u.get(k)) for u in action.get("assigned_users") or () for k in ("id", "name")}
    return not named or user in named


def _airflow_ui_required_action(ti: dict) -> str:
    """Where Airflow 3.3.2's own UI links a task's Required Action: its bundle builds
    ``/dags/{dag_id}/runs/{run_id}/tasks/{task_id}[/mapped/{map_index}]`` + ``/required_actions``
    (route ``dags/:dagId/runs/:runId/tasks/:taskId/mapped/:mapIndex``, child ``required_actions``)."""
    mapped = f"/mapped/{ti['map_index']}" if ti["map_index"] >= 0 else ""
    return f"/dags/{ti['dag_id']}/runs/{ti['dag_run_id']}/tasks/{ti['task_id']}{mapped}/required_actions"


def _assert_my_approvals_link_the_open_requests(stack, browser, run_id) -> None:  # noqa: F811
    """While both requests wait: each reviewer's "My approvals" (read inside Airflow's API server) lists
    exactly the requests that name them as respondents (the gate splits its reviewers over the
    requests: rita is asked in request 0, rob in request 1), each linked where Airflow's UI answers
    it; rita's page opens with her request in Chromium."""
    open_requests = stack.client("admin").required_actions(GATE, run_id)
    assert sorted(a["task_instance"]["map_index"] for a in open_requests) == [0, 1]
    links: dict[str, list[str]] = {}
    for user, index in (("rita", 0), ("rob", 1)):
        entitled = sorted(
            _airflow_ui_required_action(a["task_instance"]) for a in open_requests if _asks(a, user)
        )
        assert len(entitled) == 1 and entitled[0].endswith(f"/tasks/approval/mapped/{index}/required_actions")
        with web(stack, user) as session:
            mine = session.get("/governance/api/approvals")
            assert mine.status_code == 200, mine.text
            items = [i for i in mine.json()["items"] if (i["model"], i["version"]) == (MODEL, "1.0")]
            assert len(items) == 1, mine.json()
            links[user] = [r["url"] for r in items[0]["required_actions"]]
            assert sorted(unquote(u) for u in links[user]) == entitled
            assert [r["subject"] for r in items[0]["required_actions"]] == [
                f"Approve {MODEL}@1.0 (high risk) for production - approval {index + 1} of 2"
            ]
            assert unquote(items[0]["gate_run"]["url"]) == f"/dags/{GATE}/runs/{run_id}"
            listing = session.get("/governance/approvals")
            assert listing.status_code == 200
            anchors = [f'class="required-action" href="{html.escape(u)}"' for u in links[user]]
            assert all(anchor in listing.text for anchor in anchors)
            for url in links[user]:  # the api-server's UI route serves them
                answer = session.get(url)
                assert answer.status_code == 200, (url, answer.status_code)
                assert '<div id="root"' in answer.text, url
    assert "cannot read Airflow's Required Actions" not in stack.log_tail("api-server", 400)
    # Airflow's UI resolves the link to this request: its subject and answer buttons are shown.
    context = browser.new_context()
    context.add_cookies([{"name": "_token", "value": stack.client("rita").token(), "url": stack.url}])
    page = context.new_page()
    page.goto(stack.url + links["rita"][0])
    page.get_by_text(f"Approve {MODEL}@1.0").first.wait_for(timeout=90_000)
    page.get_by_role("button", name="Approve").first.wait_for(timeout=30_000)
    context.close()


def _assert_links_between_the_run_and_the_version(stack, browser, run_id) -> None:  # noqa: F811
    """After the run: Airflow's extra link leads to the version page, whose Airflow link is this run."""
    admin = stack.client("admin")
    version_page = f"/governance/models/{MODEL}/versions/1.0"
    for task_id in ("fairness", "finish"):  # a check task and a later one: the same way back
        links = admin._api("GET", f"/dags/{GATE}/dagRuns/{run_id}/taskInstances/{task_id}/links")
        target = links["extra_links"]["Governance evidence"]
        assert urlsplit(target).path.startswith("/governance/runs/governance_gate/"), links
        with web(stack, "rita") as rita:
            landed = rita.get(target, follow_redirects=True)
            assert landed.status_code == 200, (target, landed.status_code, landed.text[:300])
            assert urlsplit(str(landed.url)).path == version_page
            assert f"{MODEL}" in landed.text and 'id="airflow-run"' in landed.text
        with web(stack, "dana") as dana:  # unknown to govflow: no evidence through the link
            assert dana.get(target, follow_redirects=True).status_code == 403
    with web(stack, "rita") as rita:
        detail = rita.get(f"/governance/api/models/{MODEL}/versions/1.0").json()
        run_url = detail["gate_run"]["url"]
        assert (detail["gate_run"]["run_id"], unquote(run_url)) == (run_id, f"/dags/{GATE}/runs/{run_id}")
        assert f'id="airflow-run" href="{html.escape(run_url)}"' in rita.get(version_page).text
        served = rita.get(run_url)
        assert served.status_code == 200 and '<div id="root"' in served.text
    run = admin.get_run(GATE, unquote(run_url.rsplit("/", 1)[1]))  # the real run that produced the evidence
    assert (run["conf"]["model"], run["conf"]["version"]) == (MODEL, "1.0"), run["conf"]
    for check in detail["checks"]:  # each check's task-log link names a task of this run
        task_id = unquote(check["links"]["task"].rsplit("/tasks/", 1)[1])
        assert admin._api("GET", f"/dags/{GATE}/dagRuns/{run_id}/taskInstances/{task_id}")["state"] in (
            "success",
            "failed",
        )
    context = browser.new_context()
    context.add_cookies([{"name": "_token", "value": stack.client("rita").token(), "url": stack.url}])
    page = context.new_page()
    page.goto(stack.url + run_url)
    page.get_by_text(run_id).first.wait_for(timeout=90_000)  # Airflow's run page, for this run
    context.close()


def _version_stage() -> str:
    from govflow.service import registry
    from govflow.store import session_scope

    with session_scope() as s:
        return registry.get_version(s, MODEL, "1.0").stage
