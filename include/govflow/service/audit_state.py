"""Cross-check the governance state against the signed audit trail.

A row written around govflow (straight into the DB) has no signed event behind
it: a forged approval, a waiver, a gate decision, an edited verdict, a stage
moved by hand, a swapped active policy. Once the chain and its signatures are
verified, every such row must agree with the event that recorded it:

1. approvals and waivers: an ``approval.recorded`` / ``waiver.recorded`` event
   names the row's id, by the same actor, with the same verdict/check, role and
   evidence digest;
2. gate decisions: a ``gate.evaluated`` event names the id, decision, policy and
   evidence digest;
3. each version's stage is the ``to`` of its last ``version.stage_changed`` event
   (``candidate`` when there is none);
4. the active policy's sha256 is the one the last ``policy.applied`` event applied.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.service.registry import version_subject
from govflow.store import Approval, AuditEvent, GateDecision, Model, ModelVersion, Waiver
from govflow.store import Policy as PolicyRow

_ACTIONS = (
    "approval.recorded",
    "waiver.recorded",
    "gate.evaluated",
    "version.stage_changed",
    "policy.applied",
)


def _events(session: Session) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.actor, AuditEvent.subject, AuditEvent.payload)
        .where(AuditEvent.action.in_(_ACTIONS))
        .order_by(AuditEvent.seq)
    )
    for action, actor, subject, payload in rows:
        yield action, actor, subject, json.loads(payload)


def state_problems(session: Session) -> list[dict[str, Any]]:
    """Rows that no signed event accounts for (see the module docstring); [] when all agree."""
    # Keyed by the ids the events name (None when an event lacks one: it then accounts for no row).
    approvals: dict[int | None, tuple[Any, ...]] = {}
    waivers: dict[int | None, tuple[Any, ...]] = {}
    decisions: dict[int | None, tuple[Any, ...]] = {}
    stages: dict[str, str | None] = {}
    policy_sha: str | None = None
    for action, actor, subject, p in _events(session):
        if action == "approval.recorded":
            approvals[p.get("approval_id")] = (
                actor,
                p.get("verdict"),
                p.get("role"),
                p.get("evidence_digest"),
            )
        elif action == "waiver.recorded":
            waivers[p.get("waiver_id")] = (actor, p.get("check"), p.get("role"), p.get("evidence_digest"))
        elif action == "gate.evaluated":
            decisions[p.get("decision_id")] = (
                p.get("decision"),
                p.get("policy_sha256"),
                p.get("evidence_digest"),
            )
        elif action == "version.stage_changed":
            stages[subject] = p.get("to")
        elif action == "policy.applied":
            policy_sha = p.get("sha256")

    problems: list[dict[str, Any]] = []

    def check(table: str, row_id: Any, expected: tuple | None, actual: tuple) -> None:
        if expected is None:
            problems.append(_problem(table, row_id, "has no signed audit event: written around govflow"))
        elif expected != actual:
            problems.append(_problem(table, row_id, "differs from its signed audit event: edited in the DB"))

    for a in session.scalars(select(Approval).order_by(Approval.id)):
        check("approvals", a.id, approvals.get(a.id), (a.approver, a.verdict, a.role, a.evidence_digest))
    for w in session.scalars(select(Waiver).order_by(Waiver.id)):
        check("waivers", w.id, waivers.get(w.id), (w.waived_by, w.check, w.role, w.evidence_digest))
    for d in session.scalars(select(GateDecision).order_by(GateDecision.id)):
        check("gate_decisions", d.id, decisions.get(d.id), (d.decision, d.policy_sha256, d.evidence_digest))
    for name, version, stage in session.execute(
        select(Model.name, ModelVersion.version, ModelVersion.stage).join(Model).order_by(ModelVersion.id)
    ):
        subject = version_subject(name, version)
        if stage != stages.get(subject, "candidate"):
            problems.append(
                _problem(
                    "model_versions",
                    subject,
                    f"stage {stage!r} but the signed trail says {stages.get(subject, 'candidate')!r}: "
                    "moved in the DB",
                )
            )
    active = session.scalar(select(PolicyRow.sha256).where(PolicyRow.active.is_(True)))
    if active is not None and active != policy_sha:
        problems.append(
            _problem("policies", active[:12], "is active but no signed policy.applied event made it so")
        )
    return problems


def _problem(table: str, row_id: Any, what: str) -> dict[str, Any]:
    return {"seq": None, "location": f"{table} {row_id}", "problem": f"{table} {row_id} {what}"}
