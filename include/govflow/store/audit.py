"""The tamper-evident audit trail: append in the caller's transaction, verify the chain.

Each event's hash is sha256 over the canonical JSON of (seq, ts, actor, action,
subject, payload, prev_hash, and auth_method when recorded). Appends are
serialised (PostgreSQL advisory lock; SQLite's BEGIN IMMEDIATE write lock), and
``seq`` is the primary key, so two writers can never fork the chain: the second
waits and links to the first.

Each event is also signed (Ed25519 over its hash, govflow.signing) with a key
that is not in the database: re-hashing a rewritten chain, or inserting a row,
needs that key. Cutting the newest events needs no key; checkpoints of the head
kept outside the database catch that: one after every governance commit
(store.seals) and any taken by ``govflow audit checkpoint`` (service.audit).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from govflow.hashing import canonical_json, event_hash
from govflow.signing import Keyring, key_for_action
from govflow.store._models import AuditEvent
from govflow.store.seals import CHAIN_PREV, chain_key, chain_prev_query, note_appended

GENESIS_HASH = "0" * 64
# Any constant works; it just names govflow's advisory lock on a shared PostgreSQL.
_PG_AUDIT_LOCK_KEY = 0x60F10A
# How often verify checks a signature on its way (each one proves every event before it).
SIGNATURE_EVERY = 1000


def signed_message(hash_hex: str) -> bytes:
    # Domain-separated, so an event signature can never pass as a checkpoint or manifest one.
    return f"govflow-audit-event/1:{hash_hex}".encode("ascii")


# How the current caller was authenticated, for events whose service call does not name it: the
# entry points set it (the CLI from its proven identity, DAG tasks as "system"); an explicit
# auth_method argument wins. A ContextVar, so concurrent requests and threads never mix them up.
_ACTING_AUTH: ContextVar[str | None] = ContextVar("govflow_acting_auth", default=None)


@contextmanager
def authenticated_as(method: str | None) -> Iterator[None]:
    """Events appended inside (or, as a decorator, during the call) record ``method`` by default."""
    token = _ACTING_AUTH.set(method)
    try:
        yield
    finally:
        _ACTING_AUTH.reset(token)


def acting_auth() -> str | None:
    """How the current caller was authenticated (work written later, e.g. a batch of results,
    records it as it was when the work was done)."""
    return _ACTING_AUTH.get()


def set_acting_auth(method: str | None) -> None:
    """Set the default for the rest of the current context (a one-shot CLI command)."""
    _ACTING_AUTH.set(method)


def lock_trail(session: Session) -> None:
    """Hold the trail's write lock until the transaction ends (PostgreSQL advisory lock, taken
    again at no cost; SQLite's transactions hold the write lock already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK_KEY})


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any] | None = None,
    auth_method: str | None = None,
) -> AuditEvent:
    """Append one signed event in the session's current transaction (commits with the state change)."""
    auth_method = auth_method or _ACTING_AUTH.get()
    # The check-result key for a check-class event, else the decision key (govflow.signing roles);
    # chosen before the lock: a missing key fails without holding anyone up.
    key = key_for_action(action)
    lock_trail(session)
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq = (last.seq + 1) if last else 1
    prev_hash = last.hash if last else GENESIS_HASH
    ts = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    key_of_chain = chain_key(action, subject)
    if key_of_chain is not None:  # each fact names the one before it about the same thing (store.seals)
        payload = {**(payload or {}), CHAIN_PREV: session.scalar(chain_prev_query(key_of_chain))}
    payload_text = canonical_json(payload or {})
    digest = event_hash(
        seq=seq,
        ts=ts,
        actor=actor,
        action=action,
        subject=subject,
        payload=payload_text,
        prev_hash=prev_hash,
        auth_method=auth_method,
    )
    event = AuditEvent(
        seq=seq,
        ts=ts,
        actor=actor,
        action=action,
        subject=subject,
        payload=payload_text,
        prev_hash=prev_hash,
        hash=digest,
        auth_method=auth_method,
        signature=key.sign(signed_message(digest)),
        key_id=key.key_id,
    )
    session.add(event)
    session.flush()
    note_appended(
        session, seq=seq, head_hash=digest, action=action, chain=key_of_chain
    )  # sealed after commit
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


