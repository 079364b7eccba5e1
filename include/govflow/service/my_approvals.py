"""What waits for a reviewer: versions whose newest gate decision is pending approval and that they may
approve (a role the tier accepts, not their own submission, not already answered by them)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.access import User
from govflow.policy import Policy
from govflow.service import team_scope
from govflow.service.airflow_links import required_actions_link, run_link
from govflow.service.portfolio import latest_decisions_subquery
from govflow.store import Approval, CheckResultRow, GateDecision, Model, ModelVersion, Run
from govflow.timeutil import iso_utc
from govflow.vocab import ADMIN, GATED_STAGES


def my_approvals(
    session: Session,
    policy: Policy,
    user: str,
    roles: Collection[str],
    *,
    required_actions: Sequence[Mapping[str, Any]] = (),
    viewer: User | None = None,
) -> dict[str, Any]:
    """govflow's pending decisions for ``user``, each with the Airflow Required Actions that ask them
    about it; ``required_actions`` (from Airflow, by the caller) that match no listed version stay
    in ``other_required_actions``."""
    latest = latest_decisions_subquery()
    rows = session.execute(
        select(Model.name, Model.risk_tier, ModelVersion, GateDecision)
        .join(ModelVersion, ModelVersion.model_id == Model.id)
        .join(latest, latest.c.version_id == ModelVersion.id)
        .join(GateDecision, GateDecision.id == latest.c.id)
        .where(
            latest.c.rank == 1,
            latest.c.decision == "pending_approval",
            ModelVersion.stage.in_(GATED_STAGES),
            team_scope.visible(viewer),  # a reviewer of one team is asked about that team's models only
        )
        .order_by(GateDecision.decided_at)
    ).all()
    # Answered: this reviewer already gave a verdict on this version's evidence as it stands.
    answered = set(
        session.execute(
            select(Approval.version_id, Approval.evidence_digest).where(Approval.approver == user)
        ).all()
    )
    items = []
    for name, tier_name, version, decision in rows:
        allowed = set(policy.tier(tier_name).approvals.roles) | {ADMIN}
        if (
            not allowed & set(roles)
            or version.created_by == user
            or (version.id, decision.evidence_digest) in answered
        ):
            continue
        items.append(
            {
                "model": name,
                "version": version.version,
                "risk_tier": tier_name,
                "submitted_by": version.created_by,
                "decision_id": decision.id,
                "decided_at": iso_utc(decision.decided_at),
                "evidence_digest": decision.evidence_digest,
                "reasons": [
                    r.get("message", str(r)) if isinstance(r, dict) else str(r) for r in decision.reasons
                ],
                "gate_run": _gate_run(session, version.id),
                "required_actions": [
                    dict(a)
                    for a in required_actions
                    if (a.get("model"), a.get("version")) == (name, version.version)
                ],
            }
        )
    listed = {(i["model"], i["version"]) for i in items}
    return {
        "user": user,
        "items": items,
        "other_required_actions": [
            dict(a) for a in required_actions if (a.get("model"), a.get("version")) not in listed
        ],
        "required_actions_url": required_actions_link(),
    }


def _gate_run(session: Session, version_id: int) -> dict[str, str] | None:
    run = session.execute(
        select(Run.dag_id, Run.run_id)
        .join(CheckResultRow, CheckResultRow.run_id == Run.id)
        .where(CheckResultRow.version_id == version_id, Run.dag_id == "governance_gate")
        .order_by(Run.id.desc())
        .limit(1)
    ).first()
    return run_link(run.dag_id, run.run_id) if run else None


__all__ = ["my_approvals"]
