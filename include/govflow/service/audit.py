"""Audit anchoring: signed checkpoints of the chain head, kept outside the database, and the full verify.

1. ``write_checkpoint`` verifies the chain, then writes ``{seq, head_hash, created_at}``
   signed with the signing key to ``--out FILE`` or the artifact store's
   ``audit-checkpoints/`` folder (an append-only bucket in production).
2. ``verify_audit`` recomputes the chain, checks every event's signature, then
   every checkpoint it can find: each must be validly signed, and the chain
   must still hold an event at its seq with its hash. A cut tail (events after
   a checkpoint deleted) or a rewritten and re-hashed chain is named by the
   first bad seq. Then the state rows (approvals, waivers, decisions, stages,
   active policy) must agree with the signed events (service.audit_state).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow import storage
from govflow.access import AuthMethod
from govflow.errors import BadInputError
from govflow.service.audit_state import state_problems
from govflow.signing import Keyring, signing_key
from govflow.store import AuditEvent
from govflow.store.audit import UNSIGNED_TRAIL, ChainReport, append_event, verify_chain
from govflow.store.seals import CHECKPOINT_FORMAT, HEAD_NAME, checkpoint_message, checkpoint_root

__all__ = ["AuditReport", "checkpoint_root", "find_checkpoints", "verify_audit", "write_checkpoint"]

# A checkpoint is a few hundred bytes; anything much bigger is not one.
_MAX_CHECKPOINT_BYTES = 64 * 1024
_message = checkpoint_message  # the format lives in store.seals, which writes one after each decision


def write_checkpoint(
    session: Session,
    *,
    actor: str,
    out: str | Path | None = None,
    auth_method: AuthMethod | None = None,
    verified: ChainReport | None = None,
) -> dict[str, Any]:
    """Sign the current head and write it outside the DB; refuses to anchor a broken chain.

    A trail written before signing existed gets one signed ``audit.signing_started``
    event first: its hash covers every older event, so they verify from then on.
    ``verified``: the report of a verification just made (nightly's): its head is anchored, if the
    trail still holds it, instead of walking the chain a second time.
    """
    signed_now = _sign_legacy_trail(session, actor=actor, auth_method=auth_method)
    report = verified if verified is not None and not signed_now and _holds(session, verified) else None
    report = report or verify_chain(session)
    if not report.ok:
        raise BadInputError(
            f"refusing to checkpoint a broken audit chain (seq {report.first_broken_seq}: {report.problem})"
        )
    key = signing_key()
    body = {
        "format": CHECKPOINT_FORMAT,
        "seq": report.events,
        "head_hash": report.head_hash,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "key_id": key.key_id,
    }
    checkpoint = {**body, "signature": key.sign(_message(body))}
    data = (json.dumps(checkpoint, indent=2, sort_keys=True) + "\n").encode("utf-8")
    name = f"{report.events:012d}-{report.head_hash[:16]}.json"
    location = str(out) if out else f"{checkpoint_root()}/{name}"
    _write(location, data)
    append_event(
        session,
        actor=actor,
        auth_method=auth_method,
        action="audit.checkpoint",
        subject="audit",
        payload={"seq": report.events, "head_hash": report.head_hash, "location": location},
    )
    return {**checkpoint, "location": location}


def _sign_legacy_trail(session: Session, *, actor: str, auth_method: AuthMethod | None) -> bool:
    signed = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.signature.is_not(None))
    )
    unsigned = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.signature.is_(None))
    )
    if signed or not unsigned:
        return False
    if verify_chain(session, keyring=Keyring({})).problem != UNSIGNED_TRAIL:
        return False  # a broken chain: the checkpoint below refuses it with the reason
    append_event(
        session,
        actor=actor,
        auth_method=auth_method,
        action="audit.signing_started",
        subject="audit",
        payload={"unsigned_events": unsigned},
    )
    return True


def _holds(session: Session, report: ChainReport) -> bool:
    """The verified report's head is still the event at its seq."""
    if not report.ok or report.events == 0:
        return False
    event = session.get(AuditEvent, report.events)
    return event is not None and event.hash == report.head_hash


def _write(location: str, data: bytes) -> None:
    storage.write_bytes(location, data)


def find_checkpoints(extra: list[str] | None = None) -> list[str]:
    """Every checkpoint in the default folder, plus the files named explicitly."""
    return storage.glob(checkpoint_root(), "*.json") + [str(p) for p in extra or []]


def _newest_anchor(locations: list[str], keyring: Keyring) -> list[dict[str, Any]]:
    """Checkpoints newest first (the newest seal, then by seq) up to the first valid one."""
    head = [loc for loc in locations if loc.endswith(f"/{HEAD_NAME}")]
    numbered = sorted((loc for loc in locations if loc not in head), reverse=True)
    anchors = []
    for location in head + numbered:
        anchors.append(_load_checkpoint(location, keyring))
        if "problem" not in anchors[-1]:
            break
    return anchors


def _read(location: str) -> bytes:
    try:
        return storage.read_bytes(location, limit=_MAX_CHECKPOINT_BYTES + 1)
    except BadInputError as err:
        cause = err.__cause__
        reason = (cause.strerror if isinstance(cause, OSError) else None) or err
        raise BadInputError(f"checkpoint {location}: {reason}") from err


@dataclass
class AuditReport:
    chain: ChainReport
    checkpoints_checked: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p["seq"] for p in self.problems if p.get("seq") is not None]
        if self.chain.first_broken_seq is not None:
            seqs.append(self.chain.first_broken_seq)
        return min(seqs) if seqs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.chain.to_dict(),
            "ok": self.ok,
            "first_broken_seq": self.first_bad_seq,
            "problem": self.chain.problem or (self.problems[0]["problem"] if self.problems else None),
            "checkpoints_checked": self.checkpoints_checked,
            "checkpoint_problems": list(self.problems),
        }


