"""
### nightly_compliance

Re-checks every production model on its newest production data, on a cron
schedule (default 02:00 UTC; set the Airflow Variable or environment variable
`GOVFLOW_NIGHTLY_CRON`, e.g. `AIRFLOW_VAR_GOVFLOW_NIGHTLY_CRON="30 1 * * *"`).

**Fan-out:** one mapped group per production model that its risk tier says is
due (`recheck.every_days` in the policy): drift of the newest batch against the
reference data, PII scan of the batch, and, when the batch is labeled, fairness
and model performance against the metrics registered with the version (a drop
beyond the tolerance fails); then a documentation refresh.

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
from datetime import timedelta

import pendulum
from airflow.sdk import Variable, dag, task, task_group

from govflow.config import task_queue
from govflow.service.check_table import NIGHTLY_CHECKS

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
    default_args={"owner": "govflow", "retries": 2, "retry_delay": timedelta(minutes=1)},
)
def nightly_compliance():
    @task
    def production_models() -> list[dict]:
        from govflow.tasks.nightly import due_models

        return due_models()

    @task
    def run_check(target: dict, check: str, **context) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from govflow.service.runs import RunRef
        from govflow.tasks.nightly import check as run

        result = run(RunRef.from_context(context), target, check)
        if result["status"] == "skipped":
            raise AirflowSkipException(result["reason"])
        return result

    @task(trigger_rule="all_done")
    def documentation(target: dict, **context) -> dict:
        from govflow.service.runs import RunRef
        from govflow.tasks.nightly import document

        return document(RunRef.from_context(context), target)

    @task_group
    def recheck(target: dict):
        checks = [
            run_check.override(task_id=name, **task_queue(name))(target, name) for name in NIGHTLY_CHECKS
        ]
        checks >> documentation(target)

    @task(trigger_rule="all_done")
    def verify_audit_chain() -> dict:
        from govflow.tasks.nightly import verify_audit

        return verify_audit()

    @task(trigger_rule="all_done")
    def summary(targets: list[dict], audit: dict | None, **context) -> dict:
        from govflow.service.runs import RunRef
        from govflow.tasks.nightly import summarize

        return summarize(RunRef.from_context(context), targets, audit)

    @task(trigger_rule="all_done")
    def reconcile_approvals(**context) -> dict:
        from govflow.service.runs import RunRef
        from govflow.tasks.answers import reconcile

        # Answers that earlier governance_gate runs never recorded (failed or stuck run): record, re-decide.
        return reconcile(RunRef.from_context(context))

    reconcile_approvals()
    targets = production_models()
    groups = recheck.expand(target=targets)
    audit = verify_audit_chain()
    groups >> audit
    summary(targets, audit)


nightly_compliance()
