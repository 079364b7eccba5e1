"""Read models for people: what the Governance view and `show` commands display."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.access import User
from govflow.errors import NotFoundError
from govflow.policy import Policy
from govflow.service import registry, team_scope
from govflow.service.checks import check_result_to_dict, latest_check_results
from govflow.service.gate import decision_to_dict, latest_decision
from govflow.service.partition_view import nightly_partitions, waiting_for_labels
from govflow.service.serialize import approval_to_dict, waiver_to_dict
from govflow.service.version_state import version_state
from govflow.store import Approval, CheckResultRow, Document, GateDecision, ModelVersion, Waiver
from govflow.store.audit import event_to_dict, list_events


def models_overview(session: Session, *, viewer: User | None = None) -> list[dict[str, Any]]:
    """One line per model ``viewer`` may see: tier, owner, production version, newest version and
    its latest decision."""
    out = []
    for model in registry.list_models(session):
        if viewer is not None and not viewer.covers(model.team):
            continue
        versions = model.versions
        newest = versions[-1] if versions else None
        production = next((v for v in versions if v.stage == "production"), None)
        out.append(
            {
                "name": model.name,
                "owner": model.owner,
                "team": model.team,
                "risk_tier": model.risk_tier,
                "regions": model.regions,
                "versions": len(versions),
                "production_version": production.version if production else None,
                "newest_version": newest.version if newest else None,
                "newest_stage": newest.stage if newest else None,
                "newest_decision": _latest_decision(session, model.name, newest) if newest else None,
            }
        )
    return out


def model_detail(
    session: Session, name: str, *, policy: Policy, viewer: User | None = None
) -> dict[str, Any]:
    model = registry.get_model(session, name)
    team_scope.require_model(session, viewer, model)
    detail = registry.model_to_dict(model)
    detail["versions"] = [
        {
            "version": v.version,
            "stage": v.stage,
            "created_by": v.created_by,
            "created_at": registry.iso_utc(v.created_at),
            "decision": _latest_decision(session, name, v),
            "state": version_state(session, v, policy=policy).to_dict(),
            "checks": {c.check: c.status for c in latest_check_results(session, v.id).values()},
        }
        for v in reversed(model.versions)
    ]
    read = nightly_partitions(session, [model.id]).get(model.id)
    detail["nightly_partitions"] = read and read | {"waiting_for_labels": waiting_for_labels(session, model)}
    return detail


def version_detail(session: Session, name: str, version: str) -> dict[str, Any]:
    row = registry.get_version(session, name, version)
    detail = registry.version_to_dict(row, model_name=name)
    detail["risk_tier"] = row.model.risk_tier
    detail["checks"] = [
        check_result_to_dict(c)
        for c in session.scalars(
            select(CheckResultRow)
            .where(CheckResultRow.version_id == row.id)
            .order_by(CheckResultRow.id.desc())
        )
    ]
    detail["decisions"] = [
        decision_to_dict(d, model=name, version=version)
        for d in session.scalars(
            select(GateDecision).where(GateDecision.version_id == row.id).order_by(GateDecision.id.desc())
        )
    ]
    detail["approvals"] = [
        approval_to_dict(a)
        for a in session.scalars(select(Approval).where(Approval.version_id == row.id).order_by(Approval.id))
    ]
    detail["waivers"] = [
        waiver_to_dict(w)
        for w in session.scalars(select(Waiver).where(Waiver.version_id == row.id).order_by(Waiver.id))
    ]
    detail["documents"] = [
        {
            "id": d.id,
            "kind": d.kind,
            "format": d.format,
            "sha256": d.sha256,
            "completeness": d.completeness,
            "created_at": registry.iso_utc(d.created_at),
        }
        for d in session.scalars(
            select(Document).where(Document.version_id == row.id).order_by(Document.id.desc())
        )
    ]
    detail["audit"] = [
        event_to_dict(e) for e in list_events(session, subject_prefix=registry.version_subject(name, version))
    ]
    return detail


def document_for_download(
    session: Session, name: str, version: str, document_id: int, *, viewer: User | None = None
) -> Document:
    row = registry.get_version(session, name, version)
    team_scope.require_model(session, viewer, row.model, action="read the documents of")
    doc = session.get(Document, document_id)
    if doc is None or doc.version_id != row.id:
        raise NotFoundError(f"no document {document_id} for {name}@{version}")
    return doc


def _latest_decision(session: Session, model: str, version: ModelVersion) -> dict[str, Any] | None:
    row = latest_decision(session, version.id)
    return decision_to_dict(row, model=model, version=version.version) if row else None


__all__ = ["document_for_download", "model_detail", "models_overview", "version_detail"]
