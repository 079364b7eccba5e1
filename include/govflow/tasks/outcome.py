"""How a gate run shows its outcome in Airflow: a final ``verdict`` task that fails when the version
was rejected (so a rejected run is not all green), and the run note's text (decision and top reasons).

``GOVFLOW_FAIL_REJECTED_RUNS`` (default on; ``0``/``false``/``no``/``off`` turn it off) decides
whether a rejection fails the task; pending and approved runs always end green.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

FAIL_REJECTED_ENV = "GOVFLOW_FAIL_REJECTED_RUNS"
_OFF = frozenset({"0", "false", "no", "off"})
TOP_REASONS = 3


def fail_rejected_runs() -> bool:
    return os.environ.get(FAIL_REJECTED_ENV, "1").strip().lower() not in _OFF


def run_note(outcome: Mapping[str, Any]) -> str:
    """The run note: the decision for model@version and its top reasons, in one short paragraph."""
    head = f"govflow: {outcome['model']}@{outcome['version']} {str(outcome['decision']).replace('_', ' ')}"
    reasons = [str(r) for r in outcome.get("reasons") or []]
    if not reasons:
        return head
    more = f" (+{len(reasons) - TOP_REASONS} more)" if len(reasons) > TOP_REASONS else ""
    return f"{head}: " + "; ".join(reasons[:TOP_REASONS]) + more


def post_run_note(outcome: Mapping[str, Any], *, dag_id: str, run_id: str) -> str | None:
    """Write the run note over Airflow's REST API; the reason it could not (None: written).

    Best effort: a deployment without REST credentials for tasks keeps the note it had.
    """
    from govflow.airflow_client import AirflowClient, task_api_url
    from govflow.errors import GovflowError

    try:
        with AirflowClient(task_api_url()) as client:
            client.set_run_note(dag_id, run_id, run_note(outcome))
    except GovflowError as err:
        return str(err)
    return None


def verdict(outcome: Mapping[str, Any], *, fail_rejected: bool | None = None) -> str | None:
    """The failure message of the final task (None: the task succeeds)."""
    fail = fail_rejected_runs() if fail_rejected is None else fail_rejected
    if fail and outcome.get("decision") == "rejected":
        return f"{run_note(outcome)} (set {FAIL_REJECTED_ENV}=0 to end rejected runs green)"
    return None


__all__ = ["FAIL_REJECTED_ENV", "fail_rejected_runs", "post_run_note", "run_note", "verdict"]
