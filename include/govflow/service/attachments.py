"""Display-only files beside a version that check families' views show (``checks.family.Attachment``).

The state volume holds files no signed event covers (the gate's measured
mitigations, a challenger's frontier). Views may show them, labelled; nothing
that decides reads them. For one version:

1. ask every family which files it would show (``CheckFamily.attachments``);
2. read each one that exists under ``$GOVFLOW_HOME`` (a path that leaves the
   folder, a file over ``MAX_BYTES`` or anything but a JSON object is left out);
3. when the family names where the file's sha256 sits in the version's params,
   take that value from the version's ``version.registered`` audit event whose
   signature verifies with the trusted keys (never from the row): the file is
   ``signed`` only when its bytes hash to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from govflow.checks.family import Attachment, families
from govflow.config import home
from govflow.errors import GovflowError
from govflow.hashing import sha256_bytes
from govflow.service.fact_rows import Trail, load_events
from govflow.service.registry import version_subject
from govflow.signing import Keyring
from govflow.store import AuditEvent, ModelVersion

__all__ = ["MAX_BYTES", "version_attachments"]

MAX_BYTES = 5_000_000


def version_attachments(session: Session, row: ModelVersion) -> dict[str, dict[str, Any]]:
    """``{key: {"data", "sha256", "signed"}}`` for the families' files beside ``row`` that exist."""
    model = row.model.name
    wanted = [a for f in families() for a in f.attachments(model, row.version, dict(row.params or {}))]
    out: dict[str, dict[str, Any]] = {}
    signed: Mapping[str, Any] | None = None
    for attachment in wanted:
        read = _read(attachment)
        if read is None:
            continue
        data, digest = read
        expected = None
        if attachment.signed_sha256:
            if signed is None:
                signed = _signed_params(session, model, row.version)
            expected = _dig(signed, attachment.signed_sha256)
        out[attachment.key] = {"data": data, "sha256": digest, "signed": expected == digest}
    return out


def _read(attachment: Attachment) -> tuple[dict[str, Any], str] | None:
    root = home().resolve()
    path = (root / attachment.path).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.stat().st_size > MAX_BYTES:
        return None
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError):  # unreadable or not JSON: nothing to show
        return None
    return (data, sha256_bytes(raw)) if isinstance(data, dict) else None


def _signed_params(session: Session, model: str, version: str) -> Mapping[str, Any]:
    """The params of the version's registration event, when its signature verifies; else {}."""
    subject = version_subject(model, version)
    trail = Trail()
    try:
        load_events(session, AuditEvent.subject == subject, Keyring.trusted(), trail)
    except (GovflowError, OSError, ValueError):  # no usable trusted key: nothing counts as signed
        return {}
    event = trail.versions.get(subject)
    params = event.payload.get("params") if event is not None else None
    return params if isinstance(params, Mapping) else {}


def _dig(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value
