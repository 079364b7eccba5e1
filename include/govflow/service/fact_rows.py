"""Signed facts, row by row: each row the gate reads beside the signed event that recorded it.

``load_events`` reads fact events into a ``Trail`` (each one's hash and
signature checked first when given a keyring); ``compare_rows`` and the
``*_problem(s)`` functions compare the rows with them field by field, both ways:
a row without its event, a field that differs, an event whose row is gone.
``service.signed_facts`` runs them for one version (the gate) or every row
(``audit verify``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, object_session

from govflow.signing import Keyring
from govflow.store import (
    Approval,
    AuditEvent,
    CheckResultRow,
    GateDecision,
    Model,
    ModelVersion,
    Run,
    Waiver,
)
from govflow.store import Policy as PolicyRow
from govflow.store.audit import event_hash, signed_message
from govflow.store.seals import FACT_ACTIONS
from govflow.timeutil import iso_utc

__all__ = [
    "ROW_TABLES",
    "FactProblem",
    "SignedEvent",
    "Trail",
    "compare_rows",
    "load_events",
    "model_problem",
    "policy_problems",
    "signed_events",
    "version_problems",
]


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
class SignedEvent:
    seq: int
    action: str
    actor: str
    subject: str
    auth_method: str | None
    payload: dict[str, Any]
    hash: str = ""


@dataclass
class Trail:
    """The signed events, by the row each one recorded (the newest wins where one is superseded)."""

    models: dict[str, SignedEvent] = field(default_factory=dict)  # by subject
    versions: dict[str, SignedEvent] = field(default_factory=dict)
    stages: dict[str, SignedEvent] = field(default_factory=dict)
    results: dict[Any, SignedEvent] = field(default_factory=dict)  # by row id
    approvals: dict[Any, SignedEvent] = field(default_factory=dict)
    waivers: dict[Any, SignedEvent] = field(default_factory=dict)
    decisions: dict[Any, SignedEvent] = field(default_factory=dict)
    policy: SignedEvent | None = None
    loaded: list[SignedEvent] = field(default_factory=list)  # in seq order

    def add(self, e: SignedEvent) -> None:
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


def _event(row: AuditEvent) -> SignedEvent:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = {}
    return SignedEvent(
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
    message = signed_message(row.hash)
    # A trusted signature is not enough: a decision-class fact signed by a check-result key (a worker
    # that signed an approval with its own key) is a forgery, as `audit verify` says.
    return keyring.verify(row.key_id, row.signature, message) or keyring.refuse(
        row.key_id, row.signature, row.action, message
    )


def load_events(
    session: Session, where: ColumnElement[bool], keyring: Keyring | None, trail: Trail
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


def signed_events(session: Session, where: ColumnElement[bool], keyring: Keyring) -> list[SignedEvent]:
    """The events matching ``where`` (any action) whose hash and signature hold, in seq order; an
    edited, unsigned or forged one is left out: it is no fact."""
    query = select(AuditEvent).where(where).order_by(AuditEvent.seq)
    return [_event(row) for row in session.scalars(query) if _signature_problem(row, keyring) is None]


# --- field by field ---------------------------------------------------------------------------

_Fields = Iterator[tuple[str, Any, Any]]  # (field, the row's value, the signed value)


def _auth(row_value: str | None, e: SignedEvent) -> tuple[Any, Any]:
    # Recorded in the payload since signed facts; before, the event's own auth_method column: a row
    # that names a method must name that one (NULL counts only where the policy accepts any method).
    if "auth_method" in e.payload:
        return row_value, e.payload["auth_method"]
    if row_value is None:
        return None, None
    return row_value, e.auth_method


def _model_fields(m: Model, e: SignedEvent) -> _Fields:
    p = e.payload
    yield "owner", m.owner, p.get("owner")
    # Whose reviewers may see and approve it (service.team_scope): re-teaming it is an edit.
    yield "team", m.team, p.get("team")
    yield "risk_tier", m.risk_tier, p.get("risk_tier")
    yield "regions", list(m.regions or []), list(p.get("regions") or [])
    yield "sector", m.sector, p.get("sector")
    yield "created_by", m.created_by, p.get("created_by")
    # What nightly re-checks (its batches) and whom its alerts reach: a model row is never updated.
    yield "batches_uri", m.batches_uri, p.get("batches_uri")
    yield "stakeholders", list(m.stakeholders or []), list(p.get("stakeholders") or [])


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


def _version_fields(v: ModelVersion, e: SignedEvent) -> _Fields:
    yield "version", v.version, e.payload.get("version")
    for name in _VERSION_FIELDS:
        yield name, getattr(v, name), e.payload.get(name)
    # What the checks read from params: the label and sensitive columns, the mitigation lineage.
    yield "params", dict(v.params or {}), dict(e.payload.get("params") or {})
    yield "metrics", dict(v.metrics or {}), dict(e.payload.get("metrics") or {})


def _result_fields(r: CheckResultRow, e: SignedEvent, subject: str) -> _Fields:
    p = e.payload
    yield "version", subject, e.subject
    yield "check", r.check, p.get("check")
    yield "status", r.status, p.get("status")
    yield "data_sha256", r.data_sha256, p.get("data_sha256")
    yield "evidence_sha256", r.evidence_sha256, p.get("evidence_sha256")
    yield "policy_sha256", r.policy_sha256, p.get("policy_sha256")
    if "run" in p:  # the gate leaves out monitoring runs' results: which run a result is in decides
        session = object_session(r)
        run = session.get(Run, r.run_id) if session is not None else None
        yield "run", f"{run.dag_id}/{run.run_id}" if run is not None else None, p["run"]
    if "created_at" in p:  # recorded since signed facts: the gate's freshness rule reads it
        yield "created_at", iso_utc(r.created_at), p["created_at"]


def _approval_fields(a: Approval, e: SignedEvent, subject: str) -> _Fields:
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
    # The approver's team scope decides whose models it counts for (absent before teams: every team).
    yield "scope_teams", a.scope_teams, p.get("teams")


def _waiver_fields(w: Waiver, e: SignedEvent, subject: str) -> _Fields:
    p = e.payload
    yield "version", subject, e.subject
    yield "waived_by", w.waived_by, e.actor
    yield "check", w.check, p.get("check")
    yield "check_result_id", w.check_result_id, p.get("check_result_id")
    yield "role", w.role, p.get("role")
    yield "reason", w.reason, p.get("reason")
    yield "evidence_digest", w.evidence_digest, p.get("evidence_digest")
    yield "auth_method", *_auth(w.auth_method, e)
    yield "scope_teams", w.scope_teams, p.get("teams")


def _decision_fields(d: GateDecision, e: SignedEvent, subject: str) -> _Fields:
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


def _mismatch(table: str, row_id: Any, e: SignedEvent, fields: _Fields) -> FactProblem | None:
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


_Compare = Callable[[Any, SignedEvent, str], _Fields]

# table, ORM class, the trail's index of it, field comparison, what a deleted row was
ROW_TABLES: tuple[tuple[str, Any, str, _Compare, Callable[[SignedEvent], str]], ...] = (
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


def _order_problems(approvals: list[Approval], events: dict[Any, SignedEvent]) -> list[FactProblem]:
    """An approver's last verdict counts (gate._tally, in ``created_at`` order, which is not signed):
    their verdicts must come in the order the signed trail recorded them, or a backdated rejection
    would let an earlier approval count again."""
    problems = []
    last: dict[tuple[int, str], tuple[int, Approval]] = {}
    for a in sorted(approvals, key=lambda a: (iso_utc(a.created_at) or "", a.id)):
        e = events.get(a.id)
        if e is None:
            continue  # reported as unsigned
        before = last.get((a.version_id, a.approver))
        if before is not None and before[0] > e.seq:
            problems.append(
                FactProblem(
                    "approvals",
                    a.id,
                    f"approvals #{a.id} created_at {iso_utc(a.created_at)!r} puts {a.approver}'s verdict "
                    f"before approvals #{before[1].id}, but the signed trail recorded it after (#{e.seq}): "
                    "reordered in the DB",
                    e.seq,
                )
            )
        last[(a.version_id, a.approver)] = (e.seq, a)
    return problems


def compare_rows(
    session: Session,
    trail: Trail,
    rows_of: Callable[[Any], Iterable[Any]],
    subject_of: Callable[[int], str | None],
    *,
    only_subject: str | None = None,
) -> list[FactProblem]:
    """Every row against its event, then every event of ``only_subject`` (all when None) against its row."""
    problems: list[FactProblem] = []
    for table, cls, index, compare, what in ROW_TABLES:
        events: dict[Any, SignedEvent] = getattr(trail, index)
        seen = set()
        rows = list(rows_of(cls))
        if cls is Approval:
            problems += _order_problems(rows, events)
        for row in rows:
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


def _stage_problem(v: ModelVersion, subject: str, trail: Trail) -> FactProblem | None:
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


def model_problem(m: Model, trail: Trail) -> FactProblem | None:
    e = trail.models.get(f"model:{m.name}")
    if e is None:
        return _unsigned("models", m.id, f" (model:{m.name})")
    return _mismatch("models", m.id, e, _model_fields(m, e))


def version_problems(v: ModelVersion, subject: str, trail: Trail) -> list[FactProblem]:
    e = trail.versions.get(subject)
    if e is None:
        return [_unsigned("model_versions", subject)]
    found = [
        _mismatch("model_versions", subject, e, _version_fields(v, e)),
        _stage_problem(v, subject, trail),
    ]
    return [p for p in found if p is not None]


def policy_problems(active: PolicyRow | None, trail: Trail, policy_sha256: str | None) -> list[FactProblem]:
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
