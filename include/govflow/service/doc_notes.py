"""Documentation notes: what only people know about a model (limitations, oversight...), per version.

Notes are a YAML document stored like the rendered ones (``documents`` row of
kind ``notes``); a version without its own notes uses the newest notes of an
earlier version of the model.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.artifacts import ArtifactStore
from govflow.docs import parse_notes
from govflow.errors import ConflictError
from govflow.hashing import sha256_bytes
from govflow.service.registry import get_version, version_subject
from govflow.store import (
    Document,
    ModelVersion,
)
from govflow.store.audit import append_event

__all__ = ["notes_for", "record_notes"]


def record_notes(
    session: Session,
    model: str,
    version: str,
    text: str,
    *,
    actor: str,
    artifacts: ArtifactStore | None = None,
) -> Document:
    """Store the people-written documentation notes (YAML) of a version, audited."""
    notes = parse_notes(text, source=f"for {model}@{version}")
    row = get_version(session, model, version)
    stored = (artifacts or ArtifactStore()).put_text(text, suffix=".yaml")
    current = _latest_document(session, row.id, "notes", "yaml")
    if current is not None and current.sha256 == stored.sha256:
        return current
    document = Document(
        version_id=row.id,
        kind="notes",
        format="yaml",
        uri=stored.uri,
        sha256=stored.sha256,
        completeness={"keys": sorted(notes)},
    )
    session.add(document)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="version.notes_recorded",
        subject=version_subject(model, version),
        payload={"document_id": document.id, "sha256": stored.sha256, "keys": sorted(notes)},
    )
    return document


def _latest_document(session: Session, version_id: int, kind: str, fmt: str) -> Document | None:
    return session.scalar(
        select(Document)
        .where(Document.version_id == version_id, Document.kind == kind, Document.format == fmt)
        .order_by(Document.id.desc())
        .limit(1)
    )


def notes_for(
    session: Session, row: ModelVersion, artifacts: ArtifactStore
) -> tuple[dict[str, Any], str | None]:
    """This version's notes, else the newest notes of an earlier version of the model.

    Notes usually carry over from one version to the next.
    """
    query = (
        select(Document, ModelVersion.version)
        .join(ModelVersion, ModelVersion.id == Document.version_id)
        .where(ModelVersion.model_id == row.model_id, ModelVersion.id <= row.id, Document.kind == "notes")
        .order_by(ModelVersion.id.desc(), Document.id.desc())
        .limit(1)
    )
    found = session.execute(query).first()
    if found is None:
        return {}, None
    document, version = found
    data = artifacts.get_bytes(document.uri)
    if sha256_bytes(data) != document.sha256:
        raise ConflictError(f"documentation notes {document.id} do not match their sha256")
    return parse_notes(data.decode("utf-8"), source=f"for {row.model.name}@{version}"), version
