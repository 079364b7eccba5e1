"""Each stakeholder's own view of the portfolio: the auditor, the data protection officer, the data
scientist. Read-only, over the same rows every other view reads, limited to the viewer's teams
(``team_scope.visible``) and to the roles each view is for (``VIEW_ROLES``; admins see them all):

1. ``auditor_view``: the audit trail's verification (chain and signatures, as ``govflow audit
   verify`` checks them), and per version its decisions, approvals, waivers and documents, with
   the command that exports its evidence bundle;
2. ``dpo_view``: per model's newest version the latest PII result (counts and column names only:
   no raw value ever leaves a check), the entities the policy allows for its regions and sector,
   and every PII waiver with who signed it and why;
3. ``data_scientist_view``: the versions the viewer submitted, each with its state and the
   latest decision's reasons and what fixes each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.access import User, require_role
from govflow.errors import GovflowError
from govflow.policy import Policy
from govflow.service import team_scope
from govflow.service.checks import latest_check_results
from govflow.service.evidence_bundle import export_evidence_bundle
from govflow.service.gate_inputs import latest_decision
from govflow.service.version_state import version_state
from govflow.store import Approval, Document, GateDecision, Model, ModelVersion, Waiver
from govflow.store.audit import verify_chain
from govflow.timeutil import iso_utc
from govflow.vocab import CheckName

__all__ = ["VIEW_ROLES", "auditor_bundle", "auditor_view", "data_scientist_view", "dpo_view"]

# The check family the data protection officer's page is about (its findings and its waivers).
PERSONAL_DATA: CheckName = "pii"

VIEW_ROLES: dict[str, tuple[str, ...]] = {
    "auditor": ("auditor",),
    "dpo": ("dpo",),
    "data_scientist": ("data_scientist",),
}


def _require(viewer: User, view: str) -> None:
    require_role(viewer, VIEW_ROLES[view], action=f"open the {view.replace('_', ' ')} view")


def _models(session: Session, viewer: User) -> list[Model]:
    return list(session.scalars(select(Model).where(team_scope.visible(viewer)).order_by(Model.name)))


def _count(session: Session, table: Any, version_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(table).where(table.version_id == version_id)) or 0
    )


def auditor_view(session: Session, viewer: User) -> dict[str, Any]:
    """The trail's verification and every visible version's record, for the auditor."""
    _require(viewer, "auditor")
    chain = verify_chain(session)
    versions = []
    for model in _models(session, viewer):
        for row in model.versions:
            decision = latest_decision(session, row.id)
            versions.append(
                {
                    "model": model.name,
                    "version": row.version,
                    "team": model.team,
                    "risk_tier": model.risk_tier,
                    "stage": row.stage,
                    "decisions": _count(session, GateDecision, row.id),
                    "latest_decision": decision.decision if decision else None,
                    "policy_version": decision.policy_version if decision else None,
                    "approvals": _count(session, Approval, row.id),
                    "waivers": _count(session, Waiver, row.id),
                    "documents": _count(session, Document, row.id),
                    "bundle_command": (
                        f"govflow evidence export --model {model.name} --version {row.version} --out "
                        f"{model.name}-{row.version}-evidence.zip"
                    ),
                }
            )
    return {"chain": chain.to_dict(), "versions": versions}


def auditor_bundle(
    session: Session, viewer: User, model: str, version: str, out: Path, *, policy: Policy
) -> dict[str, Any]:
    """Export ``model@version``'s evidence bundle to ``out`` for the auditor (audited as them)."""
    _require(viewer, "auditor")
    team_scope.require_model(session, viewer, model, action="export the evidence of")
    return export_evidence_bundle(session, model, version, out, actor=viewer.name, policy=policy)


def dpo_view(session: Session, viewer: User, policy: Policy) -> dict[str, Any]:
    """Per visible model's newest version: PII found (counts), allowed entities, PII waivers."""
    _require(viewer, "dpo")
    models = []
    for model in _models(session, viewer):
        newest = model.versions[-1] if model.versions else None
        pii = latest_check_results(session, newest.id).get(PERSONAL_DATA) if newest else None
        summary = dict(pii.summary or {}) if pii is not None else {}
        try:
            allowed: list[str] | str = sorted(policy.allowed_pii_entities(model.regions or [], model.sector))
        except GovflowError as err:  # a region the policy has no rule for: say so, as the check would
            allowed = str(err)
        waivers = [
            {
                "version": row.version,
                "waived_by": w.waived_by,
                "role": w.role,
                "reason": w.reason,
                "created_at": iso_utc(w.created_at),
            }
            for row in model.versions
            for w in session.scalars(
                select(Waiver)
                .where(Waiver.version_id == row.id, Waiver.check == PERSONAL_DATA)
                .order_by(Waiver.id)
            )
        ]
        models.append(
            {
                "model": model.name,
                "team": model.team,
                "regions": list(model.regions or []),
                "sector": model.sector,
                "data_protection_notes": model.data_protection_notes,
                "version": newest.version if newest else None,
                "pii_status": pii.status if pii is not None else None,
                "rows": summary.get("rows"),
                "columns_with_pii": list(summary.get("columns_with_pii") or []),
                "allowed_entities": allowed,
                "pii_waivers": waivers,
            }
        )
    return {"models": models}


def data_scientist_view(session: Session, viewer: User, policy: Policy) -> dict[str, Any]:
    """The versions ``viewer`` submitted, newest first, with their state and what to fix."""
    _require(viewer, "data_scientist")
    rows = session.execute(
        select(ModelVersion, Model.name)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(ModelVersion.created_by == viewer.name, team_scope.visible(viewer))
        .order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
    ).all()
    out = []
    for row, name in rows:
        decision = latest_decision(session, row.id)
        out.append(
            {
                "model": name,
                "version": row.version,
                "stage": row.stage,
                "state": version_state(session, row, policy=policy).to_dict(),
                "decision": decision.decision if decision else None,
                "reasons": [
                    {"message": r.get("message"), "fix": r.get("fix")} for r in (decision.reasons or [])
                ]
                if decision
                else [],
            }
        )
    return {"versions": out}
