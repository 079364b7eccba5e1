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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from govflow.artifacts import ArtifactStore
from govflow.errors import GovflowError
from govflow.hashing import sha256_bytes
from govflow.service.registry import version_subject
from govflow.signing import Keyring
from govflow.store import (
    Approval,
    AuditEvent,
    CheckResultRow,
    GateDecision,
    Model,
    ModelVersion,
    Waiver,
)
from govflow.store import Policy as PolicyRow
from govflow.store.audit import event_hash, signed_message
from govflow.store.seals import (
    CHAIN_PREV,
    FACT_ACTIONS,
    POLICY_CHAIN,
    sealed_tail_problem,
    subject_seal_problem,
)
from govflow.timeutil import iso_utc

__all__ = [
    "FactProblem",
    "UnsignedFactError",
    "all_fact_problems",
    "require_signed_facts",
    "version_fact_problems",
]


class UnsignedFactError(GovflowError):
    """A fact the gate would use does not agree with the signed trail: the gate stays closed."""

    exit_code = 1


@dataclass(frozen=True)
class FactProblem:
    table: str
    row: Any  # the row's id (a version: its subject)
    message: str
    seq: int | None = None

    @property
    def location(self) -> str:
        return f"{self.table} {self.row}"

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "location": self.location, "problem": self.message}


@dataclass(frozen=True)
class _Event:
    seq: int
    action: str
    actor: str
    subject: str
    auth_method: str | None
    payload: dict[str, Any]
    hash: str = ""


@dataclass
class _Trail:
    """The signed events, by the row each one recorded (the newest wins where one is superseded)."""

    models: dict[str, _Event] = field(default_factory=dict)  # by subject
    versions: dict[str, _Event] = field(default_factory=dict)
    stages: dict[str, _Event] = field(default_factory=dict)
    results: dict[Any, _Event] = field(default_factory=dict)  # by row id
    approvals: dict[Any, _Event] = field(default_factory=dict)
    waivers: dict[Any, _Event] = field(default_factory=dict)
    decisions: dict[Any, _Event] = field(default_factory=dict)
    policy: _Event | None = None
    loaded: list[_Event] = field(default_factory=list)  # in seq order

    def add(self, e: _Event) -> None:
        p = e.payload
        if e.action == "model.registered":
            self.models[e.subject] = e
        elif e.action == "version.registered":
            self.versions[e.subject] = e
        elif e.action == "version.stage_changed":
            self.stages[e.subject] = e
        elif e.action == "check.recorded":
            self.results[p.get("result_id")] = e
        elif e.action == "approval.recorded":
            self.approvals[p.get("approval_id")] = e
        elif e.action == "waiver.recorded":
            self.waivers[p.get("waiver_id")] = e
        elif e.action == "gate.evaluated":
            self.decisions[p.get("decision_id")] = e
        elif e.action == "policy.applied":
            self.policy = e


def _event(row: AuditEvent) -> _Event:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = {}
    return _Event(
        seq=row.seq,
        action=row.action,
        actor=row.actor,
        subject=row.subject,
        auth_method=row.auth_method,
        payload=payload if isinstance(payload, dict) else {},
        hash=row.hash,
    )


def _signature_problem(row: AuditEvent, keyring: Keyring) -> str | None:
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
    if recomputed != row.hash:
        return "its content does not match its hash (edited)"
    return keyring.verify(row.key_id, row.signature, signed_message(row.hash))


def _load(
    session: Session, where: ColumnElement[bool], keyring: Keyring | None, trail: _Trail
) -> list[FactProblem]:
    """Add the events matching ``where`` to ``trail``; each one's signature first when ``keyring``."""
    problems = []
    query = select(AuditEvent).where(where, AuditEvent.action.in_(FACT_ACTIONS)).order_by(AuditEvent.seq)
    for row in session.scalars(query):
        why = _signature_problem(row, keyring) if keyring is not None else None
        if why is None:
            trail.loaded.append(_event(row))
        if why is not None:
            problems.append(
                FactProblem(
                    "audit_events",
                    row.seq,
                    f"audit event #{row.seq} ({row.action} {row.subject}) is no signed fact: {why}",
                    row.seq,
                )
            )
            continue
        trail.add(trail.loaded[-1])
    return problems


