"""Gate use cases: evaluate, approve, waive, promote (and replay), each audited in the caller's transaction.

The decision itself is the pure ``govflow.gate.decide``; ``gate_inputs``
gathers its inputs from the store; this module records what it saw (policy text, evidence,
approvals, waivers, time) so ``replay_decision`` can recompute it, and
enforces who may do what (roles from ``govflow.access``, the policy's
approver roles, separation of duties). Before deciding and before promoting,
every fact it reads must agree with its signed audit event
(``service.signed_facts``): the gate fails closed otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, object_session

from govflow.access import (
    AuthMethod,
    Directory,
    User,
    acting_role,
    load_users,
    require_role,
    require_strong_auth,
)
from govflow.errors import (
    AuthNotAcceptedError,
    BadInputError,
    ConflictError,
    GovflowError,
    PermissionDeniedError,
)
from govflow.gate import Decision
from govflow.policy import Policy, TierPolicy, load_policy
from govflow.service import mlflow_sync, registry, team_scope
from govflow.service.docs import document_links
from govflow.service.gate_inputs import (
    GateInputs,
    approval_of,
    evidence_of,
    gather_inputs,
    latest_decision,
    version_ref_of,
    waiver_of,
)
from govflow.service.gate_replay import ReplayReport, replay_decision
from govflow.service.policy import require_active
from govflow.service.signed_facts import UnsignedFactError, require_signed_facts
from govflow.store import Approval as ApprovalRow
from govflow.store import GateDecision, ModelVersion, utcnow
from govflow.store import Waiver as WaiverRow
from govflow.store.audit import append_event
from govflow.timeutil import iso_utc, utc
from govflow.vocab import GATED_STAGES, POLICY_CHECKS, VERDICTS

__all__ = [
    "APPROVABLE_STAGES",
    "CHECKS",
    "PROMOTE_ROLES",
    "GateInputs",
    "PromotionRefusedError",
    "Recorded",
    "ReplayReport",
    "UnsignedFactError",
    "approval_of",
    "approve",
    "decision_to_dict",
    "evaluate_gate",
    "evidence_of",
    "gather_inputs",
    "latest_decision",
    "promote",
    "replay_decision",
    "version_ref_of",
    "waive",
    "waiver_of",
]

# Who may move an approved version to production (the approvals are the control; this is the act).
PROMOTE_ROLES = ("data_scientist", "reviewer", "admin")
CHECKS = POLICY_CHECKS
APPROVABLE_STAGES = GATED_STAGES


class PromotionRefusedError(GovflowError):
    """The gate does not allow the promotion (no decision, not approved, or no longer current)."""

    exit_code = 1


def _policy(policy: Policy | None) -> Policy:
    # Callers that started elsewhere (the CLI, a DAG task, a web request) pass the policy they resolved.
    if policy is not None:
        return policy

    return load_policy()


def _now(now: dt.datetime | None) -> dt.datetime:
    # Microseconds are the finest unit both SQLite and PostgreSQL keep, so the stored time replays exactly.
    return utc(now or utcnow())


# --- evaluate ------------------------------------------------------------------------------


def evaluate_gate(
    session: Session,
    model: str,
    version: str,
    actor: str,
    *,
    policy: Policy | None = None,
    now: dt.datetime | None = None,
    target_stage: str = "production",
    auth_method: AuthMethod | None = None,
) -> GateDecision:
    """Decide on ``model@version`` now and store the decision with everything needed to replay it."""
    policy = _policy(policy)
    require_active(session, policy)  # a policy file an admin did not apply decides nothing
    row = registry.get_version(session, model, version)
    if row.stage == "production":  # its compliance is monitoring's (version_state), not a new gate decision
        raise ConflictError(
            f"{model}@{version} is in production: the nightly re-check judges it "
            f"(`govflow version show --model {model} --version {version}`); register a new version to re-gate"
        )
    # Decide only from signed facts: a row edited, forged or deleted in the DB keeps the gate closed.
    require_signed_facts(session, row, policy_sha256=policy.sha256)
    inputs = gather_inputs(session, row)
    when = _now(now)
    decision = inputs.decide(policy, when)
    stored = GateDecision(
        version_id=row.id,
        target_stage=target_stage,
        decision=decision.decision,
        reasons=[r.to_dict() for r in decision.reasons],
        policy_sha256=decision.policy_sha256,
        policy_version=decision.policy_version,
        evidence_ids=[int(i) for i in decision.evidence_ids],
        evidence_digest=decision.evidence_digest,
        decided_by=actor,
        decided_at=when,
        documents=document_links(session, row.id),  # the documents it was taken with
        inputs={
            "tier": inputs.tier,
            "version": inputs.version_ref.to_dict(),
            "evidence": [e.to_dict() for e in inputs.evidence],
            "approvals": [a.to_dict() for a in inputs.approvals],
            "waivers": [w.to_dict() for w in inputs.waivers],
            "now": iso_utc(when),
            "policy": {
                "sha256": policy.sha256,
                "version": policy.version,
                "source": policy.source,
                "text": policy.text,
            },
            "result": decision.to_dict(),
        },
    )
    session.add(stored)
    session.flush()
    append_event(
        session,
        actor=actor,
        auth_method=auth_method,
        action="gate.evaluated",
        subject=registry.version_subject(model, version),
        payload={
            "decision_id": stored.id,
            "decision": decision.decision,
            "tier": inputs.tier,
            "target_stage": target_stage,
            "reasons": [r.code for r in decision.reasons],
            "policy_sha256": decision.policy_sha256,
            "policy_version": decision.policy_version,
            "evidence_ids": stored.evidence_ids,
            "evidence_digest": decision.evidence_digest,
        },
    )
    mlflow_sync.after_decision(session, row, stored)  # tags the MLflow model version after commit
    return stored


def decision_to_dict(
    row: GateDecision, *, model: str | None = None, version: str | None = None
) -> dict[str, Any]:
    result = (row.inputs or {}).get("result") or {}
    if model is None or version is None:
        owner = row_version = None
        if row.version_id is not None:
            session = object_session(row)
            v = session.get(ModelVersion, row.version_id) if session is not None else None
            if v is not None:
                owner, row_version = v.model.name, v.version
        model, version = model or owner, version or row_version
    return {
        "id": row.id,
        "model": model,
        "version": version,
        "target_stage": row.target_stage,
        "decision": row.decision,
        "tier": result.get("tier"),
        "reasons": list(row.reasons or []),
        "notes": result.get("notes", []),
        "waived": result.get("waived", []),
        "approvals": {
            "required": result.get("approvals_required"),
            "approved_by": result.get("approved_by", []),
        },
        "policy_sha256": row.policy_sha256,
        "policy_version": row.policy_version,
        "evidence_ids": list(row.evidence_ids or []),
        "evidence_digest": row.evidence_digest,
        "decided_by": row.decided_by,
        "decided_at": iso_utc(row.decided_at),
    }


# --- approve and waive ----------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """A recorded approval or waiver, and what the gate would decide with it now (not stored)."""

    row: Any
    preview: Decision
    extra: dict[str, Any] = field(default_factory=dict)


def _directory(users: Directory | None) -> Directory:
    return users if users is not None else load_users()


def _reviewer_role(
    user: User, roles: Sequence[str], row: ModelVersion, rules: TierPolicy, what: str, label: str, tier: str
) -> str:
    """The role ``user`` acts in to ``what`` the version: one of ``roles`` (the admin role alone is not
    enough), never as its submitter (separation of duties), only while the version can go through the gate."""
    if not user.has_any(roles, admin_ok=False):
        raise PermissionDeniedError(
            f"permission denied: {user.describe()} may not {what} {label} ({tier} tier); "
            f"needs role {' or '.join(roles)}"
        )
    if user.name == row.created_by:
        raise PermissionDeniedError(
            f"permission denied: {user.name} submitted {label} and may not {what} it (separation of duties)"
        )
    team_scope.require_covers(user, label, row.model.team, action=what)  # nor would the gate count it
    if rules.prohibited:
        raise ConflictError(f"{label} is in the prohibited {tier} risk tier: it is never promoted")
    if row.stage not in APPROVABLE_STAGES:
        raise ConflictError(f"{label} is {row.stage}: only candidate or staging versions go through the gate")
    return acting_role(user, roles)


def _require_counting_auth(
    verdict: str, auth_method: AuthMethod | None, rules: TierPolicy, label: str, tier: str
) -> None:
    """Refuse up front an approval the gate would not count (recorded, it would only mislead)."""
    accepted = rules.approvals.accepted_auth
    if verdict != "approve" or accepted is None or auth_method is None or auth_method in accepted:
        return  # None: a service caller without an identity proof (tests, replays): the gate judges it
    model, _, version = label.partition("@")
    raise AuthNotAcceptedError(
        f"approval refused: the {tier} tier counts approvals authenticated by {' or '.join(accepted)}, "
        f"not {auth_method}; run `govflow login` then `govflow approve --model {model} "
        f"--version {version} --api`"
    )


def approve(
    session: Session,
    model: str,
    version: str,
    actor: str,
    *,
    verdict: str = "approve",
    comment: str | None = None,
    users: Directory | None = None,
    policy: Policy | None = None,
    now: dt.datetime | None = None,
    auth_method: AuthMethod | None = None,
    evidence_digest: str | None = None,
    run_id: int | None = None,
    required_action: str | None = None,
) -> Recorded:
    """Record ``actor``'s verdict on the version's current evidence (its digest binds the approval).

    An answer collected from Airflow passes the ``evidence_digest`` its request was made for (an
    answer on superseded evidence is recorded as given, and the gate does not count it), the
    govflow ``run_id`` that asked and its ``required_action`` key (unique: recorded once).
    """
    if verdict not in VERDICTS:
        raise BadInputError(f"unknown verdict {verdict!r}: approve or reject")
    comment = (comment or "").strip()
    if verdict == "reject" and not comment:
        raise BadInputError("a rejection needs a comment saying why (--comment TEXT)")
    policy = _policy(policy)
    row = registry.get_version(session, model, version)
    label, tier = f"{model}@{version}", row.model.risk_tier
    rules = policy.tier(tier)
    user = _directory(users).get(actor)
    role = _reviewer_role(user, rules.approvals.roles, row, rules, verdict, label, tier)
    _require_counting_auth(verdict, auth_method, rules, label, tier)
    inputs = gather_inputs(session, row)
    if verdict == "approve":  # where a rule pack asks for independent validation
        team_scope.require_independent(user, policy, tier, inputs.version_ref, label)
    if not inputs.evidence:
        raise ConflictError(
            f"{label} has no check results yet: nothing to {verdict} (run the governance checks first)"
        )
    latest = latest_decision(session, row.id)
    approval = ApprovalRow(
        version_id=row.id,
        decision_id=latest.id if latest else None,
        approver=user.name,
        role=role,
        verdict=verdict,
        comment=comment or None,
        evidence_digest=evidence_digest or inputs.digest,
        auth_method=auth_method,
        run_id=run_id,
        required_action=required_action,
        scope_teams=team_scope.scope_of(user),
        created_at=_now(now),
    )
    session.add(approval)
    session.flush()
    append_event(
        session,
        actor=user.name,
        auth_method=auth_method,
        action="approval.recorded",
        subject=registry.version_subject(model, version),
        payload={
            "approval_id": approval.id,
            "verdict": verdict,
            "role": approval.role,
            "comment": approval.comment,
            "evidence_digest": approval.evidence_digest,
            "decision_id": approval.decision_id,
            "auth_method": approval.auth_method,  # what the tier's accepted_auth counts: signed
            "teams": approval.scope_teams,  # whose models it counts for: signed
            **({"required_action": required_action} if required_action else {}),
        },
    )
    preview = inputs.decide(policy, _now(now), approvals=(*inputs.approvals, approval_of(approval)))
    return Recorded(row=approval, preview=preview)


def waive(
    session: Session,
    model: str,
    version: str,
    check: str,
    actor: str,
    *,
    reason: str,
    users: Directory | None = None,
    policy: Policy | None = None,
    now: dt.datetime | None = None,
    auth_method: AuthMethod | None = None,
) -> Recorded:
    """Accept the latest failed result of ``check`` for this version, with a reason (reviewers only)."""
    reason = (reason or "").strip()
    if not reason:
        raise BadInputError("a waiver needs a reason (--reason TEXT)")
    if check not in CHECKS:
        raise BadInputError(f"unknown check {check!r}: choose one of {', '.join(CHECKS)}")
    require_strong_auth(auth_method, action="a waiver")
    policy = _policy(policy)
    row = registry.get_version(session, model, version)
    label, tier = f"{model}@{version}", row.model.risk_tier
    rules = policy.tier(tier)
    user = _directory(users).get(actor)
    waivers_by = rules.approvals.roles_to_waive(check)  # a PII waiver may need the DPO (policy)
    role = _reviewer_role(user, waivers_by, row, rules, "waive checks of", label, tier)
    inputs = gather_inputs(session, row)
    own = [e for e in inputs.evidence if e.check == check and e.model_version_id == inputs.version_ref.id]
    if not own:
        raise ConflictError(f"{label} has no {check} result to waive")
    target = own[-1]
    if target.status == "error":
        raise ConflictError(
            f"the latest {check} result of {label} (id {target.id}) errored: an error cannot be "
            "waived; fix the input and re-run the check"
        )
    if not (target.status == "fail" or (target.status == "warn" and rules.block_on_warn)):
        raise ConflictError(
            f"the latest {check} result of {label} (id {target.id}) is {target.status}: nothing to waive"
        )
    waiver = WaiverRow(
        version_id=row.id,
        check=check,
        reason=reason,
        waived_by=user.name,
        role=role,
        evidence_digest=inputs.digest,
        check_result_id=int(target.id),
        auth_method=auth_method,
        scope_teams=team_scope.scope_of(user),
        created_at=_now(now),
    )
    session.add(waiver)
    session.flush()
    append_event(
        session,
        actor=user.name,
        auth_method=auth_method,
        action="waiver.recorded",
        subject=registry.version_subject(model, version),
        payload={
            "waiver_id": waiver.id,
            "check": check,
            "check_result_id": waiver.check_result_id,
            "status": target.status,
            "role": waiver.role,
            "reason": reason,
            "evidence_digest": waiver.evidence_digest,
            "auth_method": waiver.auth_method,
            "teams": waiver.scope_teams,
        },
    )
    preview = inputs.decide(policy, _now(now), waivers=(*inputs.waivers, waiver_of(waiver)))
    return Recorded(row=waiver, preview=preview, extra={"check_result_id": waiver.check_result_id})


# --- promote -------------------------------------------------------------------------------


def promote(
    session: Session,
    model: str,
    version: str,
    actor: str,
    *,
    to: str = "production",
    users: Directory | None = None,
    policy: Policy | None = None,
    now: dt.datetime | None = None,
) -> tuple[ModelVersion, GateDecision]:
    """Move the version to production if its latest gate decision is approved and still current.

    Current means: re-deciding now, on the evidence, approvals, waivers and
    policy of now, still approves, on the same evidence and policy. The previous
    production version is archived (registry.promote_to_production, audited).
    """
    if to != "production":
        raise BadInputError(f"promote moves versions to production only (got --to {to})")
    label = f"{model}@{version}"
    require_role(actor, PROMOTE_ROLES, action=f"promote {label}", users=_directory(users))
    policy = _policy(policy)
    require_active(session, policy)
    row = registry.get_version(session, model, version)
    # What this promotion decides against; registry re-checks it under the model's row lock.
    current = registry.production_version(session, model)
    expected_current = current.version if current else None
    stored = latest_decision(session, row.id)
    if stored is None:
        raise PromotionRefusedError(
            f"{label} has no gate decision: run `govflow gate --model {model} --version {version}` first"
        )
    if stored.decision != "approved":
        why = "; ".join(r["message"] for r in stored.reasons or []) or "no reason recorded"
        raise PromotionRefusedError(
            f"the latest gate decision ({stored.id}) for {label} is {stored.decision}: {why}"
        )
    require_signed_facts(session, row, policy_sha256=policy.sha256, what="promote")
    inputs = gather_inputs(session, row)
    fresh = inputs.decide(policy, _now(now))
    stale = []
    if fresh.policy_sha256 != stored.policy_sha256:
        stale.append(f"the policy changed (sha256 {stored.policy_sha256[:12]} -> {fresh.policy_sha256[:12]})")
    if fresh.evidence_digest != stored.evidence_digest:
        stale.append("the evidence changed")
    if fresh.decision != "approved":
        stale.append(
            f"re-deciding now gives {fresh.decision}: " + "; ".join(r.message for r in fresh.reasons)
        )
    if stale:
        raise PromotionRefusedError(
            f"gate decision {stored.id} for {label} is no longer current: "
            f"{'; '.join(stale)}; run `govflow gate` again"
        )
    promoted = registry.promote_to_production(
        session,
        model=model,
        version=version,
        actor=actor,
        decision_id=stored.id,
        expected_current=expected_current,
    )
    mlflow_sync.after_promotion(session, promoted, current)  # moves MLflow's champion alias after commit
    return promoted, stored
