"""Seals: a signed checkpoint of the chain head after every governance commit, kept outside the DB.

Cutting the newest events of the trail needs no key (each event only proves
the ones before it). A seal written after each commit that recorded a
decision, an approval or rejection, a waiver, a stage move or a policy makes
such a cut visible, to ``audit verify`` and to the gate before it decides:

1. ``append_event`` notes the transaction's newest event in ``session.info``
   (and whether its action is one of ``SEALED_ACTIONS``);
2. after the commit (never before: a rolled-back event must not be sealed),
   ``{seq, head_hash}`` is signed and written as a new file named by its seq
   in the checkpoint folder (the format of ``govflow audit checkpoint``, so
   ``audit verify`` checks every seal), then ``head.json`` is replaced by it
   if it is newer (the gate reads that one file, not the folder);
3. ``sealed_tail_problem``: the newest seal must verify with a trusted key,
   the DB must still hold its event with that hash (recomputed from the row),
   and no seq up to it may be missing (one indexed count).

A seal that cannot be written is logged, not raised: the commit has happened,
and the next sealed commit covers it too. Events after the newest seal (check
results recorded since the last decision) are not sealed yet; the next
decision seals them before it counts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from govflow import config
from govflow.hashing import canonical_json
from govflow.signing import Keyring, signing_key
from govflow.store._models import AuditEvent

__all__ = [
    "CHECKPOINT_DIR",
    "CHECKPOINT_FORMAT",
    "HEAD_NAME",
    "SEALED_ACTIONS",
    "checkpoint_message",
    "checkpoint_root",
    "note_appended",
    "read_head",
    "sealed_tail_problem",
    "signed_checkpoint",
    "write_seal",
]

CHECKPOINT_FORMAT = "govflow-audit-checkpoint/1"
CHECKPOINT_DIR = "audit-checkpoints"
HEAD_NAME = "head.json"
# The events a decision counts: each commit that appends one is sealed.
SEALED_ACTIONS = frozenset(
    {
        "approval.recorded",
        "waiver.recorded",
        "gate.evaluated",
        "version.stage_changed",
        "policy.applied",
    }
)
_MAX_BYTES = 64 * 1024
_TAIL = "govflow_audit_tail"
_DUE = "govflow_seal_due"

log = logging.getLogger(__name__)


def checkpoint_root() -> str:
    return f"{config.artifacts_root().rstrip('/')}/{CHECKPOINT_DIR}"


def checkpoint_message(body: dict[str, Any]) -> bytes:
    return f"{CHECKPOINT_FORMAT}:{canonical_json(body)}".encode()


def signed_checkpoint(seq: int, head_hash: str) -> dict[str, Any]:
    key = signing_key()
    body = {
        "format": CHECKPOINT_FORMAT,
        "seq": seq,
        "head_hash": head_hash,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "key_id": key.key_id,
    }
    return {**body, "signature": key.sign(checkpoint_message(body))}


def checkpoint_name(seq: int, head_hash: str) -> str:
    return f"{seq:012d}-{head_hash[:16]}.json"


# --- writing (after commit) -------------------------------------------------------------------


def note_appended(session: Session, *, seq: int, head_hash: str, action: str) -> None:
    """Called by ``append_event``: remember the transaction's newest event and if it must be sealed."""
    session.info[_TAIL] = (seq, head_hash)
    if action in SEALED_ACTIONS:
        session.info[_DUE] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    tail, due = session.info.pop(_TAIL, None), session.info.pop(_DUE, False)
    if tail is None or not due:
        return
    try:
        write_seal(*tail)
    except Exception:  # the commit happened; the next sealed commit covers this one too
        log.exception("could not write the audit seal of seq %s", tail[0])


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_TAIL, None)
    session.info.pop(_DUE, None)