def verify_chain(
    session: Session,
    *,
    batch_size: int = 5000,
    keyring: Keyring | None = None,
    watch: Collection[int] = (),
    hashes_at: dict[int, str] | None = None,
    signature_every: int = SIGNATURE_EVERY,
) -> ChainReport:
    """Recompute the chain in seq order and check signatures; report the first event that does not fit.

    Each event's signature covers its hash, and its hash covers every earlier
    event (prev_hash), so a valid signature at seq k proves events 1..k are as
    govflow wrote them. Signatures are therefore checked at every
    ``signature_every``-th event and at the head (``1``: every event), and a
    failed check is narrowed down by bisection to the first event not signed
    by a trusted key: an edit, a re-hashed tail or an inserted row makes every
    later signature fail, so the first failure is where the forgery starts.

    ``keyring`` defaults to the trusted keys (govflow.signing). The hashes of
    the ``watch`` seqs are put in ``hashes_at`` (for comparing with checkpoints).
    """
    signatures = _Signatures(session, keyring or Keyring.trusted())
    prev_hash = GENESIS_HASH
    expected_seq = 1
    signed_through = 0  # every event up to here is proven by a valid signature
    last: AuditEvent | None = None
    for event in _iter_events(session, batch_size):
        problem = _link_problem(event, expected_seq, prev_hash)
        if problem:
            # Anything forged before the break shows up as a bad signature just before it.
            forged = _first_forged(signatures, signed_through, expected_seq - 1)
            if forged is not None:
                return forged
            broken = expected_seq if event.seq != expected_seq else event.seq
            return _broken(session, broken, problem)
        # A decision-class event needs its own signature by a decision key (signing roles).
        refused = (
            None
            if signatures.legacy(event.seq, event.signature)
            else signatures.keyring.refuse(
                event.key_id, event.signature, event.action, signed_message(event.hash)
            )
        )
        if refused is not None:
            return _broken(
                session, event.seq, f"{refused}: the event was not written by govflow's signing key"
            )
        if event.seq % signature_every == 0 and not signatures.legacy(event.seq, event.signature):
            if (
                signatures.keyring.verify(event.key_id, event.signature, signed_message(event.hash))
                is not None
            ):
                forged = _first_forged(signatures, signed_through, event.seq)
                assert forged is not None
                return forged
            signed_through = event.seq
        if hashes_at is not None and event.seq in watch:
            hashes_at[event.seq] = event.hash
        prev_hash = event.hash
        expected_seq += 1
        last = event
    if last is not None and signatures.first_signed is None:
        return _broken(session, 1, UNSIGNED_TRAIL)
    if last is not None and signed_through < last.seq:
        forged = _first_forged(signatures, signed_through, last.seq)
        if forged is not None:
            return forged
    return ChainReport(ok=True, events=expected_seq - 1, head_hash=prev_hash)


def _link_problem(event: AuditEvent, expected_seq: int, prev_hash: str) -> str | None:
    if event.seq != expected_seq:
        # A missing seq means rows were deleted (or renumbered).
        return f"expected seq {expected_seq}, found {event.seq}: event(s) missing"
    if event.prev_hash != prev_hash:
        return "prev_hash does not match the previous event's hash: events removed or reordered"
    if event.hash != event_hash(
        seq=event.seq,
        ts=event.ts,
        actor=event.actor,
        action=event.action,
        subject=event.subject,
        payload=event.payload,
        prev_hash=event.prev_hash,
        auth_method=event.auth_method,
    ):
        return "content does not match its hash: the event was modified"
    return None


class _Signatures:
    """Signature checks for one verification.

    Events older than the first signed one were written before signing existed
    (legacy): they carry no signature of their own and are vouched for by the
    first signed event after them, whose hash covers theirs. The head must be
    signed, so stripping signatures never passes: it only moves where the
    forgery is reported.
    """

    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session, self.keyring = session, keyring
        self.first_signed: int | None = session.scalar(
            select(func.min(AuditEvent.seq)).where(AuditEvent.signature.is_not(None))
        )

    def legacy(self, seq: int, signature: str | None) -> bool:
        return signature is None and (self.first_signed is None or seq < self.first_signed)

    def problem(self, seq: int) -> str | None:
        row = self.session.execute(
            select(AuditEvent.key_id, AuditEvent.signature, AuditEvent.hash).where(AuditEvent.seq == seq)
        ).one()
        if self.legacy(seq, row.signature):
            return None
        return self.keyring.verify(row.key_id, row.signature, signed_message(row.hash))


UNSIGNED_TRAIL = (
    "no event is signed: the trail was written before signing was enabled (or its signatures were "
    "removed); `govflow audit checkpoint` signs its head once the chain is intact"
)


def _first_forged(signatures: _Signatures, good: int, bad: int) -> ChainReport | None:
    """The first event in (good, bad] whose signature fails, if the one at ``bad`` does (bisection)."""
    if bad <= good or signatures.problem(bad) is None:
        return None
    while bad - good > 1:
        middle = (good + bad) // 2
        if signatures.problem(middle) is None:
            good = middle
        else:
            bad = middle
    why = signatures.problem(bad)
    return _broken(signatures.session, bad, f"{why}: the event was not written by govflow's signing key")


def _broken(session: Session, seq: int, problem: str) -> ChainReport:
    head = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq - 1)) if seq > 1 else None
    return ChainReport(
        ok=False, events=seq - 1, head_hash=head or GENESIS_HASH, first_broken_seq=seq, problem=problem
    )


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
        "auth_method": event.auth_method,
        "signature": event.signature,
        "key_id": event.key_id,
    }
