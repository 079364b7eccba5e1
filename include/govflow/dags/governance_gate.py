"""
### governance_gate

Governs one model version on its way to production.

**Started by** a training job (`govflow submit ... --trigger`, which posts to
`POST /api/v2/dags/governance_gate/dagRuns` with `conf`), by an event on the
asset `govflow://model-versions` whose `extra` names the version, or from the
trigger form here.

**Steps:** resolve (and, from an asset event, register) the version; data
validation, PII scan, fairness and drift in parallel; when the tier's policy asks
(`fairness.mitigate`) and fairness failed or warned, Fairlearn's mitigations measured
(`govflow mitigate`, nothing registered); documentation (model card,
EU AI Act Annex IV); the policy gate; when the decision is *pending approval*,
one approval request per missing approval in **Required Actions**, assigned
to the reviewers the policy allows (not the submitter); then record every answer
Airflow accepted (read from its HITL details, whatever happened to the approval
tasks), decide again and promote (approved) or reject; then notify the owner and
stakeholders; then reconcile: answers of earlier runs that never reached govflow
are recorded and their versions decided again (nightly_compliance does it too).

Every result, decision and approval is stored in govflow's governance database
with its evidence (see the **Governance** view). The run's outcome is the return
value of `finish`; `govflow submit --wait` reads it.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Asset, Param, dag, task

from govflow.config import decision_queue, task_retry_delay
from govflow.service.check_table import gate_checks, task_queue
from govflow.tasks.approval_operator import GovflowApprovalOperator

MODEL_VERSIONS = Asset("govflow://model-versions")
SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
# How long an approval request waits for a reviewer before the run ends as still pending.
APPROVAL_TIMEOUT = timedelta(hours=float(os.environ.get("GOVFLOW_APPROVAL_TIMEOUT_HOURS", "72")))


@dag(
    dag_id="governance_gate",
    schedule=[MODEL_VERSIONS],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=8,
    doc_md=__doc__,
    tags=["govflow", "governance", "gate"],
    default_args={"owner": "govflow", "retries": 2, "retry_delay": task_retry_delay(30)},
    params={
        "model": Param(
            None,
            type=["null", "string"],
            pattern=SLUG,
            title="Model",
            description="registered model name (slug)",
        ),
        "version": Param(
            None,
            type=["null", "string"],
            minLength=1,
            maxLength=64,
            title="Version",
            description="registered version of the model",
        ),
    },
    render_template_as_native_obj=True,
)
def governance_gate():
    # Tasks that sign with the decision key run on the decision queue when one is configured (its
    # workers run no check); checks, mitigation and documentation need only the check-result key.
    @task(**decision_queue())
    def resolve(**context) -> dict:
        from govflow.service.run_roles import SOURCE_RUN
        from govflow.service.runs import RunRef
        from govflow.tasks.failures import task_outcome
        from govflow.tasks.gate import resolve

        # The run that emitted each event (whose triggering user submits what it names) is set
        # last, so an extra cannot claim one.
        events = [
            (e.extra or {}) | {SOURCE_RUN: [e.source_dag_id, e.source_run_id]}
            for events in (context.get("triggering_asset_events") or {}).values()
            for e in events
        ][::-1]
        run = context["dag_run"]
        # The submitter is who Airflow authenticated as triggering the run, never a name in conf.
        with task_outcome():
            return resolve(
                RunRef.from_context(context),
                context["params"] | (run.conf or {}),
                events,
                triggering_user=getattr(run, "triggering_user_name", None),
            )

    @task
    def run_check(ref: dict, check: str) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from govflow.tasks.failures import task_outcome
        from govflow.tasks.gate import check as run

        with task_outcome():
            result = run(ref, check)
        if result["status"] == "skipped":
            raise AirflowSkipException(result["reason"])
        return result

    @task(trigger_rule="all_done")
    def mitigation(ref: dict) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from govflow.tasks.failures import require_upstream, task_outcome
        from govflow.tasks.gate import mitigate

        with task_outcome():
            require_upstream(ref)
            result = mitigate(ref)
        if result["status"] == "skipped":
            raise AirflowSkipException(result["reason"])
        return result

    @task(trigger_rule="all_done")
    def documentation(ref: dict) -> dict:
        from govflow.tasks.failures import require_upstream, task_outcome
        from govflow.tasks.gate import document

        with task_outcome():
            require_upstream(ref)
            return document(ref)

    @task(trigger_rule="all_done", **decision_queue())
    def gate(ref: dict) -> dict:
        from govflow.tasks.failures import require_upstream, task_outcome
        from govflow.tasks.gate import evaluate

        with task_outcome():
            require_upstream(ref)
            return evaluate(ref)

    @task(**decision_queue())
    def approval_requests(ref: dict, decision: dict) -> list[dict]:
        from airflow.sdk import conf

        from govflow.tasks.failures import task_outcome
        from govflow.tasks.gate import approval_requests

        with task_outcome():
            return approval_requests(ref, decision, base_url=conf.get("api", "base_url", fallback=None))

    # all_done: the answers decide, not the approval tasks' states (Airflow 3.3.2 can fail an
    # approval task that was answered quickly; its answer is still in Airflow's HITL details).
    @task(trigger_rule="all_done", **decision_queue())
    def finish(ref: dict, decision: dict, **context) -> dict:
        from govflow.tasks.answers import collect
        from govflow.tasks.failures import require_upstream, task_outcome
        from govflow.tasks.gate import GateRef, finish

        with task_outcome():
            require_upstream(ref)
            require_upstream(decision)
            answers, notes = [], []
            if decision["decision"] == "pending_approval":  # reviewers were asked
                results = context["ti"].xcom_pull(task_ids="approval") or []
                results = results if isinstance(results, list) else [results]
                answers, notes = collect(GateRef.of(ref).run, results)
            return finish(ref, decision, answers, notes=notes)

    @task(trigger_rule="all_done", **decision_queue())
    def notify(outcome: dict) -> list[dict]:
        from govflow.tasks.failures import require_upstream, task_outcome
        from govflow.tasks.gate import notify

        with task_outcome():
            require_upstream(outcome)
            return notify(outcome)

    @task
    def verdict(outcome: dict, **context) -> str:
        import logging

        from airflow.sdk.exceptions import AirflowFailException

        from govflow.tasks.outcome import post_run_note, run_note, verdict

        # The run note says the decision and its top reasons (was only "submitted by ...").
        run = context["dag_run"]
        problem = post_run_note(outcome, dag_id=run.dag_id, run_id=run.run_id)
        if problem:
            logging.getLogger(__name__).warning("run note not written: %s", problem)
        # A rejected version ends the run red (GOVFLOW_FAIL_REJECTED_RUNS, default on), never all green.
        failure = verdict(outcome)
        if failure is not None:
            raise AirflowFailException(failure)
        return run_note(outcome)

    @task(trigger_rule="all_done", **decision_queue())
    def reconcile(**context) -> dict:
        from govflow.service.runs import RunRef
        from govflow.tasks.answers import reconcile

        # Answers earlier runs never recorded (their run failed or is stuck): record and re-decide.
        run = RunRef.from_context(context)
        return reconcile(run, skip_run_id=run.run_id)

    ref = resolve()
    checks = [run_check.override(task_id=name, **task_queue(name))(ref, name) for name in gate_checks()]
    docs = documentation(ref)
    decision = gate(ref)
    requests = approval_requests(ref, decision)
    approval = GovflowApprovalOperator.partial(
        task_id="approval",
        params={"comment": Param("", type="string", title="Comment", description="required to reject")},
        response_timeout=APPROVAL_TIMEOUT,
        # On timeout the request resolves to "Reject" without a reviewer: finish records no verdict
        # and the version stays pending (the run does not fail).
        defaults="Reject",
        retries=0,
    ).expand_kwargs(requests)
    # ApprovalOperator skips its direct downstream on "Reject"; finish still runs (all_done).
    reviewed = EmptyOperator(task_id="reviewed")
    outcome = finish(ref, decision)

    checks >> mitigation(ref) >> docs >> decision
    approval >> reviewed >> outcome
    notify(outcome) >> reconcile()
    verdict(outcome)


# The DAG object by name: a deployment's DAG file imports it (dags/govflow_dags.py).
dag = governance_gate()
