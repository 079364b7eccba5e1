"""nightly_compliance task bodies: which production models are due, their checks on the newest batch,
documentation refresh, audit chain verification, and a summary that alerts once per new problem.

A model whose version sets ``params["monitoring"]["partition"]`` is read by partition
(``service.partitions``): drift and PII on the partitions landed since the last run, fairness and
performance on those whose labels arrived; a model whose labels stop arriving is alerted.

A model is due when its tier's ``recheck.every_days`` has passed since its last
nightly result (a tier without ``recheck`` is never re-checked). Its newest
data batch is the last CSV/Parquet file, by name, under the ``batches_uri``
registered with the model. Drift (against the version's reference data) and
the PII scan run on every batch; fairness and performance (against the metrics
registered with the version) run when the batch is labeled (has the label and
prediction columns).

The due models are packed into at most ``GOVFLOW_NIGHTLY_PARALLELISM`` groups; each
group is one task (``check_table.nightly_tasks``: two and a documentation task with a
heavy queue) that runs every check of its models, writes their results in one
transaction (up to ``GOVFLOW_NIGHTLY_WRITE_MODELS`` models at a time), then renders those
models' documentation. A task's fixed cost (process start, Airflow's round trips, the DB
and object-store sessions, a commit and the trail's lock) is then paid once per group,
not once per model and check. A retried group task finds what it already recorded and
runs only the rest (``run_check`` finds a result before it runs one).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from govflow.access import SYSTEM_AUTH
from govflow.alerts import Problem
from govflow.checks.family import family
from govflow.config import nightly_parallelism, nightly_write_models
from govflow.errors import GovflowError
from govflow.policy import Policy, load_policy
from govflow.progress import LogProgress, reporting
from govflow.service.alerts import raise_alerts
from govflow.service.audit import verify_audit as verify_audit_trail
from govflow.service.audit import write_checkpoint
from govflow.service.check_table import nightly_checks
from govflow.service.mitigate import fix_with_best_option
from govflow.service.monitoring import (
    due_versions,
    label_gap,
    models_with_open_alerts,
    results_of_run_by_version,
)
from govflow.service.pipeline import (
    RunRef,
    document_version,
    model_reads_once,
    partitioned_data,
    pipeline_actor,
    run_check,
)
from govflow.service.policy import alert_noncompliant_owners
from govflow.service.policy_impact import noncompliance_problems_by_version
from govflow.service.result_batch import WriteFailure, results_written_together
from govflow.store import session_scope
from govflow.store.audit import authenticated_as
from govflow.tasks._cost import task_cost

# Task code acts as the governance service itself: its audit events say so.
SYSTEM = authenticated_as(SYSTEM_AUTH)


log = logging.getLogger(__name__)


class AuditChainBrokenError(GovflowError):
    exit_code = 1


class GroupIncompleteError(GovflowError):
    """Some models of a nightly group raised (the others were recorded); the retry runs only those."""

    exit_code = 1


def due_models(
    *,
    now: dt.datetime | None = None,
    dag_id: str = "nightly_compliance",
    every_model: bool = False,
    db_url: str | None = None,
) -> list[dict[str, Any]]:
    """Production versions due for their nightly re-check, one dict per model (``every_model``: a run
    triggered with ``{"recheck": "all"}`` re-checks every production model, due or not)."""
    policy = load_policy()  # resolved once, where the task starts
    now = now or dt.datetime.now(dt.UTC)
    with session_scope(db_url) as session:
        return due_versions(session, policy=policy, now=now, dag_id=dag_id, every_model=every_model)


def due_model_groups(
    *,
    parallelism: str | int | None = None,
    now: dt.datetime | None = None,
    dag_id: str = "nightly_compliance",
    conf: Mapping[str, Any] | None = None,
    db_url: str | None = None,
) -> list[list[dict[str, Any]]]:
    """The due models packed into groups, one mapped task group each (``check_table.nightly_tasks``)."""
    every = (conf or {}).get("recheck") == "all"
    with task_cost("production_models") as cost:
        targets = due_models(now=now, dag_id=dag_id, every_model=every, db_url=db_url)
        cost["models"] = len(targets)
    return pack(targets, nightly_parallelism(parallelism))


def pack(targets: Sequence[Mapping[str, Any]], groups: int) -> list[list[dict[str, Any]]]:
    """Split ``targets`` in order into at most ``groups`` runs whose sizes differ by at most one."""
    count = min(groups, len(targets))
    if count == 0:
        return []
    size, extra = divmod(len(targets), count)
    packed, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        packed.append([dict(t) for t in targets[start:end]])
        start = end
    return packed


def check_group(
    run: RunRef | Mapping[str, Any],
    group: Iterable[Mapping[str, Any]],
    names: str | Sequence[str],
    *,
    documents: bool = False,
    task: str | None = None,
    db_url: str | None = None,
) -> list[dict[str, Any]]:
    """The checks ``names`` for every model of a group; one model or check raising does not stop the
    others. Up to ``GOVFLOW_NIGHTLY_WRITE_MODELS`` models at a time: their checks run, their results
    are written in one transaction (``service.result_batch``), then (``documents``) each of those
    models' documentation renders with tonight's results."""
    group = list(group)
    names = (names,) if isinstance(names, str) else tuple(names)
    what = task or "+".join(names)
    with task_cost(what, run=RunRef.of(run), models=len(group)):
        policy = load_policy()  # resolved once per task, not once per model
        outcome = _Outcome(what)
        size = nightly_write_models()
        for start in range(0, len(group), size):
            window = group[start : start + size]
            # The window's models share what they read (service.pipeline.model_reads_once); their
            # results wait for one write, before the documents that show them.
            with model_reads_once(), results_written_together(db_url=db_url) as batch:
                for target in window:
                    for name in names:
                        outcome.attempt(
                            target,
                            name,
                            functools.partial(check, run, target, name, policy=policy, db_url=db_url),
                        )
                outcome.lost(batch.write())
                for target in window if documents else ():
                    outcome.attempt(
                        target,
                        "documentation",
                        functools.partial(document, run, target, policy=policy, db_url=db_url),
                    )
        return outcome.done_or_raise()


def document_group(
    run: RunRef | Mapping[str, Any], group: Iterable[Mapping[str, Any]], *, db_url: str | None = None
) -> list[dict[str, Any]]:
    """``document`` for every model of a group."""
    return check_group(run, group, (), documents=True, task="documentation", db_url=db_url)


class _Outcome:
    """What a group task did: the summaries it returns, and what raised (reported after the others ran)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.done: list[dict[str, Any]] = []
        self.failed: list[tuple[str, Exception]] = []

    def attempt(self, target: Mapping[str, Any], name: str, step: Callable[[], dict[str, Any]]) -> None:
        try:
            self.done.append(step())
        except Exception as err:  # reported at the end, after the group's other models ran
            log.exception("nightly %s of %s@%s raised", name, target["model"], target["version"])
            self.failed.append((f"{target['model']}@{target['version']} {name}", err))

    def lost(self, failures: Sequence[WriteFailure]) -> None:
        """Results whose write failed: not done (nothing of them is stored), and the task's error."""
        for failure in failures:
            one = failure.pending
            log.error(
                "nightly %s of %s@%s not written: %s", one.result.check, one.model, one.version, failure.error
            )
            self.done = [d for d in self.done if d is not one.summary]
            self.failed.append((f"{one.model}@{one.version} {one.result.check}", failure.error))

    def done_or_raise(self) -> list[dict[str, Any]]:
        if self.failed:
            listed = "; ".join(f"{model}: {err}" for model, err in self.failed)
            raise GroupIncompleteError(
                f"nightly {self.what} raised for {len(self.failed)} of {len(self.failed) + len(self.done)} "
                f"checks ({listed}); the others are recorded, a retry runs only these"
            ) from self.failed[0][1]
        return self.done