# --- field by field ---------------------------------------------------------------------------

_Fields = Iterator[tuple[str, Any, Any]]  # (field, the row's value, the signed value)


def _auth(row_value: str | None, e: _Event) -> tuple[Any, Any]:
    # Recorded in the payload since signed facts; before, the event's own auth_method column: a row
    # that names a method must name that one (NULL counts only where the policy accepts any method).
    if "auth_method" in e.payload:
        return row_value, e.payload["auth_method"]
    if row_value is None:
        return None, None
    return row_value, e.auth_method


def _model_fields(m: Model, e: _Event) -> _Fields:
    p = e.payload
    yield "owner", m.owner, p.get("owner")
    yield "risk_tier", m.risk_tier, p.get("risk_tier")
    yield "regions", list(m.regions or []), list(p.get("regions") or [])
    yield "sector", m.sector, p.get("sector")
    yield "created_by", m.created_by, p.get("created_by")


_VERSION_FIELDS = (
    "artifact_uri",
    "artifact_sha256",
    "training_data_uri",
    "training_data_sha256",
    "reference_data_uri",
    "reference_data_sha256",
    "eval_data_uri",
    "eval_data_sha256",
    "code_version",
    "framework",
    "created_by",
)


def _version_fields(v: ModelVersion, e: _Event) -> _Fields:
    yield "version", v.version, e.payload.get("version")
    for name in _VERSION_FIELDS:
        yield name, getattr(v, name), e.payload.get(name)


def _result_fields(r: CheckResultRow, e: _Event, subject: str) -> _Fields:
    p = e.payload
    yield "version", subject, e.subject
    yield "check", r.check, p.get("check")
    yield "status", r.status, p.get("status")
    yield "data_sha256", r.data_sha256, p.get("data_sha256")
    yield "evidence_sha256", r.evidence_sha256, p.get("evidence_sha256")
    yield "policy_sha256", r.policy_sha256, p.get("policy_sha256")
    if "created_at" in p:  # recorded since signed facts: the gate's freshness rule reads it
        yield "created_at", iso_utc(r.created_at), p["created_at"]


def _approval_fields(a: Approval, e: _Event, subject: str) -> _Fields:
    p = e.payload
    yield "version", subject, e.subject
    yield "approver", a.approver, e.actor
    yield "verdict", a.verdict, p.get("verdict")
    yield "role", a.role, p.get("role")
    yield "evidence_digest", a.evidence_digest, p.get("evidence_digest")
    yield "auth_method", *_auth(a.auth_method, e)
    yield "comment", a.comment, p.get("comment")
    yield "decision_id", a.decision_id, p.get("decision_id")
    yield "required_action", a.required_action, p.get("required_action")


def _waiver_fields(w: Waiver, e: _Event, subject: str) -> _Fields:
    p = e.payload
    yield "version", subject, e.subject
    yield "waived_by", w.waived_by, e.actor
    yield "check", w.check, p.get("check")
    yield "check_result_id", w.check_result_id, p.get("check_result_id")
    yield "role", w.role, p.get("role")
    yield "reason", w.reason, p.get("reason")
    yield "evidence_digest", w.evidence_digest, p.get("evidence_digest")
    yield "auth_method", *_auth(w.auth_method, e)


def _decision_fields(d: GateDecision, e: _Event, subject: str) -> _Fields:
    p = e.payload
    yield "version", subject, e.subject
    yield "decision", d.decision, p.get("decision")
    yield "target_stage", d.target_stage, p.get("target_stage")
    yield "policy_sha256", d.policy_sha256, p.get("policy_sha256")
    yield "evidence_digest", d.evidence_digest, p.get("evidence_digest")
    yield "evidence_ids", [int(i) for i in d.evidence_ids or []], list(p.get("evidence_ids") or [])
    yield "decided_by", d.decided_by, e.actor


def _row_name(table: str, row_id: Any) -> str:
    # Rows by id ("approvals #7"); a version by its subject ("model_versions version:m@1").
    return f"{table} #{row_id}" if isinstance(row_id, int) else f"{table} {row_id}"


