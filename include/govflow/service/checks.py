"""Recording check results for a model version: evidence to the artifact store, summary to the DB.

Idempotent per (run, version, check): a retried task that records again finds
the stored row and returns it unchanged, so there is one result and one audit
event however often it runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.artifacts import ArtifactStore, StoredArtifact
from govflow.checks import CheckResult
from govflow.errors import ConflictError
from govflow.hashing import canonical_json, sha256_bytes
from govflow.scoped import kept_in
from govflow.service.registry import iso_utc, version_subject
from govflow.store import CheckResultRow, ModelVersion, Run
from govflow.store.audit import append_event


def record_check_result(
    session: Session,
    *,
    version: ModelVersion,
    run: Run,
    result: CheckResult,
    data_sha256: str | None,
    policy_sha256: str | None = None,
    artifacts: ArtifactStore | None = None,
    evidence: StoredArtifact | None = None,
    auth_method: str | None = None,
) -> CheckResultRow:
    """Store the result's row and its signed ``check.recorded`` event in the session's transaction
    (the evidence document too, unless ``store_evidence`` stored it before the transaction began)."""
    existing = find_check_result(session, version_id=version.id, run_id=run.id, check=result.check)
    if existing is not None:
        return existing
    if evidence is None:
        evidence = store_evidence(
            version.model.name, version.version, run, result, data_sha256, artifacts=artifacts
        )
    row = CheckResultRow(
        version_id=version.id,
        run_id=run.id,
        check=result.check,
        status=result.status,
        summary=result.summary,
        errors=list(result.errors),
        evidence_uri=evidence.uri,
        evidence_sha256=evidence.sha256,
        data_sha256=data_sha256,
        policy_sha256=policy_sha256,
        library_versions=result.library_versions,
        duration_s=result.duration_s,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=f"pipeline:{run.dag_id}",
        action="check.recorded",
        subject=version_subject(version.model.name, version.version),
        payload={
            "check": result.check,
            "status": result.status,
            "result_id": row.id,
            "run": f"{run.dag_id}/{run.run_id}",
            "evidence_sha256": evidence.sha256,
            "data_sha256": data_sha256,
            "policy_sha256": policy_sha256,
            "created_at": iso_utc(row.created_at),  # the gate's freshness rule reads it: signed too
        },
        auth_method=auth_method,
    )
    return row


def store_evidence(
    model: str,
    version: str,
    run: EvidenceRun,
    result: CheckResult,
    data_sha256: str | None,
    *,
    artifacts: ArtifactStore | None = None,
) -> StoredArtifact:
    """Put a result's evidence document in the artifact store (content-addressed: a retry that puts
    the same document again writes the same object); the row that names it is written after."""
    data = canonical_json(_evidence_document(model, version, run, result, data_sha256)).encode("utf-8")
    evidence = (artifacts or ArtifactStore()).put_bytes(data, suffix=".json")
    kept = _KEPT.get()
    if kept is not None and len(data) <= _KEPT_BYTES:  # the documentation render reads it next
        kept[evidence.sha256] = data
    return evidence


class EvidenceRun(Protocol):
    """What a result's evidence says about its run (a ``Run`` row, or a copy of one)."""

    @property
    def dag_id(self) -> str: ...

    @property
    def run_id(self) -> str: ...

    @property
    def dag_version(self) -> dict[str, Any] | None: ...


def find_check_result(session: Session, *, version_id: int, run_id: int, check: str) -> CheckResultRow | None:
    return session.scalar(
        select(CheckResultRow).where(
            CheckResultRow.version_id == version_id,
            CheckResultRow.run_id == run_id,
            CheckResultRow.check == check,
        )
    )


def latest_check_results(session: Session, version_id: int) -> dict[str, CheckResultRow]:
    """The newest result of each check for a version (what the gate and the docs look at)."""
    rows = session.scalars(
        select(CheckResultRow)
        .where(CheckResultRow.version_id == version_id)
        .order_by(CheckResultRow.created_at, CheckResultRow.id)
    )
    latest: dict[str, CheckResultRow] = {}
    for row in rows:
        latest[row.check] = row
    return latest


def load_evidence(row: CheckResultRow, artifacts: ArtifactStore | None = None) -> dict[str, Any]:
    """The full evidence document of a stored result, checked against its sha256 (inside
    ``evidence_kept()``, a document already verified there is not fetched again)."""
    digest = row.evidence_sha256
    kept = _KEPT.get()
    data = kept.get(digest) if kept is not None and digest else None
    if data is None:
        data = (artifacts or ArtifactStore()).get_bytes(row.evidence_uri) if row.evidence_uri else b"{}"
        if digest and sha256_bytes(data) != digest:
            raise ConflictError(f"evidence of check result {row.id} does not match its sha256")
        if kept is not None and digest and len(data) <= _KEPT_BYTES:
            kept[digest] = data
    return json.loads(data)


@contextmanager
def evidence_kept() -> Iterator[None]:
    """Within the block, each evidence document is fetched and verified once (a documentation
    render reads every result's evidence once per format), and one recorded in the block is not
    fetched at all: kept by the sha256 its bytes were checked against (or hashed to when written),
    and forgotten when the block ends. Nested blocks share the outer one's."""
    with kept_in(_KEPT):
        yield


_KEPT: ContextVar[dict[str, bytes] | None] = ContextVar("govflow_evidence_kept", default=None)
_KEPT_BYTES = 1 << 20


def result_summary(row: CheckResultRow, model: str, version: str) -> dict[str, Any]:
    """What a task returns (and Airflow shows in XCom): small, no raw data."""
    return {
        "check": row.check,
        "status": row.status,
        "summary": dict(row.summary or {}),
        "errors": list(row.errors or []),
        "result_id": row.id,
        "evidence_uri": row.evidence_uri,
        "evidence_sha256": row.evidence_sha256,
        "model": model,
        "version": version,
    }


def check_result_to_dict(row: CheckResultRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "version_id": row.version_id,
        "run_id": row.run_id,
        "check": row.check,
        "status": row.status,
        "summary": row.summary,
        "errors": row.errors,
        "evidence_uri": row.evidence_uri,
        "evidence_sha256": row.evidence_sha256,
        "data_sha256": row.data_sha256,
        "policy_sha256": row.policy_sha256,
        "library_versions": row.library_versions,
        "duration_s": row.duration_s,
        "created_at": iso_utc(row.created_at),
    }


def _evidence_document(
    model: str, version: str, run: EvidenceRun, result: CheckResult, data_sha256: str | None
) -> dict[str, Any]:
    # No wall-clock values here (duration lives on the DB row): the same evidence hashes the same.
    document = {
        "model": model,
        "version": version,
        "run": {"dag_id": run.dag_id, "run_id": run.run_id}
        | ({"dag_version": run.dag_version} if run.dag_version else {}),  # the pipeline code that produced it
        "data_sha256": data_sha256,
        **result.to_dict(),
    }
    document.pop("duration_s", None)
    return document