@SYSTEM
def check(
    run: RunRef | Mapping[str, Any],
    target: Mapping[str, Any],
    name: str,
    *,
    policy: Policy | None = None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """One nightly check of one production model on its newest batch, once per run."""
    # A long check logs how far it is (rows, rate, time left) every 30 s in the task log.
    with reporting(LogProgress(logging.getLogger("govflow.progress"))):
        return run_check(
            run,
            target["model"],
            target["version"],
            name,
            policy=policy or load_policy(),  # resolved once, where the task starts
            source=partitioned_data(run, db_url=db_url),
            among=nightly_checks(),
            missing_is_error=False,  # no batch (or an unlabeled one) tonight is a skip, not a failure
            db_url=db_url,
        )


@SYSTEM
def document(
    run: RunRef | Mapping[str, Any],
    target: Mapping[str, Any],
    *,
    policy: Policy | None = None,
    db_url: str | None = None,
) -> dict:
    """Re-render the production version's documents with tonight's evidence."""
    policy = policy or load_policy()
    return document_version(run, target["model"], target["version"], policy=policy, db_url=db_url)


@SYSTEM
def verify_audit(*, db_url: str | None = None) -> dict[str, Any]:
    """Verify the chain, its signatures and the newest checkpoint; when intact, anchor tonight's head.

    The checkpoint goes outside the DB (the artifact store's audit-checkpoints/),
    so tomorrow's verify notices a cut or rewritten tail.
    """
    with session_scope(db_url) as session:
        verified = verify_audit_trail(session, newest_checkpoint=True)
        report = verified.to_dict()
    if report["ok"]:
        with session_scope(db_url) as session:  # anchors the head just verified (no second walk)
            checkpoint = write_checkpoint(
                session, actor="airflow", auth_method=SYSTEM_AUTH, verified=verified.chain
            )
        report["checkpoint"] = {k: checkpoint[k] for k in ("seq", "head_hash", "location", "key_id")}
    return report


@SYSTEM
def summarize(
    run: RunRef | Mapping[str, Any],
    targets: Iterable[Mapping[str, Any]],
    audit: Mapping[str, Any] | None,
    *,
    now: dt.datetime | None = None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Tonight's results per model and alerts for new problems (closing fixed ones), labels that
    stopped arriving among them.

    Fails on a broken audit chain.
    """
    run = RunRef.of(run)
    now = now or dt.datetime.now(dt.UTC)
    audit = dict(audit or {"ok": False, "problem": "the audit chain was not verified"})
    models = []
    targets = list(targets)
    keys = [(t["model"], t["version"]) for t in targets]
    with session_scope(db_url) as session:  # every model's reads at once, not a session per model
        noncompliant = noncompliance_problems_by_version(session)  # approved earlier, rejected now
        results_by = results_of_run_by_version(session, run, keys)
        gaps = {key: label_gap(session, *key, now=now) for key in keys}
        alerted = models_with_open_alerts(session, "nightly:")
    for target in targets:
        key = (target["model"], target["version"])
        results = results_by[key]
        problems = [_problem(target, r) for r in results if r["status"] in ("fail", "error")]
        gap = gaps[key]
        if gap is not None:
            problems.append(_labels_problem(target, gap))
        problems += noncompliant.get((target["model"], target["version"]), [])
        if not audit.get("ok"):
            problems.append(
                Problem(
                    key="nightly:audit-chain",
                    severity="critical",
                    subject=f"[govflow] audit trail broken (seen while checking {target['model']})",
                    body=(
                        f"govflow audit verify: first broken event {audit.get('first_broken_seq')}: "
                        f"{audit.get('problem')}"
                    ),
                )
            )
        # Nothing to raise and nothing open to close: a healthy model costs no alert transaction.
        alerts = (
            raise_alerts(
                target["model"],
                problems,
                actor=pipeline_actor(run),
                version=target["version"],
                resolve_prefix="nightly:",
                db_url=db_url,
            )
            if problems or target["model"] in alerted
            else []
        )
        models.append(
            {
                "model": target["model"],
                "version": target["version"],
                "checks": {r["check"]: r["status"] for r in results},
                "problems": [p.key for p in problems],
                "alerts_sent": sum(1 for a in alerts if a["delivery"] == "sent"),
            }
        )
    # Production versions not due for checks tonight are still re-evaluated under the active policy.
    due = {(m["model"], m["version"]) for m in models}
    alert_noncompliant_owners(actor=pipeline_actor(run), db_url=db_url, skip=due)
    summary = {"run": run.to_dict(), "models": models, "audit": audit}
    # The run's record ends here (the portfolio's "Last nightly run" said "running" for ever).
    _finish_run(run, "success" if audit.get("ok") else "failed", db_url=db_url)
    if not audit.get("ok"):
        raise AuditChainBrokenError(
            f"audit chain broken at event {audit.get('first_broken_seq')}: {audit.get('problem')}"
        )
    return summary


def verify_and_summarize(
    run: RunRef | Mapping[str, Any],
    targets: Iterable[Mapping[str, Any]],
    *,
    now: dt.datetime | None = None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """``verify_audit`` then ``summarize``: the DAG's last task level (one task, not two)."""
    targets = list(targets)
    with task_cost("summary", run=RunRef.of(run), models=len(targets)):
        return summarize(run, targets, verify_audit(db_url=db_url), now=now, db_url=db_url)


def _finish_run(run: RunRef, status: str, *, db_url: str | None) -> None:
    from govflow.service.runs import finish_run, run_row

    with session_scope(db_url) as session:
        finish_run(session, run_row(session, run), status=status)


def _labels_problem(target: Mapping[str, Any], gap: Mapping[str, Any]) -> Problem:
    # Without labels, fairness and performance silently stop being re-checked: say so, once.
    return Problem(
        key="nightly:labels-stale",
        severity="warning",
        subject=f"[govflow] {target['model']}@{target['version']}: labels stopped arriving",
        body=(
            f"{gap['waiting']} checked partition(s) of {target['model']} wait for labels; the oldest "
            f"({gap['partition']}) for {gap['days']} days (limit {gap['limit_days']}). Fairness and "
            "performance run again when labels for a window arrive."
        ),
    )


def _problem(target: Mapping[str, Any], result: Mapping[str, Any]):
    failed = result["status"] == "fail"
    severity = "critical" if failed and target.get("tier") == "high" else "warning"
    what = "failed" if failed else "could not run"
    details = (
        "; ".join(result["errors"])
        if result["errors"]
        else ", ".join(f"{k}={v}" for k, v in result["summary"].items())
    )
    body = (
        f"The nightly {result['check']} check of production version {target['version']} "
        f"({target.get('tier')} risk) {what}: {details[:1000]}"
    )
    declared = family(result["check"]) if failed else None
    if declared is not None:  # a way forward, not only the numbers
        model, version = target["model"], target["version"]
        # Fairness's fix names the mitigate command and the best option measured for the version.
        fix = fix_with_best_option(declared.failed_fix(result["summary"]), model, version)
        body += f"\nFix: {fix.replace('--model M --version V', f'--model {model} --version {version}')}."
    return Problem(
        key=f"nightly:{result['check']}",
        severity=severity,
        subject=f"[govflow] {target['model']}@{target['version']}: nightly {result['check']} {what}",
        body=body,
    )
