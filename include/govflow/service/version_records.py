"""A version's governance records, oldest first, as the documents, the evidence bundle and the BOM read them.

Gate decisions (with the notes and document links the documents show), approvals, waivers and the
audit events of the version and its model. One query each, so the documents and the bundle an
auditor checks them against list the same rows in the same order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.service.registry import version_subject
from govflow.service.serialize import approval_to_dict, waiver_to_dict
from govflow.store import Approval, AuditEvent, GateDecision, ModelVersion, Waiver
from govflow.timeutil import iso_utc

__all__ = ["decision_record", "version_approvals", "version_decisions", "version_events", "version_waivers"]


def version_decisions(session: Session, row: ModelVersion) -> list[GateDecision]:
    return list(
        session.scalars(
            select(GateDecision)
            .where(GateDecision.version_id == row.id)
            .order_by(GateDecision.decided_at, GateDecision.id)
        )
    )


def decision_record(d: GateDecision) -> dict[str, Any]:
    """A decision as the documents and the bundle's manifest show it (its reasons, notes and documents)."""
    result = (d.inputs or {}).get("result") or {}
    return {
        "id": d.id,
        "target_stage": d.target_stage,
        "decision": d.decision,
        "reasons": list(d.reasons or []),
        "notes": list(result.get("notes") or []),
        "policy_sha256": d.policy_sha256,
        "policy_version": d.policy_version,
        "evidence_ids": list(d.evidence_ids or []),
        "evidence_digest": d.evidence_digest,
        "decided_by": d.decided_by,
        "decided_at": iso_utc(d.decided_at),
        "documents": list(d.documents or []),
    }


def version_approvals(session: Session, row: ModelVersion) -> list[dict[str, Any]]:
    query = select(Approval).where(Approval.version_id == row.id).order_by(Approval.created_at, Approval.id)
    return [approval_to_dict(a) for a in session.scalars(query)]


def version_waivers(session: Session, row: ModelVersion) -> list[dict[str, Any]]:
    query = select(Waiver).where(Waiver.version_id == row.id).order_by(Waiver.created_at, Waiver.id)
    return [waiver_to_dict(w) for w in session.scalars(query)]


def version_events(session: Session, model: str, version: str) -> list[AuditEvent]:
    """The audit events about the model and this version, in chain order."""
    subjects = (f"model:{model}", version_subject(model, version))
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.subject.in_(subjects)).order_by(AuditEvent.seq))
    )
