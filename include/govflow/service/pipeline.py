"""Pipeline use cases: one governance check (or documentation render) for one version in one run.

The DAG tasks, the CLI and the tests call these; each is idempotent per
(run, version, check): a retried task finds the stored result and neither
re-runs the check nor writes a second row or audit event.

``run_check`` is the one "find, or run then record" sequence. What it runs
comes from the check table (``check_table.checks()``); where the data comes from
is the caller's ``source``: the files the version was registered with (the
gate) or the model's newest production batch (the nightly re-check).

Heavy work runs outside any DB transaction (on SQLite a transaction holds the
write lock), between a short read and a short write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow import signing
from govflow.artifacts import fetched_once
from govflow.checks import CheckResult
from govflow.errors import GovflowError
from govflow.policy import Policy
from govflow.scoped import kept_in, remembered
from govflow.service import docs as docs_service
from govflow.service import partitions
from govflow.service.batches import batch_columns, batch_name, batches_listed_once, newest_batch
from govflow.service.check_table import CheckSpec, Missing, check_spec, gate_checks
from govflow.service.checks import evidence_kept, find_check_result, record_check_result, result_summary
from govflow.service.inputs import CheckConfig, VersionInputs, inputs_of
from govflow.service.objects import local_inputs, private_reads
from govflow.service.policy import require_active
from govflow.service.registry import get_version
from govflow.service.result_batch import pending_results
from govflow.service.runs import PIPELINE_USER, RunRef, pipeline_actor, run_row
from govflow.store import CheckResultRow, session_scope
from govflow.store.seals import seals_read_once

__all__ = [
    "PIPELINE_USER",
    "CheckConfig",
    "DataFile",
    "RunRef",
    "VersionInputs",
    "check_on_data",
    "document_version",
    "inputs_read_once",
    "load_inputs",
    "model_reads_once",
    "newest_batch",
    "newest_batch_data",
    "partitioned_data",
    "pipeline_actor",
    "record_result",
    "recorded_result",
    "refresh_documents",
    "registered_data",
    "result_summary",
    "run_check",
    "run_check_for_version",
    "runner_cpu",
]


@dataclass(frozen=True)
class DataFile:
    """The file a check runs on, and what the task reports about it (e.g. the batch's name)."""

    path: str
    report: dict[str, Any] = field(default_factory=dict)
    covers: dict[str, Any] = field(default_factory=dict)  # added to the result's summary (partitions)
    sha256: str | None = None  # what the file must hash to (a read written to the cache just now)


# Where a check's data comes from: a file, or why there is none.
DataSource = Callable[[CheckSpec, VersionInputs], DataFile | Missing]


def registered_data(spec: CheckSpec, inputs: VersionInputs) -> DataFile | Missing:
    """The gate's source: the registered file the check reads (training, eval data...)."""
    found = spec.registered(inputs)
    return found if isinstance(found, Missing) else DataFile(found)


def newest_batch_data(spec: CheckSpec, inputs: VersionInputs) -> DataFile | Missing:
    """The nightly source: the model's newest production batch, if it carries what the check needs."""
    batch = newest_batch(inputs.batches_uri)
    if batch is None:
        where = inputs.batches_uri or "nowhere (register the model with --batches)"
        return Missing(f"no production data batch under {where}")
    report = {"batch": batch_name(batch)}
    if spec.on_batch is not None:
        missing = spec.on_batch(inputs, set(batch_columns(batch)), batch_name(batch))
        if missing is not None:
            return Missing(missing.reason)
    return DataFile(batch, report)


def partitioned_data(run: RunRef | Mapping[str, Any], *, db_url: str | None = None) -> DataSource:
    """The nightly source of ``run``: the partitions of a partitioned source this run claims (new ones
    for drift and PII, newly labeled ones for fairness and performance); the newest batch otherwise."""
    run = RunRef.of(run)

    def source(spec: CheckSpec, inputs: VersionInputs) -> DataFile | Missing:
        try:
            monitored = partitions.MonitoringSource.of(inputs.batches_uri, inputs.monitoring)
        except GovflowError as err:
            return Missing(str(err))
        if monitored is None:
            return newest_batch_data(spec, inputs)
        try:
            return _claimed_partitions(run, spec, inputs, monitored, db_url=db_url)
        except GovflowError as err:  # an unreachable source is this check's error, not the group's
            return Missing(f"cannot read {monitored.uri}: {err}")

    return source


def _claimed_partitions(
    run: RunRef,
    spec: CheckSpec,
    inputs: VersionInputs,
    monitored: partitions.MonitoringSource,
    *,
    db_url: str | None,
) -> DataFile | Missing:
    # Checks that need outcomes (the table's on_batch) wait for labels; the others run when data lands.
    stage = partitions.LABELS if spec.on_batch is not None else partitions.PREDICTIONS
    label = inputs.config.label if stage == partitions.LABELS else None
    listing = partitions.list_partitions(monitored)
    with session_scope(db_url) as session:
        model = get_version(session, inputs.model, inputs.version).model
        run_ = run_row(session, run)
        keys = partitions.claimed_by_run(session, run=run_, model=model, source=monitored.uri, stage=stage)
        retry = bool(keys)
        if not retry:
            keys = partitions.unclaimed(
                session, model=model, source=monitored.uri, stage=stage, listed=list(listing)
            )
    keys = [k for k in keys if k in listing]
    if not keys:
        waiting = "labeled " if stage == partitions.LABELS else ""
        return Missing(f"no new {waiting}partitions under {monitored.uri}")
    read = partitions.read_partitions(monitored, listing, keys, label=label)
    if not retry:
        if label:  # only partitions whose labels arrived are claimed; the rest wait for a later night
            keys = [k for k in keys if read.coverage(k) >= monitored.min_label_coverage]
            if not keys:
                return Missing(
                    f"labels for {monitored.uri} cover {read.coverage():.0%} of the waiting rows "
                    f"(at least {monitored.min_label_coverage:.0%} a partition)"
                )
        with session_scope(db_url) as session:
            model = get_version(session, inputs.model, inputs.version).model
            held = partitions.claim(
                session,
                run=run_row(session, run),
                model=model,
                source=monitored.uri,
                stage=stage,
                read=read,
                keys=keys,
            )
        held = [k for k in held if k in listing]
        if held != read.partitions:  # fewer labeled, or a racing task claimed others
            read = partitions.read_partitions(monitored, listing, held, label=label)
    name = batch_name(read.path)
    if spec.on_batch is not None:
        missing = spec.on_batch(inputs, set(read.columns), name)
        if missing is not None:
            return Missing(missing.reason)
    covers: dict[str, Any] = {"partitions": read.partitions, "rows": sum(read.rows.values())}
    if label:
        covers |= {
            "window": {"from": read.partitions[0], "to": read.partitions[-1]},
            "label_coverage": read.coverage(),
        }
    return DataFile(read.path, {"batch": name, "partitions": read.partitions}, covers, read.sha256)


def load_inputs(session: Session, model: str, version: str) -> VersionInputs:
    return inputs_of(get_version(session, model, version))


# Inputs verified in an ``inputs_read_once()`` block, by (model, version, policy sha256).
_INPUTS: ContextVar[dict[tuple[str, str, str], VersionInputs] | None] = ContextVar(
    "govflow_inputs_kept", default=None
)


@contextmanager
def inputs_read_once() -> Iterator[None]:
    """Within the block, a version's inputs are read and checked against its signed registration
    (and the policy against the active one) once, not before each of its checks. ``VersionInputs``
    is frozen: every check of the block judges the same verified registration."""
    with kept_in(_INPUTS):
        yield


@contextmanager
def model_reads_once() -> Iterator[None]:
    """A nightly task's models (a window of them): each model's registration and policy, seals,
    newest batch (listing, header, download), results of the run and the evidence it records are
    read once, not before each of its checks and its documentation (every memo is keyed by what it
    holds, so one block serves several models; each helper says why keeping it is safe)."""
    with (
        seals_read_once(),
        inputs_read_once(),
        results_read_once(),
        evidence_kept(),
        fetched_once(),
        batches_listed_once(),
    ):
        yield


def _verified_inputs(model: str, version: str, policy: Policy, *, db_url: str | None) -> VersionInputs:
    def verify() -> VersionInputs:
        with session_scope(db_url) as session:
            # Thresholds come from the policy: a file an admin did not apply judges nothing.
            require_active(session, policy)
            return load_inputs(session, model, version)

    return remembered(_INPUTS, (model, version, policy.sha256), verify)


# --- one check for one version in one run ----------------------------------------------------

# The CPU seconds of the runners run inside ``runner_cpu()`` (a task's cost; not stored: a result's
# evidence holds no clock values, and a found result costs none).
_RUNNER_CPU: ContextVar[dict[str, float] | None] = ContextVar("govflow_runner_cpu", default=None)


@contextmanager
def runner_cpu() -> Iterator[dict[str, float]]:
    """Collect the process CPU seconds of the check runners and document renders run inside, per
    check (``documentation`` for the renders)."""
    spent: dict[str, float] = {}
    token = _RUNNER_CPU.set(spent)
    try:
        yield spent
    finally:
        _RUNNER_CPU.reset(token)


def _count_cpu(check: str, seconds: float) -> None:
    spent = _RUNNER_CPU.get()
    if spent is not None:
        spent[check] = spent.get(check, 0.0) + seconds


def run_check(
    run: RunRef | Mapping[str, Any],
    model: str,
    version: str,
    check: str,
    *,
    policy: Policy,
    source: DataSource = registered_data,
    among: tuple[str, ...] | None = None,
    missing_is_error: bool = True,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Find the run's result of ``check`` for the version, or run it on ``source``'s file and record it.

    Returns the result's summary dict; ``status: skipped`` (nothing recorded)
    when there is no data for the check and the tier does not require it (or
    ``missing_is_error`` is off). A required check without its inputs is
    recorded as ``error``, so the gate fails closed and says why.
    """
    # The gate's table when read now (not at import), so a family registered later has its row.
    spec = check_spec(check, among=gate_checks() if among is None else among)
    signing.refuse_untrusted_work(f"the {check} check (it parses submitted data)")
    run = RunRef.of(run)
    found = recorded_result(run, model, version, check, db_url=db_url)
    if found is not None:
        return found
    inputs = _verified_inputs(model, version, policy, db_url=db_url)
    data = source(spec, inputs)
    if isinstance(data, Missing):
        required = missing_is_error and check in policy.tier(inputs.tier).required_checks
        if not required:
            return {
                "check": check,
                "status": "skipped",
                "reason": data.reason,
                "model": model,
                "version": version,
            }
        reason = f"{data.reason} (the {inputs.tier} tier requires {check})"
        return record_result(
            run, model, version, CheckResult.error(check, reason), None, policy, db_url=db_url
        )
    cpu = time.process_time()  # the runner's CPU: a check's wall time grows when slots share cores
    result, data_sha = check_on_data(check, inputs, data=data.path, policy=policy)
    cpu = time.process_time() - cpu
    if data.sha256 is not None and data_sha != data.sha256:
        result = CheckResult.error(
            check,
            f"the data read for {check} ({batch_name(data.path)}) changed in the cache before the check "
            f"read it: sha256 {str(data_sha)[:12]}, not {data.sha256[:12]}",
        )
    if data.covers:  # the evidence says which partitions (and labels) the result covers
        result = replace(result, summary={**result.summary, **data.covers})
    _count_cpu(check, cpu)
    summary = record_result(run, model, version, result, data_sha, policy, db_url=db_url)
    summary.update(data.report)  # in place: a result written with its batch is filled in later
    return summary


def run_check_for_version(
    run: RunRef | Mapping[str, Any],
    model: str,
    version: str,
    check: str,
    *,
    policy: Policy,
    db_url: str | None = None,
) -> dict[str, Any]:
    """The gate's check: ``run_check`` on the version's registered files."""
    return run_check(run, model, version, check, policy=policy, db_url=db_url)


def check_on_data(
    check: str, inputs: VersionInputs, *, data: str, policy: Policy
) -> tuple[CheckResult, str | None]:
    """Run one check on one data file for a version; returns (CheckResult, sha256 of the file read)."""
    spec = check_spec(check)
    # The check reads private copies made while hashing (what it judges is what was hashed); files in
    # object storage come from this worker's verified cache.
    with private_reads() as folder:
        try:
            inputs, data, data_sha = local_inputs(inputs, data, reads=spec.also_reads, into=folder)
        except GovflowError as err:
            return CheckResult.error(check, str(err)), None
        # The result's duration is the whole runner: reading the data, the check and what it adds to
        # its evidence (fairness explains the model); what is left of a task's time is orchestration.
        started = time.perf_counter()
        result = spec.run(data, inputs, policy)
    return replace(result, duration_s=time.perf_counter() - started), data_sha


# --- recording -----------------------------------------------------------------------------


def recorded_result(
    run: RunRef, model: str, version: str, check: str, *, db_url: str | None, fresh: bool = False
) -> dict[str, Any] | None:
    """The run's stored result of ``check`` for the version, or None. In a ``model_reads_once()``
    block the version's results of the run are read once (then kept as this block records them);
    ``fresh`` asks the DB again (after something else recorded one)."""
    kept, key = _FOUND.get(), (run.dag_id, run.run_id, model, version)
    if kept is not None and key in kept and not fresh:
        return kept[key].get(check)
    with session_scope(db_url) as session:
        row = get_version(session, model, version)
        run_id = run_row(session, run).id
        if kept is None:
            found = find_check_result(session, version_id=row.id, run_id=run_id, check=check)
            return result_summary(found, model, version) if found is not None else None
        stored = session.scalars(
            select(CheckResultRow).where(CheckResultRow.version_id == row.id, CheckResultRow.run_id == run_id)
        )
        kept[key] = {r.check: result_summary(r, model, version) for r in stored}
    return kept[key].get(check)


# A version's results of a run read in a ``model_reads_once()`` block: (dag, run, model, version) ->
# check -> summary.
_FOUND: ContextVar[dict[tuple[str, str, str, str], dict[str, dict[str, Any]]] | None] = ContextVar(
    "govflow_results_found", default=None
)


@contextmanager
def results_read_once() -> Iterator[None]:
    """Within the block, a version's results of a run are read in one query and kept as the block
    records more (a retried task is a new process: it reads them again)."""
    with kept_in(_FOUND):
        yield


def record_result(
    run: RunRef,
    model: str,
    version: str,
    result: CheckResult,
    data_sha: str | None,
    policy: Policy,
    *,
    db_url: str | None,
) -> dict[str, Any]:
    """Record a result now, or inside ``results_written_together()`` with the batch's other results
    (the summary returned is then filled in place once written)."""
    batch = pending_results(db_url)
    if batch is not None:
        summary = batch.add(run, model, version, result, data_sha, policy.sha256)
    else:
        with session_scope(db_url) as session:
            row = get_version(session, model, version)
            stored = record_check_result(
                session,
                version=row,
                run=run_row(session, run),
                result=result,
                data_sha256=data_sha,
                policy_sha256=policy.sha256,
            )
            summary = result_summary(stored, model, version)
    kept = _FOUND.get()
    if kept is not None and (run.dag_id, run.run_id, model, version) in kept:
        kept[(run.dag_id, run.run_id, model, version)][summary["check"]] = summary
    return summary


# --- documentation -------------------------------------------------------------------------


def document_version(
    run: RunRef | Mapping[str, Any],
    model: str,
    version: str,
    *,
    policy: Policy | None = None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Render and store the version's documents and record the documentation check, once per run."""
    run = RunRef.of(run)
    found = recorded_result(run, model, version, "documentation", db_url=db_url)
    if found is not None:
        return found
    with session_scope(db_url) as session, evidence_kept():
        cpu = time.process_time()
        docs_service.document_version(
            session, model, version, run=run_row(session, run), actor=pipeline_actor(run), policy=policy
        )
        _count_cpu("documentation", time.process_time() - cpu)
    done = recorded_result(run, model, version, "documentation", db_url=db_url, fresh=True)
    assert done is not None  # recorded just above, in its own transaction
    return done


def refresh_documents(
    model: str, version: str, *, actor: str, policy: Policy | None = None, db_url: str | None = None
) -> list[dict[str, Any]]:
    """Re-render the version's documents (after a decision or a promotion).

    Unchanged documents are found, not added.
    """
    with session_scope(db_url) as session:
        return [
            d
            for fmt in ("md", "html")
            for d in docs_service.render_docs(session, model, version, fmt, actor=actor, policy=policy)[
                "documents"
            ]
        ]
