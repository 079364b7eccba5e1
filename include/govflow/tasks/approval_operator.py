"""The approval request operator of ``governance_gate``: Airflow's ApprovalOperator plus one workaround.

Airflow 3.3.2 loses answers given in the first moments of a human-in-the-loop
request (see docs/airflow-hitl-fast-answer-repro.md):

1. the operator writes the request, then the worker parks the task
   (``awaiting_input``) and exits; an answer that arrives before the scheduler
   has processed that exit resumes the task (``scheduled`` -> ``queued``), and
   the executor's "success" for the parking process then fails the resumed task
   (``process_executor_events`` only tolerates ``scheduled``);
2. an answer whose PATCH runs concurrently with the park reads the task's state
   before its row lock and never resumes it (stuck in ``awaiting_input``).

Both need the answer to land while the task is being parked. While the task is
still running, Airflow's PATCH only stores the answer; so this operator keeps
running for ``answer_grace`` seconds after writing the request and takes an
answer given in that window itself (read through Airflow's REST API: the task
SDK's supervisor does not serve HITL reads to workers). Without an answer, or
without REST credentials, it parks exactly like ApprovalOperator. An
answer that still hits the park window is not lost either: ``finish`` reads
every answer from Airflow's HITL details, whatever happened to this task.
"""

from __future__ import annotations

import os
import time
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Context
from airflow.sdk.exceptions import TaskAwaitingInput

from govflow.airflow_client import AirflowClient, task_api_url
from govflow.errors import GovflowError
from govflow.timeutil import utc

__all__ = ["GovflowApprovalOperator", "answer_grace_seconds"]

DEFAULT_ANSWER_GRACE = 10.0


def answer_grace_seconds() -> float:
    """``GOVFLOW_APPROVAL_GRACE_SECONDS`` (default 10; 0 turns the workaround off)."""
    return max(0.0, float(os.environ.get("GOVFLOW_APPROVAL_GRACE_SECONDS") or DEFAULT_ANSWER_GRACE))


class GovflowApprovalOperator(ApprovalOperator):
    """ApprovalOperator that takes answers given in its first ``answer_grace`` seconds without parking."""

    def __init__(self, *, answer_grace: float | None = None, grace_poll: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answer_grace = answer_grace
        self.grace_poll = grace_poll

    def execute(self, context: Context) -> Any:
        try:
            return super().execute(context)
        except TaskAwaitingInput:
            event = self._early_answer(context["task_instance"])
            if event is None:
                raise  # park as ApprovalOperator does
            self.log.info("Answered within %.0fs of the request: completing without parking", self.grace)
            return self.execute_complete(context, event)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        # The answer names its Required Action, so govflow records it once whichever way it arrives.
        result = super().execute_complete(context, event)
        ti = context["ti"]
        action = {
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "map_index": ti.map_index,
            "try_number": ti.try_number,
        }
        return {**result, "required_action": action}

    @property
    def grace(self) -> float:
        return answer_grace_seconds() if self.answer_grace is None else self.answer_grace

    def _early_answer(self, ti: Any) -> dict[str, Any] | None:
        deadline = time.monotonic() + self.grace
        if self.grace <= 0:
            return None
        try:
            with AirflowClient(task_api_url()) as client:
                while time.monotonic() < deadline:
                    detail = client.hitl_detail(ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
                    if detail.get("response_received") and detail.get("chosen_options"):
                        return {
                            "chosen_options": list(detail["chosen_options"]),
                            "params_input": detail.get("params_input") or {},
                            "responded_at": utc(detail["responded_at"]),
                            "responded_by_user": detail.get("responded_by_user"),
                            "timedout": False,
                        }
                    time.sleep(self.grace_poll)
        except GovflowError as err:  # no REST access: the plain ApprovalOperator behaviour
            self.log.warning("not watching for early answers (%s); parking now", err)
        return None
