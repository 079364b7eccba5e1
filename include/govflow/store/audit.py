"""The tamper-evident audit trail: append in the caller's transaction, verify the chain.

Each event's hash is sha256 over the canonical JSON of (seq, ts, actor, action,
subject, payload, prev_hash). Appends are serialised (PostgreSQL advisory lock;
SQLite's BEGIN IMMEDIATE write lock), and ``seq`` is the primary key, so two
writers can never fork the chain: the second waits and links to the first.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from govflow.hashing import canonical_json, sha256_text
from govflow.store._models import AuditEvent

GENESIS_HASH = "0" * 64
# Any constant works; it just names govflow's advisory lock on a shared PostgreSQL.
_PG_AUDIT_LOCK_KEY = 0x60F10A


def event_hash(
    *, seq: int, ts: str, actor: str, action: str, subject: str, payload: str, prev_hash: str
) -> str:
    body = {
        "seq": seq,
        "ts": ts,
        "actor": actor,
        "action": action,
        "subject": subject,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return sha256_text(canonical_json(body))


def append_event(
    session: Session, *, actor: str, action: str, subject: str, payload: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one event in the session's current transaction (commits with the state change)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK_KEY})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq = (last.seq + 1) if last else 1
    prev_hash = last.hash if last else GENESIS_HASH
    ts = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    payload_text = canonical_json(payload or {})
    event = AuditEvent(
        seq=seq,
        ts=ts,
        actor=actor,
        action=action,
        subject=subject,
        payload=payload_text,
        prev_hash=prev_hash,
        hash=event_hash(
            seq=seq,
            ts=ts,
            actor=actor,
            action=action,
            subject=subject,
            payload=payload_text,
            prev_hash=prev_hash,
        ),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_hash": self.head_hash,
            "first_broken_seq": self.first_broken_seq,
            "problem": self.problem,
        }


def verify_chain(session: Session, *, batch_size: int = 5000) -> ChainReport:
    """Recompute the chain in seq order; report the first event that does not fit."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for event in _iter_events(session, batch_size):
        problem = None
        if event.seq != expected_seq:
            # A missing seq means rows were deleted (or renumbered).
            problem = f"expected seq {expected_seq}, found {event.seq}: event(s) missing"
            broken = expected_seq
        elif event.prev_hash != prev_hash:
            problem = "prev_hash does not match the previous event's hash: events removed or reordered"
            broken = event.seq
        elif event.hash != event_hash(
            seq=event.seq,
            ts=event.ts,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            payload=event.payload,
            prev_hash=event.prev_hash,
        ):
            problem = "content does not match its hash: the event was modified"
            broken = event.seq
        if problem:
            return ChainReport(
                ok=False, events=count, head_hash=prev_hash, first_broken_seq=broken, problem=problem
            )
        prev_hash = event.hash
        expected_seq += 1
        count += 1
    return ChainReport(ok=True, events=count, head_hash=prev_hash)


def _iter_events(session: Session, batch_size: int) -> Iterator[AuditEvent]:
    # Keyset pagination keeps memory flat on long trails.
    after = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch_size)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def list_events(
    session: Session, *, subject_prefix: str | None = None, limit: int | None = None, after_seq: int = 0
) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.seq > after_seq).order_by(AuditEvent.seq)
    if subject_prefix:
        query = query.where(AuditEvent.subject.startswith(subject_prefix))
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def event_to_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "ts": event.ts,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "payload": json.loads(event.payload),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