def _mismatch(table: str, row_id: Any, e: _Event, fields: _Fields) -> FactProblem | None:
    for name, row_value, signed in fields:
        if row_value != signed:
            return FactProblem(
                table,
                row_id,
                f"{_row_name(table, row_id)} {name} {row_value!r} does not match its signed event "
                f"(#{e.seq}: {signed!r}): edited in the DB",
                e.seq,
            )
    return None


def _unsigned(table: str, row_id: Any, what: str = "") -> FactProblem:
    return FactProblem(
        table, row_id, f"{_row_name(table, row_id)} has no signed event{what}: written around govflow"
    )


_Compare = Callable[[Any, _Event, str], _Fields]

# table, ORM class, the trail's index of it, field comparison, what a deleted row was
_ROW_TABLES: tuple[tuple[str, Any, str, _Compare, Callable[[_Event], str]], ...] = (
    (
        "check_results",
        CheckResultRow,
        "results",
        _result_fields,
        lambda e: f"{e.payload.get('check')} {e.payload.get('status')}",
    ),
    (
        "approvals",
        Approval,
        "approvals",
        _approval_fields,
        lambda e: f"{e.payload.get('verdict')} by {e.actor}",
    ),
    (
        "waivers",
        Waiver,
        "waivers",
        _waiver_fields,
        lambda e: f"waiver of {e.payload.get('check')} by {e.actor}",
    ),
    (
        "gate_decisions",
        GateDecision,
        "decisions",
        _decision_fields,
        lambda e: f"{e.payload.get('decision')} by {e.actor}",
    ),
)


def _compare_rows(
    session: Session,
    trail: _Trail,
    rows_of: Callable[[Any], Iterable[Any]],
    subject_of: Callable[[int], str | None],
    *,
    only_subject: str | None = None,
) -> list[FactProblem]:
    """Every row against its event, then every event of ``only_subject`` (all when None) against its row."""
    problems: list[FactProblem] = []
    for table, cls, index, compare, what in _ROW_TABLES:
        events: dict[Any, _Event] = getattr(trail, index)
        seen = set()
        for row in rows_of(cls):
            seen.add(row.id)
            subject = subject_of(row.version_id) or f"version id {row.version_id}"
            e = events.get(row.id)
            if e is None:
                problems.append(_unsigned(table, row.id, f" for {subject}"))
                continue
            mismatch = _mismatch(table, row.id, e, compare(row, e, subject))
            if mismatch is not None:
                problems.append(mismatch)
        for row_id, e in events.items():
            if row_id in seen or (only_subject is not None and e.subject != only_subject):
                continue
            moved = session.get(cls, row_id) if isinstance(row_id, int) else None
            if moved is not None:  # still there, under another version (or outside the rows compared)
                subject = subject_of(moved.version_id) or f"version id {moved.version_id}"
                mismatch = _mismatch(table, row_id, e, compare(moved, e, subject))
                if mismatch is not None:
                    problems.append(mismatch)
                continue
            problems.append(
                FactProblem(
                    table,
                    row_id,
                    f"{table} #{row_id} is gone, but signed event #{e.seq} recorded it "
                    f"({what(e)}, {e.subject}): deleted from the DB",
                    e.seq,
                )
            )
    return problems


def _stage_problem(v: ModelVersion, subject: str, trail: _Trail) -> FactProblem | None:
    e = trail.stages.get(subject)
    signed = e.payload.get("to") if e is not None else "candidate"
    if v.stage == signed:
        return None
    return FactProblem(
        "model_versions",
        subject,
        f"model_versions {subject} stage {v.stage!r} but the signed trail says {signed!r}: moved in the DB",
        e.seq if e is not None else None,
    )


def _model_problem(m: Model, trail: _Trail) -> FactProblem | None:
    e = trail.models.get(f"model:{m.name}")
    if e is None:
        return _unsigned("models", m.id, f" (model:{m.name})")
    return _mismatch("models", m.id, e, _model_fields(m, e))


def _version_problems(v: ModelVersion, subject: str, trail: _Trail) -> list[FactProblem]:
    e = trail.versions.get(subject)
    if e is None:
        return [_unsigned("model_versions", subject)]
    found = [
        _mismatch("model_versions", subject, e, _version_fields(v, e)),
        _stage_problem(v, subject, trail),
    ]
    return [p for p in found if p is not None]


