"""Signed facts: the rows the gate, promotion and approval counting read must agree with their signed events.

Anyone who can write the governance DB can change a row; only the signing key
(kept outside the DB) writes an event the trail accepts. So before the gate
decides, and before a promotion, for the one version at hand:

1. load the events that recorded its facts by subject (indexed:
   ``model:<name>`` and ``version:<model>@<version>``) and the newest
   ``policy.applied`` (indexed by action); recompute each one's hash and
   verify its signature with the trusted keys: an unsigned or forged event is
   no fact;
2. compare the rows field by field with those events: the model (tier,
   regions, sector, owner), the version (registration, hashes, stage), each
   check result (check, status, data, evidence and policy sha256, time), each
   approval (approver, role, verdict, evidence digest, authentication), waiver
   and gate decision, and the active policy's sha256 (which must also be the
   policy the gate was given);
3. both ways: a row with no event was written around govflow, and a signed
   event whose row is gone (a deleted rejection) or moved to another version
   fails closed too: the gate never counts less than the trail says;
4. re-read the evidence document of each result the gate uses from the
   content-addressed store: its sha256 and status must be the row's;
5. the newest seal of the trail (store.seals) must still be in the DB, so a
   cut tail (a deleted decision) fails closed.

``require_signed_facts`` raises ``UnsignedFactError`` naming the first
mismatching row and field; ``all_fact_problems`` runs steps 2-3 over every row
of every table for ``govflow audit verify`` (which has verified the whole
chain first). A DB-only attacker can then deny service, never approve.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.artifacts import ArtifactStore
from govflow.errors import GovflowError
from govflow.hashing import sha256_bytes
from govflow.service.fact_rows import (
    ROW_TABLES,
    FactProblem,
    SignedEvent,
    Trail,
    compare_rows,
    load_events,
    model_problem,
    policy_problems,
    version_problems,
)
from govflow.service.partitions import claim_problems
from govflow.service.registry import version_subject
from govflow.signing import Keyring
from govflow.store import AuditEvent, CheckResultRow, Model, ModelVersion, Run
from govflow.store import Policy as PolicyRow
from govflow.store.audit import event_hash
from govflow.store.seals import (
    CHAIN_PREV,
    POLICY_CHAIN,
    checkpoint_message,
    pending_seal,
    read_head,
    subject_seal_problem,
)
from govflow.timeutil import iso_utc

__all__ = [
    "FactProblem",
    "UnsignedFactError",
    "all_fact_problems",
    "require_signed_facts",
    "require_signed_registration",
    "signed_request",
    "version_fact_problems",
]


class UnsignedFactError(GovflowError):
    """A fact the gate would use does not agree with the signed trail: the gate stays closed."""

    exit_code = 1


# --- chains and seals (store.seals) ------------------------------------------------------------


def _committed_since(session: Session, key: str, keyring: Keyring) -> Callable[[int], str | None] | None:
    """The hash of ``key``'s signed fact ``seq`` as committed now, read outside ``session``'s
    transaction (whose snapshot may predate a parallel task's commit); None unless it is there and
    its signature holds. None on SQLite: every transaction there holds the write lock (BEGIN
    IMMEDIATE), so nothing commits while this one reads (and a second one would wait for it)."""
    if session.get_bind().dialect.name == "sqlite":
        return None

    def committed(seq: int) -> str | None:
        with Session(bind=session.get_bind()) as fresh:
            trail = Trail()
            problems = load_events(
                fresh, (AuditEvent.seq == seq) & (AuditEvent.subject == key), keyring, trail
            )
            return trail.loaded[0].hash if trail.loaded and not problems else None

    return committed


def _chain_problems(
    session: Session, key: str, events: Sequence[SignedEvent], keyring: Keyring
) -> list[FactProblem]:
    """The facts about ``key`` link each to the one before (none cut from the middle), and the newest
    one its seal names is still there (none cut from the end)."""
    problems = []
    previous: int | None = None
    for e in events:
        if CHAIN_PREV in e.payload and e.payload[CHAIN_PREV] != previous:
            problems.append(
                FactProblem(
                    "audit_events",
                    e.seq,
                    f"signed event #{e.seq} ({e.action}) follows #{e.payload[CHAIN_PREV]} about {key}, "
                    f"which is gone from the trail: deleted from the DB",
                    e.seq,
                )
            )
        previous = e.seq
    sealed = any(CHAIN_PREV in e.payload for e in events)
    why = subject_seal_problem(
        key,
        {e.seq: e.hash for e in events},
        keyring,
        sealed=sealed,
        committed_since=_committed_since(session, key, keyring),
    )
    if why is not None:
        problems.append(FactProblem("audit_events", key, why))
    return problems


def _tail_problem(session: Session, keyring: Keyring) -> str | None:
    """Why the trail no longer holds the event its newest seal (head.json) sealed, or None."""
    head = read_head()
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
    if why is None and body["key_id"] in keyring.check_ids:  # a seal is the decision key's, never a worker's
        why = f"is signed by check-result key {body['key_id']}"
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
    return None


# --- per version (the gate) ------------------------------------------------------------------


def version_fact_problems(
    session: Session,
    row: ModelVersion,
    *,
    policy_sha256: str | None = None,
    keyring: Keyring | None = None,
    artifacts: ArtifactStore | None = None,
) -> list[FactProblem]:
    """Steps 1-5 of the module docstring for one version; [] when every fact is signed."""
    keyring = keyring or Keyring.trusted()
    model = row.model
    subject = version_subject(model.name, row.version)
    trail = Trail()
    problems = load_events(session, AuditEvent.subject.in_((f"model:{model.name}", subject)), keyring, trail)
    newest_policy = (
        select(AuditEvent.seq)
        .where(AuditEvent.action == "policy.applied")
        .order_by(AuditEvent.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    problems += load_events(session, AuditEvent.seq == newest_policy, keyring, trail)

    for key in (f"model:{model.name}", subject):
        problems += _chain_problems(session, key, [e for e in trail.loaded if e.subject == key], keyring)
    if trail.policy is not None:
        # Like every other chain: a policy.applied written since seals exist (it names the one before
        # it) was sealed on commit, so a missing seal was deleted: cutting the newest policy.applied
        # (back to a laxer policy) and deleting its seal would otherwise pass. Only the one this very
        # transaction appended (the bundled default applied on first use) has no seal yet.
        sealed = (
            CHAIN_PREV in trail.policy.payload and pending_seal(session, POLICY_CHAIN) != trail.policy.seq
        )
        why = subject_seal_problem(
            POLICY_CHAIN, {trail.policy.seq: trail.policy.hash}, keyring, sealed=sealed
        )
        if why is not None:
            problems.append(FactProblem("policies", "applied", why))
    problems += [p for p in (model_problem(model, trail),) if p is not None]
    problems += version_problems(row, subject, trail)
    rows: dict[Any, list[Any]] = {
        cls: list(session.scalars(select(cls).where(cls.version_id == row.id).order_by(cls.id)))
        for _, cls, *_ in ROW_TABLES
    }
    problems += compare_rows(
        session,
        trail,
        lambda cls: rows[cls],
        lambda version_id: subject if version_id == row.id else _subject_of(session, version_id),
        only_subject=subject,
    )
    active = session.scalar(select(PolicyRow).where(PolicyRow.active.is_(True)))
    problems += policy_problems(active, trail, policy_sha256)
    if not problems:  # the documents are worth reading only once their rows are signed
        problems += _evidence_problems(rows[CheckResultRow], artifacts or ArtifactStore())
    tail = _tail_problem(session, keyring)
    if tail is not None:
        problems.append(FactProblem("audit_events", "seal", tail))
    return problems


def _subject_of(session: Session, version_id: int) -> str | None:
    found = session.execute(
        select(Model.name, ModelVersion.version).join(Model).where(ModelVersion.id == version_id)
    ).first()
    return version_subject(found[0], found[1]) if found else None


def _evidence_problems(results: Sequence[CheckResultRow], artifacts: ArtifactStore) -> list[FactProblem]:
    """The newest result of each check (what the gate judges) against its evidence document."""
    newest: dict[str, CheckResultRow] = {}
    for r in sorted(results, key=lambda r: (iso_utc(r.created_at) or "", r.id)):
        newest[r.check] = r
    problems = []
    for r in newest.values():
        where = f"check_results #{r.id}"
        if not r.evidence_uri or not r.evidence_sha256:
            problems.append(FactProblem("check_results", r.id, f"{where} has no evidence document"))
            continue
        try:
            data = artifacts.get_bytes(r.evidence_uri)
        except GovflowError as err:
            problems.append(FactProblem("check_results", r.id, f"{where} evidence cannot be read: {err}"))
            continue
        if sha256_bytes(data) != r.evidence_sha256:
            problems.append(
                FactProblem(
                    "check_results",
                    r.id,
                    f"{where} evidence document {r.evidence_uri} does not match its sha256 "
                    f"{r.evidence_sha256[:12]}",
                )
            )
            continue
        try:
            document = json.loads(data)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            problems.append(
                FactProblem("check_results", r.id, f"{where} evidence document is not a JSON object")
            )
            continue
        # The summary too: the Required Action's body and the documents show the row's numbers
        # (compared as JSON text: a NaN in both is the same number).
        for name in ("check", "status", "data_sha256", "summary"):
            if _json_text(document.get(name)) != _json_text(getattr(r, name)):
                problems.append(
                    FactProblem(
                        "check_results",
                        r.id,
                        f"{where} {name} {getattr(r, name)!r} does not match its evidence document "
                        f"({document.get(name)!r})",
                    )
                )
                break
    return problems


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def require_signed_facts(
    session: Session,
    row: ModelVersion,
    *,
    policy_sha256: str | None = None,
    what: str = "decide",
    keyring: Keyring | None = None,
) -> None:
    """Raise ``UnsignedFactError`` naming the first problem unless every fact of ``row`` is signed."""
    problems = version_fact_problems(session, row, policy_sha256=policy_sha256, keyring=keyring)
    if problems:
        more = (
            f" (and {len(problems) - 1} more: `govflow audit verify` lists them)" if len(problems) > 1 else ""
        )
        raise UnsignedFactError(
            f"the gate refuses to {what} {row.model.name}@{row.version}: {problems[0].message}{more}"
        )


def require_signed_registration(
    session: Session, row: ModelVersion, *, keyring: Keyring | None = None
) -> None:
    """Before a check reads a version's registration (its files and hashes, params with the label
    and sensitive columns, the model's tier and regions), those rows must agree with their signed
    events: a row edited only while a check runs would otherwise make it measure the wrong thing
    and sign an honest result about it."""
    keyring = keyring or Keyring.trusted()
    model = row.model
    subject = version_subject(model.name, row.version)
    trail = Trail()
    problems = load_events(session, AuditEvent.subject.in_((f"model:{model.name}", subject)), keyring, trail)
    for key in (f"model:{model.name}", subject):
        problems += _chain_problems(session, key, [e for e in trail.loaded if e.subject == key], keyring)
    problems += [p for p in (model_problem(model, trail),) if p is not None]
    problems += version_problems(row, subject, trail)
    if problems:
        raise UnsignedFactError(f"govflow refuses to check {model.name}@{row.version}: {problems[0].message}")


def signed_request(
    session: Session, subject: str, asked_by: str, digest: str, *, keyring: Keyring | None = None
) -> bool:
    """Whether ``asked_by`` (a gate run's ``pipeline:<dag>:<run>:gate``) asked reviewers about
    ``subject`` on evidence ``digest``, by a signed ``pending_approval`` decision: what binds an
    answer to a Required Action of that run to this version (the run's XCom names the version, and
    whoever writes Airflow's metadata DB can rename it)."""
    keyring = keyring or Keyring.trusted()
    trail = Trail()
    query = (AuditEvent.subject == subject) & (AuditEvent.actor == asked_by)
    load_events(session, query & (AuditEvent.action == "gate.evaluated"), keyring, trail)
    return any(
        e.payload.get("decision") == "pending_approval" and e.payload.get("evidence_digest") == digest
        for e in trail.decisions.values()
    )


# --- every table (audit verify) ------------------------------------------------------------


def all_fact_problems(session: Session, keyring: Keyring | None = None) -> list[FactProblem]:
    """Steps 2-3 over every row and every fact event (the caller has verified the chain)."""
    trail = Trail()
    load_events(session, AuditEvent.seq > 0, None, trail)
    problems: list[FactProblem] = []
    models = session.scalars(select(Model).order_by(Model.id)).all()  # held: each version's model below
    for m in models:
        found = model_problem(m, trail)
        if found is not None:
            problems.append(found)
    subjects: dict[int, str] = {}
    for v in session.scalars(select(ModelVersion).order_by(ModelVersion.id)):
        subject = subjects[v.id] = version_subject(v.model.name, v.version)
        problems += version_problems(v, subject, trail)
    runs = session.scalars(select(Run)).all()
    problems += compare_rows(
        session,
        trail,
        lambda cls: session.scalars(select(cls).order_by(cls.id)),
        subjects.get,
    )
    # Held until here: a version's model and a result's run were found in the session, not fetched
    # once per row (the session keeps only weak references to what nobody holds).
    del models, runs
    active = session.scalar(select(PolicyRow).where(PolicyRow.active.is_(True)))
    problems += policy_problems(active, trail, None)
    problems += claim_problems(session, keyring)
    return problems