def write_seal(seq: int, head_hash: str, *, root: str | None = None) -> dict[str, Any]:
    """Sign ``{seq, head_hash}``; write it under its own name, then as the head if newer."""
    root = (root or checkpoint_root()).rstrip("/")
    checkpoint = signed_checkpoint(seq, head_hash)
    data = (json.dumps(checkpoint, indent=2, sort_keys=True) + "\n").encode("utf-8")
    _write(f"{root}/{checkpoint_name(seq, head_hash)}", data)
    current = _read(f"{root}/{HEAD_NAME}")  # not read_head: its fallback lists the file just written
    try:
        newer = current is None or int(json.loads(current).get("seq") or 0) < seq
    except (ValueError, AttributeError, TypeError):
        newer = True  # an unreadable head is replaced
    if newer:
        _write(f"{root}/{HEAD_NAME}", data)  # a race can only leave an older head: weaker, never wrong
    return checkpoint


def _write(location: str, data: bytes) -> None:
    if "://" in location and not location.startswith("file://"):
        import fsspec

        with fsspec.open(location, "wb") as handle:
            handle.write(data)
        return
    path = Path(location.removeprefix("file://"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


# --- reading (the gate) -----------------------------------------------------------------------


def _read(location: str) -> bytes | None:
    try:
        if "://" in location and not location.startswith("file://"):
            import fsspec

            with fsspec.open(location, "rb") as handle:
                return bytes(handle.read(_MAX_BYTES + 1))
        with Path(location.removeprefix("file://")).open("rb") as handle:
            return handle.read(_MAX_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _newest_listed(root: str) -> str | None:
    # Only when head.json is missing: the seq-named files sort by seq.
    if "://" in root and not root.startswith("file://"):
        import fsspec

        fs, path = fsspec.core.url_to_fs(root)
        names = sorted(fs.glob(f"{path}/0*.json")) if fs.exists(path) else []
        return f"{root.split('://', 1)[0]}://{names[-1]}" if names else None
    folder = Path(root.removeprefix("file://"))
    names = sorted(folder.glob("0*.json")) if folder.is_dir() else []
    return str(names[-1]) if names else None


def read_head(*, root: str | None = None) -> dict[str, Any] | None:
    """The newest seal as written (not verified), or None when there is none."""
    root = (root or checkpoint_root()).rstrip("/")
    data = _read(f"{root}/{HEAD_NAME}")
    if data is None:
        newest = _newest_listed(root)
        data = _read(newest) if newest else None
    if data is None:
        return None
    if len(data) > _MAX_BYTES:
        return {"problem": "the newest audit seal is not a checkpoint (too large)"}
    try:
        value = json.loads(data)
    except ValueError:
        return {"problem": "the newest audit seal is not JSON"}
    return value if isinstance(value, dict) else {"problem": "the newest audit seal is not a checkpoint"}


def sealed_tail_problem(session: Session, keyring: Keyring, *, root: str | None = None) -> str | None:
    """Why the trail no longer holds what its newest seal sealed (see the module docstring), or None."""
    from govflow.store.audit import event_hash  # audit imports this module

    head = read_head(root=root)
    if head is None:
        return None
    if "problem" in head:
        return str(head["problem"])
    try:
        body = {k: head[k] for k in ("format", "seq", "head_hash", "created_at", "key_id")}
        seq, sealed_hash = int(body["seq"]), str(body["head_hash"])
    except (KeyError, TypeError, ValueError):
        return "the newest audit seal is not a govflow checkpoint"
    why = keyring.verify(body["key_id"], head.get("signature"), checkpoint_message(body))
    if why is not None:
        return f"the newest audit seal (seq {seq}) {why}: forged or altered"
    row = session.get(AuditEvent, seq)
    if row is None:
        last = session.scalar(select(func.max(AuditEvent.seq))) or 0
        return (
            f"the newest audit seal is of seq {seq} but the trail ends at seq {last}: "
            f"events {last + 1}..{seq} were deleted"
        )
    recomputed = event_hash(
        seq=row.seq,
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=row.payload,
        prev_hash=row.prev_hash,
        auth_method=row.auth_method,
    )
    if row.hash != sealed_hash or recomputed != sealed_hash:
        return f"event {seq} differs from the newest audit seal: the trail up to it was rewritten"
    present = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq <= seq))
    if present != seq:
        return f"{seq - (present or 0)} event(s) up to the newest audit seal (seq {seq}) were deleted"
    return None