def _policy_problems(active: PolicyRow | None, trail: _Trail, policy_sha256: str | None) -> list[FactProblem]:
    e = trail.policy
    if active is None:
        if e is not None:
            return [
                FactProblem(
                    "policies",
                    "active",
                    f"no policy is active, but signed event #{e.seq} applied "
                    f"{e.payload.get('sha256', '')[:12]}: deactivated in the DB",
                    e.seq,
                )
            ]
        return []
    if e is None or active.sha256 != e.payload.get("sha256"):
        return [
            FactProblem(
                "policies",
                active.sha256[:12],
                f"policies {active.sha256[:12]} is active but no signed policy.applied event made it so: "
                "edited in the DB",
                e.seq if e is not None else None,
            )
        ]
    if policy_sha256 is not None and policy_sha256 != active.sha256:
        return [
            FactProblem(
                "policies",
                active.sha256[:12],
                f"the gate was given policy {policy_sha256[:12]}, not the signed active one "
                f"({active.sha256[:12]}, event #{e.seq})",
                e.seq,
            )
        ]
    return []


# --- chains and seals (store.seals) ------------------------------------------------------------


def _chain_problems(key: str, events: Sequence[_Event], keyring: Keyring) -> list[FactProblem]:
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
    why = subject_seal_problem(key, {e.seq: e.hash for e in events}, keyring)
    if why is not None:
        problems.append(FactProblem("audit_events", key, why))
    return problems


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
    trail = _Trail()
    problems = _load(session, AuditEvent.subject.in_((f"model:{model.name}", subject)), keyring, trail)
    newest_policy = (
        select(AuditEvent.seq)
        .where(AuditEvent.action == "policy.applied")
        .order_by(AuditEvent.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    problems += _load(session, AuditEvent.seq == newest_policy, keyring, trail)

    for key in (f"model:{model.name}", subject):
        problems += _chain_problems(key, [e for e in trail.loaded if e.subject == key], keyring)
    if trail.policy is not None:
        why = subject_seal_problem(POLICY_CHAIN, {trail.policy.seq: trail.policy.hash}, keyring)
        if why is not None:
            problems.append(FactProblem("policies", "applied", why))
    problems += [p for p in (_model_problem(model, trail),) if p is not None]
    problems += _version_problems(row, subject, trail)
    rows: dict[Any, list[Any]] = {
        cls: list(session.scalars(select(cls).where(cls.version_id == row.id).order_by(cls.id)))
        for _, cls, *_ in _ROW_TABLES
    }
    problems += _compare_rows(
        session,
        trail,
        lambda cls: rows[cls],
        lambda version_id: subject if version_id == row.id else _subject_of(session, version_id),
        only_subject=subject,
    )
    active = session.scalar(select(PolicyRow).where(PolicyRow.active.is_(True)))
    problems += _policy_problems(active, trail, policy_sha256)
    if not problems:  # the documents are worth reading only once their rows are signed
        problems += _evidence_problems(rows[CheckResultRow], artifacts or ArtifactStore())
    tail = sealed_tail_problem(session, keyring)
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
        for name in ("check", "status", "data_sha256"):
            if document.get(name) != getattr(r, name):
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


# --- every table (audit verify) ------------------------------------------------------------


def all_fact_problems(session: Session) -> list[FactProblem]:
    """Steps 2-3 over every row and every fact event (the caller has verified the chain)."""
    trail = _Trail()
    _load(session, AuditEvent.seq > 0, None, trail)
    problems: list[FactProblem] = []
    for m in session.scalars(select(Model).order_by(Model.id)):
        found = _model_problem(m, trail)
        if found is not None:
            problems.append(found)
    subjects: dict[int, str] = {}
    for v in session.scalars(select(ModelVersion).order_by(ModelVersion.id)):
        subject = subjects[v.id] = version_subject(v.model.name, v.version)
        problems += _version_problems(v, subject, trail)
    problems += _compare_rows(
        session,
        trail,
        lambda cls: session.scalars(select(cls).order_by(cls.id)),
        subjects.get,
    )
    active = session.scalar(select(PolicyRow).where(PolicyRow.active.is_(True)))
    problems += _policy_problems(active, trail, None)
    return problems
