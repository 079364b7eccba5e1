"""Content hashes and canonical JSON: the basis of evidence integrity and the audit chain."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def canonical_json(obj: Any) -> str:
    """One byte-exact JSON form for hashing: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_json(obj: Any) -> str:
    return sha256_text(canonical_json(obj))


def sha256_file(path: str | Path) -> str:
    """Streamed sha256 of a file (constant memory for large data files)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def event_hash(
    *,
    seq: int,
    ts: str,
    actor: str,
    action: str,
    subject: str,
    payload: str,
    prev_hash: str,
    auth_method: str | None = None,
) -> str:
    """The hash of one audit event: its fields and the previous event's hash, as canonical JSON.

    Here, not in the store, so the evidence-bundle verifier (pure, no DB) recomputes the chain
    with the very function that wrote it."""
    body = {
        "seq": seq,
        "ts": ts,
        "actor": actor,
        "action": action,
        "subject": subject,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    if auth_method is not None:  # absent on events written before it was recorded: their hash stays valid
        body["auth_method"] = auth_method
    return sha256_text(canonical_json(body))
