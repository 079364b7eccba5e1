"""Airflow's open Required Actions of the governance gate, read from Airflow's own metadata DB.

Only inside Airflow's API server (where the plugin mounts the view): the same process and DB
connection Airflow's Required Actions page uses, filtered to the gate DAG and the signed-in user.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from govflow.service.airflow_links import GATE_DAG, run_link

log = logging.getLogger(__name__)
# The subject govflow's gate writes on each request: "Approve MODEL@VERSION (TIER risk) for production".
_SUBJECT = re.compile(r"^Approve (?P<model>[^@\s]+)@(?P<version>\S+) \(")


def open_required_actions(user: str) -> list[dict[str, Any]]:
    """The gate's unanswered Required Actions assigned to ``user`` (or to nobody in particular)."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = (
        select(
            HITLDetail.subject,
            HITLDetail.assignees,
            TaskInstance.dag_id,
            TaskInstance.run_id,
            TaskInstance.task_id,
            TaskInstance.map_index,
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
    for subject, assignees, dag_id, run_id, task_id, map_index in rows:
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
            }
        )
    return out


__all__ = ["open_required_actions"]
