"""`govflow evidence export --format cyclonedx`: a version's ML-BOM (validated, stored, audited)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow import __version__
from govflow.artifacts import ArtifactStore
from govflow.checks.family import family
from govflow.docs.cyclonedx import build_bom, validate_bom
from govflow.files import atomic_write
from govflow.service.checks import load_evidence
from govflow.service.doc_notes import notes_for
from govflow.service.registry import get_version, model_to_dict, version_subject, version_to_dict
from govflow.service.version_records import decision_record, version_decisions
from govflow.store import CheckResultRow
from govflow.store.audit import append_event
from govflow.timeutil import iso_utc

__all__ = ["export_cyclonedx"]


def export_cyclonedx(
    session: Session,
    model: str,
    version: str,
    out: str | Path,
    *,
    actor: str,
    artifacts: ArtifactStore | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Write ``model@version``'s ML-BOM to ``out``; an unknown version raises before anything is written.

    The BOM is validated against the CycloneDX 1.6 schema before it is written: an invalid
    one is never handed out.
    """
    artifacts = artifacts or ArtifactStore()
    row = get_version(session, model, version)
    newest: dict[str, CheckResultRow] = {}
    for result in session.scalars(
        select(CheckResultRow)
        .where(CheckResultRow.version_id == row.id)
        .order_by(CheckResultRow.created_at, CheckResultRow.id)
    ):
        newest[result.check] = result
    checks = []
    for name, result in sorted(newest.items()):
        # Only the fairness card needs the groups; other evidence stays in the bundle.
        # (the evidence document holds the check's details at its top level, next to the summary).
        details = load_evidence(result, artifacts) if getattr(family(name), "bom_details", False) else {}
        checks.append({"check": name, "status": result.status, "summary": result.summary, "details": details})
    decisions = version_decisions(session, row)
    notes, _ = notes_for(session, row, artifacts)
    stamp = iso_utc(now or dt.datetime.now(dt.UTC)) or ""
    text = build_bom(
        model_to_dict(row.model),
        version_to_dict(row, model_name=model),
        checks=checks,
        decision=decision_record(decisions[-1]) if decisions else None,
        notes=notes,
        govflow_version=__version__,
        serial=str(uuid.uuid5(uuid.NAMESPACE_URL, f"govflow:{model}@{version}:{stamp}")),
        timestamp=stamp,
    )
    validate_bom(text)
    target = Path(out).expanduser()
    data = text.encode("utf-8")
    atomic_write(target, lambda handle: handle.write(data))
    stored = artifacts.put_bytes(data, suffix=".cdx.json")
    append_event(
        session,
        actor=actor,
        action="evidence.bom_exported",
        subject=version_subject(model, version),
        payload={"format": "cyclonedx-1.6", "sha256": stored.sha256, "uri": stored.uri},
    )
    return {
        "model": model,
        "version": version,
        "format": "cyclonedx",
        "spec_version": "1.6",
        "bom": str(target),
        "uri": stored.uri,
        "sha256": stored.sha256,
        "components": 1
        + sum(1 for key in ("training", "reference", "eval") if getattr(row, f"{key}_data_uri")),
        "checks": [c["check"] for c in checks],
    }
