"""Airflow's open Required Actions of the governance gate: read from Airflow's own metadata DB, and
answered through Airflow's public REST API as the signed-in user.

Only inside Airflow's API server (where the plugin mounts the view): the same process and DB
connection Airflow's Required Actions page uses, filtered to the gate DAG and the signed-in user.
An answer goes through ``PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/
{map_index}/hitlDetails`` with the user's own token (the request's bearer token or the UI's
``_token`` cookie), so Airflow checks that user is a respondent and records them as the one who
answered, exactly as its Required Actions page would.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from govflow.airflow_client import AirflowClient, task_api_url
from govflow.errors import PermissionDeniedError
from govflow.service.airflow_links import GATE_DAG, run_link
from govflow.service.answers import COMMENT_PARAM, AnswerFn, OpenRequest
from govflow.vocab import APPROVE_OPTION, REJECT_OPTION

log = logging.getLogger(__name__)
# A task in one of these states no longer waits for its answer (the run went on without it).
_DONE = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
# The subject govflow's gate writes on each request: "Approve MODEL@VERSION (TIER risk) for production".
_SUBJECT = re.compile(r"^Approve (?P<model>[^@\s]+)@(?P<version>\S+) \(")


def open_required_actions(user: str) -> list[dict[str, Any]]:
    """The gate's unanswered Required Actions assigned to ``user`` (or to nobody in particular).

    Each: ``subject``, ``model``, ``version``, ``url`` (where Airflow's UI answers it), the task's
    keys (``dag_id``, ``run_id``, ``task_id``, ``map_index``, ``try_number``), ``named`` (it names
    ``user``), ``asked_at`` and ``waiting`` (its task still waits for the answer)."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = (
        select(
            HITLDetail.subject,
            HITLDetail.assignees,
            HITLDetail.created_at,
            TaskInstance.dag_id,
            TaskInstance.run_id,
            TaskInstance.task_id,
            TaskInstance.map_index,
            TaskInstance.try_number,
            TaskInstance.state,
        )
        .join(TaskInstance, TaskInstance.id == HITLDetail.ti_id)
        .where(HITLDetail.responded_at.is_(None), TaskInstance.dag_id == GATE_DAG)
    )
    try:
        with create_session() as session:
            rows = session.execute(query).all()
    # Airflow's DB unavailable or its schema unexpected: the page still shows govflow's own list.
    except Exception as err:  # noqa: BLE001
        log.warning("cannot read Airflow's Required Actions: %s", err)
        return []
    out = []
    for subject, assignees, asked_at, dag_id, run_id, task_id, map_index, try_number, state in rows:
        names = {str(a.get(k)) for a in assignees or () for k in ("id", "name") if isinstance(a, dict)}
        if names and user not in names:
            continue
        match = _SUBJECT.match(subject or "")
        task = f"{run_link(dag_id, run_id)['url']}/tasks/{quote(task_id, safe='')}"
        if map_index is not None and map_index >= 0:
            task += f"/mapped/{map_index}"
        out.append(
            {
                "subject": subject,
                "model": match["model"] if match else None,
                "version": match["version"] if match else None,
                "url": f"{task}/required_actions",
                "dag_id": dag_id,
                "run_id": run_id,
                "task_id": task_id,
                "map_index": map_index,
                "try_number": try_number,
                "named": user in names,
                "asked_at": asked_at.isoformat() if asked_at else None,
                "waiting": state is not None and str(getattr(state, "value", state)) not in _DONE,
            }
        )
    return out


ANSWER_TIMEOUT = 5.0  # seconds


def answer_with_token(token: str | None, *, url: str | None = None) -> AnswerFn:
    """``answer(request, verdict, comment)``: gives the verdict to Airflow as the owner of ``token``."""

    def answer(request: OpenRequest, verdict: str, comment: str) -> None:
        if not token:
            raise PermissionDeniedError("this request carries no Airflow token to answer with")
        option = APPROVE_OPTION if verdict == "approve" else REJECT_OPTION
        # Called while the approval's transaction holds govflow's audit lock: a short timeout, so a
        # slow Airflow delays other govflow writes by seconds at most (the verdict is then recorded
        # without the request's key, and the message says Airflow was not answered).
        with AirflowClient.acting_for(token, url or task_api_url(), timeout=ANSWER_TIMEOUT) as client:
            client.respond(
                request.dag_id,
                request.run_id,
                request.task_id,
                [option],
                params_input={COMMENT_PARAM: comment},
                map_index=request.map_index,
            )

    return answer


__all__ = ["answer_with_token", "open_required_actions"]
