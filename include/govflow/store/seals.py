"""Seals: signed checkpoints kept outside the DB, written after governance commits.

Cutting events from the trail needs no key (each event only proves the ones
before it), and a full walk of the chain is too slow for every decision. So
the facts the gate reads are chained and sealed per thing they are about:

1. ``append_event`` adds ``chain_prev`` to the payload of every fact event
   (``FACT_ACTIONS`` about a ``model:``/``version:`` subject, and every
   ``policy.applied``): the seq of the previous fact about the same subject
   (the same chain key), so a deleted fact leaves a dangling link;
2. after the commit (never before: a rolled-back event must not be sealed) the
   newest fact of each chain key the transaction touched is signed and written
   to ``subjects/<sha256(key)>.json`` (replaced only by a newer one), so the
   newest fact of a version cannot be cut either;
3. a commit that recorded a decision, an approval or rejection, a waiver, a
   stage move or a policy (``SEALED_ACTIONS``) also signs the head of the whole
   trail: a new file named by its seq (the format of ``govflow audit
   checkpoint``, so ``audit verify`` checks every one) and ``head.json``;
4. the gate (service.signed_facts) checks the version's chain links and its
   subject seal, the policy's seal, and that the DB still holds the event
   ``head.json`` sealed: all indexed reads.

A seal that cannot be written is logged, not raised: the commit has happened,
and the next sealed commit covers it. Facts recorded after the newest seal of
their subject (check results since the last commit that sealed it) are not
sealed yet: their newest one could be cut unseen until then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Select, event, func, select
from sqlalchemy.orm import Session

from govflow import config, storage
from govflow.hashing import canonical_json
from govflow.scoped import kept_in
from govflow.signing import Keyring, holds_decision_key, signing_key
from govflow.store._models import AuditEvent

__all__ = [
    "CHAIN_PREV",
    "CHECKPOINT_DIR",
    "CHECKPOINT_FORMAT",
    "FACT_ACTIONS",
    "HEAD_NAME",
    "POLICY_CHAIN",
    "SEALED_ACTIONS",
    "chain_key",
    "chain_prev_query",
    "checkpoint_message",
    "checkpoint_root",
    "note_appended",
    "pending_seal",
    "read_head",
    "read_subject_seal",
    "seals_read_once",
    "signed_checkpoint",
    "subject_seal_problem",
    "write_seal",
    "write_subject_seal",
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
# The events that record a fact the gate reads (service.signed_facts compares them with rows).
FACT_ACTIONS = (
    "model.registered",
    "version.registered",
    "version.stage_changed",
    "check.recorded",
    "approval.recorded",
    "waiver.recorded",
    "gate.evaluated",
    "policy.applied",
)
CHAIN_PREV = "chain_prev"
POLICY_CHAIN = "policy"
SUBJECT_SEAL_FORMAT = "govflow-audit-subject-seal/1"
_MAX_BYTES = 64 * 1024
_TAIL = "govflow_audit_tail"
_DUE = "govflow_seal_due"
_CHAINS = "govflow_audit_chains"

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


def chain_key(action: str, subject: str) -> str | None:
    """The chain a fact event belongs to (None: not a fact the gate reads)."""
    if action == "policy.applied":
        return POLICY_CHAIN
    if action in FACT_ACTIONS and subject.startswith(("version:", "model:")):
        return subject
    return None


def chain_prev_query(key: str) -> Select[Any]:
    """The newest fact of chain ``key`` so far (indexed: by subject, or by action for the policy)."""
    if key == POLICY_CHAIN:
        where = AuditEvent.action == "policy.applied"
    else:
        where = (AuditEvent.subject == key) & AuditEvent.action.in_(FACT_ACTIONS)
    return select(func.max(AuditEvent.seq)).where(where)


def note_appended(session: Session, *, seq: int, head_hash: str, action: str, chain: str | None) -> None:
    """Called by ``append_event``: remember what the commit must seal."""
    session.info[_TAIL] = (seq, head_hash)
    if chain is not None:
        session.info.setdefault(_CHAINS, {})[chain] = (seq, head_hash)
    if action in SEALED_ACTIONS:
        session.info[_DUE] = True


def pending_seal(session: Session, key: str) -> int | None:
    """The seq of chain ``key``'s newest fact appended in ``session`` and not committed yet (so not
    sealed yet: its seal is written on commit), or None."""
    pending = session.info.get(_CHAINS, {}).get(key)
    return pending[0] if pending else None


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    tail, due = session.info.pop(_TAIL, None), session.info.pop(_DUE, False)
    chains: dict[str, tuple[int, str]] = session.info.pop(_CHAINS, {})
    if not holds_decision_key():
        # A check worker records check results only; their chain is sealed by the next commit of a
        # process with the decision key (the gate's decision), as the module docstring says.
        return
    try:
        for key, (seq, head_hash) in chains.items():
            write_subject_seal(key, seq, head_hash)
        if tail is not None and due:
            write_seal(*tail)
    except Exception:  # the commit happened; the next sealed commit covers this one too
        log.exception("could not write the audit seals of seq %s", tail[0] if tail else None)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    for name in (_TAIL, _DUE, _CHAINS):
        session.info.pop(name, None)


def _subject_seal_location(key: str, root: str | None = None) -> str:
    root = (root or checkpoint_root()).rstrip("/")
    return f"{root}/subjects/{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}.json"


def _subject_message(body: dict[str, Any]) -> bytes:
    return f"{SUBJECT_SEAL_FORMAT}:{canonical_json(body)}".encode()


def write_subject_seal(key: str, seq: int, head_hash: str, *, root: str | None = None) -> None:
    """Sign the newest fact of chain ``key``; an existing newer seal stays (a race leaves the newer)."""
    location = _subject_seal_location(key, root)
    current = read_subject_seal(key, root=root, fresh=True)  # another process may have sealed newer
    if current is not None and isinstance(current.get("seq"), int) and current["seq"] >= seq:
        return
    signing = signing_key()
    body = {
        "format": SUBJECT_SEAL_FORMAT,
        "key": key,
        "seq": seq,
        "hash": head_hash,
        "key_id": signing.key_id,
    }
    seal = {**body, "signature": signing.sign(_subject_message(body))}
    _write(location, (json.dumps(seal, sort_keys=True) + "\n").encode("utf-8"))


def read_subject_seal(key: str, *, root: str | None = None, fresh: bool = False) -> dict[str, Any] | None:
    data = _read(_subject_seal_location(key, root), fresh=fresh)
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return {"problem": f"the audit seal of {key} is not JSON"}
    return value if isinstance(value, dict) else {"problem": f"the audit seal of {key} is not a seal"}


def subject_seal_problem(
    key: str,
    events: dict[int, str],
    keyring: Keyring,
    *,
    root: str | None = None,
    sealed: bool = False,
    committed_since: Callable[[int], str | None] | None = None,
) -> str | None:
    """Why the newest sealed fact of chain ``key`` is missing from ``events`` (seq -> hash), or None.

    ``events`` are the chain's facts read from the DB (their hashes and signatures already
    checked by the caller); for the policy chain, only the newest one. ``sealed``: the chain's
    facts were written since seals exist (they carry ``chain_prev``), so a missing seal was
    deleted (or the store moved), never "not sealed yet": cutting the newest facts and deleting
    their seal would otherwise leave no trace.

    ``committed_since(seq)``: the hash of chain ``key``'s signed event ``seq`` as committed now (a
    fresh read), or None. The caller's ``events`` are its transaction's snapshot, and a seal is
    written after its commit: a fact committed by a parallel task (another check of the same
    version) after that snapshot has a seal newer than ``events``, which is not a deletion.
    """
    seal = read_subject_seal(key, root=root)
    if seal is None:
        if sealed and events:
            return (
                f"the audit seal of {key} is missing from {(root or checkpoint_root()).rstrip('/')}/subjects "
                "though its signed facts were sealed: deleted from the seal store (or the store moved)"
            )
        return None
    if "problem" in seal:
        return str(seal["problem"])
    try:
        body = {k: seal[k] for k in ("format", "key", "seq", "hash", "key_id")}
        seq = int(body["seq"])
    except (KeyError, TypeError, ValueError):
        return f"the audit seal of {key} is not a govflow seal"
    why = keyring.verify(body["key_id"], seal.get("signature"), _subject_message(body))
    if why is None and body["key_id"] in keyring.check_ids:  # seals are the decision key's, never a worker's
        why = f"is signed by check-result key {body['key_id']}"
    if why is not None or body["key"] != key:
        return f"the audit seal of {key} {why or 'names another subject'}: forged or altered"
    newest = max(events, default=0)
    if seq in events:
        return (
            None if events[seq] == body["hash"] else f"event {seq} of {key} differs from its seal: rewritten"
        )
    if seq > newest and committed_since is not None and committed_since(seq) == body["hash"]:
        return None  # committed after the caller's snapshot; the facts it read are an earlier state
    if seq > newest or key != POLICY_CHAIN:
        return (
            f"signed event #{seq}, the newest sealed fact about {key}, is gone from the trail "
            f"(the newest left is #{newest}): deleted from the DB"
        )
    return None  # the policy chain: a newer policy.applied than the seal (its seal not written yet)


def write_seal(seq: int, head_hash: str, *, root: str | None = None) -> dict[str, Any]:
    """Sign ``{seq, head_hash}``; write it under its own name, then as the head if newer."""
    root = (root or checkpoint_root()).rstrip("/")
    checkpoint = signed_checkpoint(seq, head_hash)
    data = (json.dumps(checkpoint, indent=2, sort_keys=True) + "\n").encode("utf-8")
    _write(f"{root}/{checkpoint_name(seq, head_hash)}", data)
    # Not read_head (its fallback lists the file just written); fresh: another process may be newer.
    current = _read(f"{root}/{HEAD_NAME}", fresh=True)
    try:
        newer = current is None or int(json.loads(current).get("seq") or 0) < seq
    except (ValueError, AttributeError, TypeError):
        newer = True  # an unreadable head is replaced
    if newer:
        _write(f"{root}/{HEAD_NAME}", data)  # a race can only leave an older head: weaker, never wrong
    return checkpoint


def _write(location: str, data: bytes) -> None:
    storage.write_bytes(location, data)  # a local temp-then-rename; an object PUT is whole
    kept = _KEPT.get()
    if kept is not None:  # what this process wrote is what it reads next
        kept[location] = data


# --- reading (the gate) -----------------------------------------------------------------------


def _read(location: str, *, fresh: bool = False) -> bytes | None:
    """The object at ``location`` or None; in a ``seals_read_once()`` block, the copy read before unless
    ``fresh`` (a writer deciding whether its seal is newer than the stored one)."""
    kept = _KEPT.get()
    if kept is not None and location in kept and not fresh:
        return kept[location]
    data = storage.read_bytes_if_any(location, limit=_MAX_BYTES + 1)
    if kept is not None:
        kept[location] = data
    return data


# Seals read in a ``seals_read_once()`` block, by location (None: there was none).
_KEPT: ContextVar[dict[str, bytes | None] | None] = ContextVar("govflow_seals_kept", default=None)


@contextmanager
def seals_read_once() -> Iterator[None]:
    """Within the block, each seal is fetched once (a nightly task checks one model's registration
    before each of its checks). A seal only ever moves forward, and what it guards is a lower
    bound: a copy read earlier in the block still catches any fact cut from before it. Nested
    blocks share the outer one's reads."""
    with kept_in(_KEPT):
        yield


def _newest_listed(root: str) -> str | None:
    # Only when head.json is missing: the seq-named files sort by seq.
    names = storage.glob(root, "0*.json")
    return names[-1] if names else None


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
