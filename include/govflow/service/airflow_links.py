"""Links into Airflow's UI (DAG runs, task logs, Required Actions), as paths on the API server's origin.

The Governance view is mounted inside Airflow (``/governance``), so Airflow's UI is at the same
origin; ``GOVFLOW_AIRFLOW_UI`` overrides the base (e.g. a different host or a path prefix).
"""

from __future__ import annotations

import os
from urllib.parse import quote

GATE_DAG = "governance_gate"
NIGHTLY_DAG = "nightly_compliance"


def _base() -> str:
    return os.environ.get("GOVFLOW_AIRFLOW_UI", "").rstrip("/")


def run_link(dag_id: str, run_id: str) -> dict[str, str]:
    url = f"{_base()}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
    return {"dag_id": dag_id, "run_id": run_id, "url": url}


def task_id_for(dag_id: str, check: str) -> str:
    # The nightly DAG runs its checks inside the mapped ``recheck`` task group, several to a task.
    if dag_id != NIGHTLY_DAG:
        return check
    from govflow.service.check_table import nightly_task_of

    return f"recheck.{nightly_task_of(check)}"


def check_links(dag_id: str, run_id: str, check: str) -> dict[str, str]:
    run = run_link(dag_id, run_id)["url"]
    return {"run": run, "task": f"{run}/tasks/{quote(task_id_for(dag_id, check), safe='')}"}


def required_actions_link() -> str:
    """Airflow's list of Required Actions still waiting for an answer."""
    return f"{_base()}/required_actions?response_received=false"


__all__ = ["check_links", "required_actions_link", "run_link", "task_id_for"]