def verify_audit(
    session: Session,
    *,
    checkpoints: list[str] | None = None,
    public_keys: list[Path] | None = None,
    newest_checkpoint: bool = False,
) -> AuditReport:
    """The chain, every event's signature, and every checkpoint found (see the module docstring).

    ``newest_checkpoint`` (nightly): of the store's checkpoints, only the newest that is one (and
    any newer file that is not). Once every event's hash link and signature is verified, the newest
    anchor catches whatever an older one would: a rewrite before it changes the hash at its seq,
    a cut tail ends the chain before it. Reading every checkpoint grows with the trail's age."""
    keyring = Keyring.trusted(public_keys)
    found = find_checkpoints()
    if newest_checkpoint:
        anchors = _newest_anchor(found, keyring)
    else:
        anchors = [_load_checkpoint(location, keyring) for location in found]
    anchors += [_load_checkpoint(str(location), keyring) for location in checkpoints or []]
    watch = {a["seq"] for a in anchors if a.get("seq")}
    hashes_at: dict[int, str] = {}
    chain = verify_chain(session, keyring=keyring, watch=watch, hashes_at=hashes_at)
    report = AuditReport(chain=chain)
    if chain.ok:  # only a verified trail can vouch for the state (service.audit_state)
        report.problems.extend(state_problems(session, keyring))
    for anchor in anchors:
        if "problem" in anchor:
            report.problems.append(anchor)
            continue
        report.checkpoints_checked += 1
        seq, location = anchor["seq"], anchor["location"]
        if seq == 0:
            continue
        if not chain.ok and chain.first_broken_seq is not None and seq >= chain.first_broken_seq:
            continue  # already reported by the chain: its hash there was never trustworthy
        if seq > chain.events:
            report.problems.append(
                {
                    "seq": chain.events + 1,
                    "location": location,
                    "problem": f"checkpoint of seq {seq} but the chain ends at seq {chain.events}: "
                    f"events {chain.events + 1}..{seq} were deleted",
                }
            )
        elif hashes_at.get(seq) != anchor["head_hash"]:
            report.problems.append(
                {
                    "seq": seq,
                    "location": location,
                    "problem": f"event {seq} differs from the checkpoint's head hash: "
                    "the chain up to it was rewritten",
                }
            )
    return report


def _load_checkpoint(location: str, keyring: Keyring) -> dict[str, Any]:
    data = _read(location)
    bad = {"seq": None, "location": location}
    if len(data) > _MAX_CHECKPOINT_BYTES:
        return {**bad, "problem": "not a checkpoint (too large)"}
    try:
        checkpoint = json.loads(data)
        body = {k: checkpoint[k] for k in ("format", "seq", "head_hash", "created_at", "key_id")}
        signature = checkpoint["signature"]
        if body["format"] != CHECKPOINT_FORMAT or not isinstance(body["seq"], int) or body["seq"] < 0:
            raise ValueError("unknown format")
    except (ValueError, KeyError, TypeError) as err:
        return {**bad, "problem": f"not a govflow checkpoint: {err}"}
    why = keyring.verify(body["key_id"], signature, _message(body))
    if why is None and body["key_id"] in keyring.check_ids:  # checkpoints are the decision key's
        why = f"is signed by check-result key {body['key_id']}"
    if why is not None:
        return {**bad, "problem": f"checkpoint {why}: forged or altered"}
    return {**body, "location": location}
