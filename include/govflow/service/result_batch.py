"""A nightly task's check results written together: their rows and signed events in one transaction.

Inside ``results_written_together()``, ``pipeline.record_result`` puts a result's evidence in the
artifact store at once (content-addressed, outside any transaction) and keeps its row and its
``check.recorded`` event pending; ``ResultBatch.write()`` stores every pending one in a single
transaction. A batch of results then costs one commit, one hold of the trail's lock and (in a
process that seals) one subject seal per model, not one of each per result.

Each event keeps its own signature: the gate verifies a fact by its signature alone, without
reading the events around it, which may belong to other models.

The summary ``run_check`` returns for a pending result is the dict filled in place once it is
written (its ``result_id`` is None until then). If the batch's transaction fails, each result is
written in its own, so one bad row loses nothing else; what still fails is returned, and a retry
runs those checks again (nothing of theirs was recorded).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from govflow.artifacts import StoredArtifact
from govflow.checks import CheckResult
from govflow.service.checks import record_check_result, result_summary, store_evidence
from govflow.service.registry import get_version
from govflow.service.runs import RunRef, run_row
from govflow.store import ModelVersion, Run, session_scope
from govflow.store.audit import acting_auth

__all__ = ["PendingResult", "ResultBatch", "WriteFailure", "pending_results", "results_written_together"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunFields:
    """What a result's evidence says about its run (a copy of the ``Run`` row, read once a batch)."""

    dag_id: str
    run_id: str
    dag_version: dict[str, Any] | None


@dataclass
class PendingResult:
    run: RunRef
    model: str
    version: str
    result: CheckResult
    data_sha256: str | None
    policy_sha256: str | None
    evidence: StoredArtifact
    auth_method: str | None  # as the caller was authenticated when the check ran
    summary: dict[str, Any]  # what run_check returned: filled in place once written


@dataclass(frozen=True)
class WriteFailure:
    pending: PendingResult
    error: Exception


class ResultBatch:
    def __init__(self, *, db_url: str | None) -> None:
        self.db_url = db_url
        self.pending: list[PendingResult] = []
        self._runs: dict[tuple[str, str], RunFields] = {}

    def add(
        self,
        run: RunRef,
        model: str,
        version: str,
        result: CheckResult,
        data_sha256: str | None,
        policy_sha256: str | None,
    ) -> dict[str, Any]:
        """Put the result's evidence now and keep its row and event for ``write()``; returns its summary."""
        evidence = store_evidence(model, version, self._run_fields(run), result, data_sha256)
        summary: dict[str, Any] = {
            "check": result.check,
            "status": result.status,
            "summary": dict(result.summary),
            "errors": list(result.errors),
            "result_id": None,
            "evidence_uri": evidence.uri,
            "evidence_sha256": evidence.sha256,
            "model": model,
            "version": version,
        }
        self.pending.append(
            PendingResult(
                run, model, version, result, data_sha256, policy_sha256, evidence, acting_auth(), summary
            )
        )
        return summary

    def write(self) -> list[WriteFailure]:
        """Store every pending result in one transaction (each in its own if that fails); returns the
        results that could not be stored."""
        pending, self.pending = self.pending, []
        if not pending:
            return []
        try:
            self._write(pending)
            return []
        except Exception as err:  # noqa: BLE001 - one bad row must not cost the batch's other results
            log.warning("writing %d results together failed (%s); writing each on its own", len(pending), err)
        failures = []
        for one in pending:
            try:
                self._write([one])
            except Exception as err:  # noqa: BLE001 - reported to the task, which fails and retries
                failures.append(WriteFailure(one, err))
        return failures

    def _write(self, pending: list[PendingResult]) -> None:
        written: list[tuple[PendingResult, dict[str, Any]]] = []
        with session_scope(self.db_url) as session:
            versions: dict[tuple[str, str], ModelVersion] = {}
            runs: dict[tuple[str, str], Run] = {}
            for one in pending:
                key = (one.model, one.version)
                if key not in versions:
                    versions[key] = get_version(session, one.model, one.version)
                if (one.run.dag_id, one.run.run_id) not in runs:
                    runs[(one.run.dag_id, one.run.run_id)] = run_row(session, one.run)
                stored = record_check_result(
                    session,
                    version=versions[key],
                    run=runs[(one.run.dag_id, one.run.run_id)],
                    result=one.result,
                    data_sha256=one.data_sha256,
                    policy_sha256=one.policy_sha256,
                    evidence=one.evidence,
                    auth_method=one.auth_method,
                )
                # the stored row wins: a racing task may have recorded this check first
                written.append((one, result_summary(stored, one.model, one.version)))
        for one, stored_summary in written:  # only once committed: a rolled-back id names nothing
            one.summary.update(stored_summary)

    def _run_fields(self, run: RunRef) -> RunFields:
        key = (run.dag_id, run.run_id)
        if key not in self._runs:
            with session_scope(self.db_url) as session:
                row = run_row(session, run)
                self._runs[key] = RunFields(row.dag_id, row.run_id, row.dag_version)
        return self._runs[key]


_BATCH: ContextVar[ResultBatch | None] = ContextVar("govflow_result_batch", default=None)


def pending_results(db_url: str | None) -> ResultBatch | None:
    """The batch results recorded now join (one for the same database), or None: write at once."""
    batch = _BATCH.get()
    return batch if batch is not None and batch.db_url == db_url else None


@contextmanager
def results_written_together(*, db_url: str | None) -> Iterator[ResultBatch]:
    """Results recorded inside wait for ``write()``; what is still pending when the block ends
    normally is written then (a failure raises), so no finished check is dropped unsaid."""
    batch = ResultBatch(db_url=db_url)
    token = _BATCH.set(batch)
    try:
        yield batch
    finally:
        _BATCH.reset(token)
    failures = batch.write()
    if failures:
        raise failures[0].error
