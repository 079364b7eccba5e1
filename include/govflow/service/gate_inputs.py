"""The gate's inputs for one version, read from the store: its evidence, approvals and waivers.

``GateInputs.decide`` runs the pure ``govflow.gate.decide`` on them; the
``*_of`` converters turn stored rows into the gate's typed values (the replay
uses them too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.gate import Approval, Decision, Evidence, VersionRef, Waiver, decide, evidence_digest
from govflow.policy import Policy
from govflow.service.evidence_kinds import MONITORING_DAGS
from govflow.store import Approval as ApprovalRow
from govflow.store import CheckResultRow, GateDecision, ModelVersion, Run
from govflow.store import Waiver as WaiverRow

__all__ = [
    "GateInputs",
    "approval_of",
    "evidence_of",
    "gather_inputs",
    "latest_decision",
    "version_ref_of",
    "waiver_of",
]


@dataclass(frozen=True)
class GateInputs:
    """Everything ``decide`` needs about one version, read from the store."""

    tier: str
    version_ref: VersionRef
    evidence: tuple[Evidence, ...]
    approvals: tuple[Approval, ...]
    waivers: tuple[Waiver, ...]

    @property
    def digest(self) -> str:
        return evidence_digest(self.evidence)

    def decide(
        self,
        policy: Policy,
        now: dt.datetime,
        *,
        approvals: Iterable[Approval] | None = None,
        waivers: Iterable[Waiver] | None = None,
    ) -> Decision:
        return decide(
            policy,
            self.tier,
            self.evidence,
            self.approvals if approvals is None else approvals,
            version_ref=self.version_ref,
            now=now,
            waivers=self.waivers if waivers is None else waivers,
        )


def version_ref_of(row: ModelVersion) -> VersionRef:
    return VersionRef(
        row.id,
        [row.training_data_sha256, row.reference_data_sha256, row.eval_data_sha256],
        submitted_by=row.created_by,
        # Signed with model.registered, compared before every decision.
        team=row.model.team,
        sector=row.model.sector,
        regions=row.model.regions or (),
    )


def evidence_of(row: CheckResultRow) -> Evidence:
    return Evidence(
        id=str(row.id),  # the gate compares ids as strings (DB integers and JSON replays alike)
        check=row.check,
        status=row.status,
        model_version_id=str(row.version_id),
        data_sha256=row.data_sha256,
        created_at=row.created_at,
        summary=dict(row.summary or {}),
        evidence_sha256=row.evidence_sha256,
    )


def approval_of(row: ApprovalRow) -> Approval:
    return Approval(
        approver=row.approver,
        role=row.role,
        verdict="approve" if row.verdict == "approve" else "reject",  # the column holds only these
        evidence_digest=row.evidence_digest,
        comment=row.comment or "",
        id=str(row.id),
        auth_method=row.auth_method,
        teams=None if row.scope_teams is None else tuple(row.scope_teams),
    )


def waiver_of(row: WaiverRow) -> Waiver:
    return Waiver(
        check=row.check,
        evidence_id="" if row.check_result_id is None else str(row.check_result_id),
        waived_by=row.waived_by,
        role=row.role,
        reason=row.reason,
        id=str(row.id),
        auth_method=row.auth_method,
        teams=None if row.scope_teams is None else tuple(row.scope_teams),
    )


def gather_inputs(session: Session, row: ModelVersion) -> GateInputs:
    # Gate evidence only: a nightly result on a production batch is monitoring, judged against the
    # tier's re-check rules (service/version_state.py), never evidence the gate decides on.
    results = session.scalars(
        select(CheckResultRow)
        .join(Run, Run.id == CheckResultRow.run_id)
        .where(CheckResultRow.version_id == row.id, Run.dag_id.not_in(MONITORING_DAGS))
        .order_by(CheckResultRow.created_at, CheckResultRow.id)
    )
    approvals = session.scalars(
        select(ApprovalRow)
        .where(ApprovalRow.version_id == row.id)
        .order_by(ApprovalRow.created_at, ApprovalRow.id)
    )
    waivers = session.scalars(
        select(WaiverRow).where(WaiverRow.version_id == row.id).order_by(WaiverRow.created_at, WaiverRow.id)
    )
    return GateInputs(
        tier=row.model.risk_tier,
        version_ref=version_ref_of(row),
        evidence=tuple(evidence_of(r) for r in results),
        approvals=tuple(approval_of(a) for a in approvals),
        waivers=tuple(waiver_of(w) for w in waivers),
    )


def latest_decision(
    session: Session, version_id: int, target_stage: str = "production"
) -> GateDecision | None:
    return session.scalar(
        select(GateDecision)
        .where(GateDecision.version_id == version_id, GateDecision.target_stage == target_stage)
        .order_by(GateDecision.id.desc())
        .limit(1)
    )
