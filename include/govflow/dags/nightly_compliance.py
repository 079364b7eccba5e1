"""
### nightly_compliance

Re-checks every production model on its newest production data, on a cron
schedule (default 02:00 UTC; set the Airflow Variable or environment variable
`GOVFLOW_NIGHTLY_CRON`, e.g. `AIRFLOW_VAR_GOVFLOW_NIGHTLY_CRON="30 1 * * *"`).

**Fan-out:** the production models that their risk tier says are due
(`recheck.every_days` in the policy) are packed into at most
`GOVFLOW_NIGHTLY_PARALLELISM` groups (env or Airflow Variable, default 8: about
the worker slots). Per group, one task (`checks`) takes its models in turn:
drift of the newest batch against the reference data, PII scan of the batch,
and, when the batch is labeled, fairness and model performance against the
metrics registered with the version (a drop beyond the tolerance fails); the
results of its models written in one transaction (up to `GOVFLOW_NIGHTLY_WRITE_MODELS`
models at a time, default 50); then those models' documentation refresh. With a
heavy queue (`GOVFLOW_HEAVY_QUEUE`), PII and fairness run in their own task there (`heavy_checks`) and the
documentation after both. A retried task runs only what its group has not recorded.

**Re-check now:** trigger with conf `{"recheck": "all"}` to re-check every production
model whose tier re-checks at all, however recently it was checked (a partitioned
source still reads only the partitions no run has checked).

**Also:** reviewers' answers that earlier `governance_gate` runs never recorded
(a failed or stuck run) are read from Airflow's HITL details, recorded, and
their versions decided again (promoted when approved).

**Then:** the audit chain is verified and a summary raises alerts routed to
each model's owner and stakeholders: once per new problem (an open problem is
not re-alerted every night; a fixed one is closed). A broken audit chain fails
the run.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Variable, dag, task, task_group

from govflow.config import decision_queue, task_retry_delay
from govflow.service.check_table import nightly_tasks

DEFAULT_CRON = "0 2 * * *"


def _schedule() -> str:
    # Env first (no lookup at all), then the Airflow Variable (env-backed AIRFLOW_VAR_* or metadata DB).
    explicit = os.environ.get("GOVFLOW_NIGHTLY_CRON")
    if explicit:
        return explicit
    try:
        return Variable.get("GOVFLOW_NIGHTLY_CRON", default=DEFAULT_CRON) or DEFAULT_CRON
    except Exception:  # noqa: BLE001 - no reachable Variable store while parsing: keep the default
        return DEFAULT_CRON


@dag(
    dag_id="nightly_compliance",
    schedule=_schedule(),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["govflow", "governance", "nightly", "monitoring"],
    default_args={"owner": "govflow", "retries": 2, "retry_delay": task_retry_delay(60)},
)
def nightly_compliance():
    @task
    def production_models(**context) -> list[list[dict]]:
        from govflow.tasks.nightly import due_model_groups

        run = context.get("dag_run")
        return due_model_groups(
            parallelism=Variable.get("GOVFLOW_NIGHTLY_PARALLELISM", default=None),
            conf=(getattr(run, "conf", None) or {}) if run is not None else {},
        )

    @task
    def run_checks(group: list[dict], checks: list[str], documents: bool, name: str, **context) -> list[dict]:
        from airflow.sdk.exceptions import AirflowSkipException

        from govflow.service.runs import RunRef
        from govflow.tasks.nightly import check_group

        results = check_group(RunRef.from_context(context), group, checks, documents=documents, task=name)
        if results and all(r.get("status") == "skipped" for r in results):
            raise AirflowSkipException("; ".join(sorted({r["reason"] for r in results})))
        return results

    @task_group
    def recheck(group: list[dict]):
        plan = nightly_tasks()
        tasks = {
            t.task_id: run_checks.override(
                task_id=t.task_id, **t.queue, **({"trigger_rule": "all_done"} if not t.checks else {})
            )(group, list(t.checks), t.documents, t.task_id)
            for t in plan
        }
        checking = [tasks[t.task_id] for t in plan if t.checks]
        for t in plan:
            if not t.checks:  # the documentation alone: after the group's check tasks, whatever they did
                checking >> tasks[t.task_id]

    # The summary writes the trail's checkpoint and reconciling records approvals: the decision key's.
    @task(trigger_rule="all_done", **decision_queue())
    def summary(groups: list[list[dict]] | None, **context) -> dict:
        from govflow.service.runs import RunRef
        from govflow.tasks.failures import task_outcome
        from govflow.tasks.nightly import verify_and_summarize

        # One task level, not two: the chain is verified where the summary that reports it is made.
        with task_outcome():
            return verify_and_summarize(RunRef.from_context(context), [t for g in groups or [] for t in g])

    @task(trigger_rule="all_done", **decision_queue())
    def reconcile_approvals(**context) -> dict:
        from govflow.service.runs import RunRef
        from govflow.tasks.answers import reconcile

        # Answers that earlier governance_gate runs never recorded (failed or stuck run): record, re-decide.
        return reconcile(RunRef.from_context(context))

    reconcile_approvals()
    groups = production_models()
    rechecks = recheck.expand(group=groups)
    rechecks >> summary(groups)


# The DAG object by name: a deployment's DAG file imports it (dags/govflow_dags.py).
dag = nightly_compliance()
