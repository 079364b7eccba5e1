"""Collect reviewers' answers from Airflow and record them; reconcile runs whose answers were lost.

Airflow keeps every answer it accepted in its HITL details, whatever happened
to the task that asked (Airflow 3.3.2 can fail or strand an approval task that
was answered quickly: docs/airflow-hitl-fast-answer-repro.md). Task code may
not read Airflow's metadata DB, so the answers are read through Airflow's REST
API (``GET .../hitlDetails``, earlier tries from ``.../tries/{n}``), merged with
the approval tasks' return values, and recorded by ``service.answers`` once per
Required Action.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from govflow import config
from govflow.airflow_client import AirflowClient, task_api_url
from govflow.errors import GovflowError, NotFoundError
from govflow.policy import load_policy
from govflow.service import answers as answers_service
from govflow.service import gate as gate_service
from govflow.service.answers import Answer
from govflow.service.pipeline import RunRef, pipeline_actor
from govflow.store import session_scope
from govflow.tasks.decisions import apply_decision
from govflow.vocab import GATED_STAGES

APPROVAL_TASK = "approval"
RECONCILE_DAYS = 30
log = logging.getLogger(__name__)


def from_task_results(values: Iterable[Mapping[str, Any] | None]) -> list[Answer]:
    """Answers the approval tasks returned (each names its Required Action); others are skipped."""
    out = []
    for value in values:
        action = (value or {}).get("required_action")
        if not value or not action or not value.get("chosen_options"):
            continue
        out.append(
            Answer.of_response(
                value,
                dag_id=action["dag_id"],
                run_id=action["run_id"],
                task_id=action["task_id"],
                map_index=int(action["map_index"]),
                try_number=int(action["try_number"]),
            )
        )
    return out


def from_airflow(
    client: AirflowClient, dag_id: str, run_id: str, *, task_id: str = APPROVAL_TASK
) -> list[Answer]:
    """Every answer Airflow stored for ``run_id``'s approval requests, earlier tries included."""
    answers = []
    for detail in client.required_actions(dag_id, run_id, pending=None, task_id=task_id):
        answers.append(Answer.from_hitl_detail(detail))
        ti = detail.get("task_instance") or {}
        for earlier in range(1, int(ti.get("try_number") or 1)):
            try:
                old = client.hitl_detail(
                    dag_id, run_id, task_id, int(ti.get("map_index", -1)), try_number=earlier
                )
            except NotFoundError:  # that try failed before it asked
                continue
            answers.append(Answer.from_hitl_detail(old))
    return answers_service.unique(answers)


def collect(
    run: RunRef, task_results: Iterable[Mapping[str, Any] | None], *, client: AirflowClient | None = None
) -> tuple[list[Answer], list[str]]:
    """The run's answers as Airflow's REST API reports them; notes on what else was seen.

    An approval task's return value (XCom) proves nobody's identity: the worker that ran the task,
    or whoever writes Airflow's metadata DB, can return any approver. So Airflow's answer to a
    Required Action always wins, and a task result Airflow does not report counts only as a
    rejection (a rejection blocks however it was given; an approval must be proven). Where the REST
    API cannot be reached, a production deployment records the rejections and leaves the approvals
    to nightly_compliance's reconcile step; a demo or test machine (``config.production()`` false:
    its worker holds the generated decision key anyway, and ``dag.test`` has no API to call) takes
    the task results as given.
    """
    claimed = from_task_results(task_results)
    try:
        with client or _client() as api:
            proven = from_airflow(api, run.dag_id, run.run_id)
    except GovflowError as err:
        log.warning("answers of %s read from task results only: %s", run.run_id, err)
        if not config.production():
            return answers_service.unique(claimed), [
                f"answers read from the approval tasks only (Airflow's REST API: {err}); "
                "nightly_compliance's reconcile step records any others"
            ]
        return answers_service.unique(a for a in claimed if a.verdict == "reject"), [
            f"answers read from the approval tasks only (Airflow's REST API: {err}): their rejections "
            "count, their approvals wait for nightly_compliance's reconcile step to read them from Airflow"
        ]
    known = {a.required_action for a in proven}
    unproven = [a for a in claimed if a.required_action not in known]
    notes = [
        f"approval by {a.approver} ({a.required_action}) is in the approval task's result but not in "
        "Airflow's answers: not recorded"
        for a in unproven
        if a.verdict != "reject"
    ]
    return answers_service.unique([*proven, *(a for a in unproven if a.verdict == "reject")]), notes


def reconcile(
    run: RunRef | Mapping[str, Any],
    *,
    client: AirflowClient | None = None,
    days: int = RECONCILE_DAYS,
    skip_run_id: str | None = None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Record the answers of earlier gate runs that govflow has not seen, then decide those versions again.

    Looks at the gate runs of the last ``days`` days that asked reviewers for a version that
    is still candidate or staging (``skip_run_id``: the run doing the reconciling). A new
    answer re-decides the version and promotes (approved) or rejects (a reviewer rejected) it.
    """
    run = RunRef.of(run)
    policy = load_policy()  # resolved once, where the task starts
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    with session_scope(db_url) as session:
        requests = answers_service.pending_requests(session, since=since)
    requests = [r for r in requests if r["stage"] in GATED_STAGES and r["run_id"] != skip_run_id]
    report: dict[str, Any] = {"runs_checked": 0, "recorded": [], "decisions": [], "notes": []}
    if not requests:
        return report
    try:
        api = client or _client()
    except GovflowError as err:
        report["notes"].append(f"not reconciled: {err}")
        return report
    with api:
        for request in requests:
            try:
                found = from_airflow(api, "governance_gate", request["run_id"])
            except NotFoundError:  # the run was deleted from Airflow
                continue
            except GovflowError as err:
                report["notes"].append(f"run {request['run_id']}: {err}")
                continue
            report["runs_checked"] += 1
            with session_scope(db_url) as session:
                recorded, notes = answers_service.record_answers(
                    session,
                    request["model"],
                    request["version"],
                    found,
                    requested_digest=request["evidence_digest"],
                )
                report["notes"] += notes
                if not recorded:
                    continue
                report["recorded"] += recorded
                decision = gate_service.evaluate_gate(
                    session,
                    request["model"],
                    request["version"],
                    pipeline_actor(run, "reconcile"),
                    auth_method="system",
                    policy=policy,
                )
                decided = gate_service.decision_to_dict(
                    decision, model=request["model"], version=request["version"]
                )
            stage = apply_decision(request, decided, db_url=db_url)
            report["decisions"].append(
                {
                    "model": request["model"],
                    "version": request["version"],
                    "run_id": request["run_id"],
                    "decision": decided["decision"],
                    "stage": stage,
                }
            )
    return report


def _client() -> AirflowClient:
    # Credentials: GOVFLOW_AIRFLOW_USER / GOVFLOW_AIRFLOW_PASSWORD (a read-only service user is enough).
    return AirflowClient(task_api_url())
