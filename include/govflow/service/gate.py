"""Gate use cases: evaluate, approve, waive, promote and replay, each audited in the caller's transaction.

The decision itself is the pure ``govflow.gate.decide``; this module gathers
its inputs from the store, records what it saw (policy text, evidence,
approvals, waivers, time) so ``replay_decision`` can recompute it, and
enforces who may do what (roles from ``govflow.access``, the policy's
approver roles, separation of duties).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.access import AuthMethod, Directory, User, acting_role, load_users, require_role
from govflow.errors import BadInputError, ConflictError, GovflowError, NotFoundError, PermissionDeniedError
from govflow.gate import Approval, Decision, Evidence, VersionRef, Waiver, decide, evidence_digest
from govflow.policy import Policy, PolicyError, TierPolicy, load_policy, parse_policy, policy_sha256
from govflow.service import registry
from govflow.service.docs import document_links
from govflow.service.policy import require_active
from govflow.store import Approval as ApprovalRow
from govflow.store import CheckResultRow, GateDecision, ModelVersion, utcnow
from govflow.store import Waiver as WaiverRow
from govflow.store.audit import append_event
from govflow.timeutil import iso_utc, utc
from govflow.vocab import GATED_STAGES, POLICY_CHECKS, VERDICTS

# Who may move an approved version to production (the approvals are the control; this is the act).
PROMOTE_ROLES = ("data_scientist", "reviewer", "admin")
CHECKS = POLICY_CHECKS
APPROVABLE_STAGES = GATED_STAGES


class PromotionRefusedError(GovflowError):
    """The gate does not allow the promotion (no decision, not approved, or no longer current)."""

    exit_code = 1


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


# --- reading gate inputs -------------------------------------------------------------------


def version_ref_of(row: ModelVersion) -> VersionRef:
    return VersionRef(
        row.id, [row.training_data_sha256, row.reference_data_sha256, row.eval_data_sha256], row.created_by
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
    )


def gather_inputs(session: Session, row: ModelVersion) -> GateInputs:
    results = session.scalars(
        select(CheckResultRow)
        .where(CheckResultRow.version_id == row.id)
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
        documents=_document_links(session, row.id),
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
    return stored


def _document_links(session: Session, version_id: int) -> list[dict[str, Any]]:
    # The documents the decision was taken with; later renderings replace these links.

    return document_links(session, version_id)


def decision_to_dict(
    row: GateDecision, *, model: str | None = None, version: str | None = None
) -> dict[str, Any]:
    result = (row.inputs or {}).get("result") or {}
    if model is None or version is None:
        owner = row_version = None
        if row.version_id is not None:
            from sqlalchemy.orm import object_session

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
    if rules.prohibited:
        raise ConflictError(f"{label} is in the prohibited {tier} risk tier: it is never promoted")
    if row.stage not in APPROVABLE_STAGES:
        raise ConflictError(f"{label} is {row.stage}: only candidate or staging versions go through the gate")
    return acting_role(user, roles)


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
    inputs = gather_inputs(session, row)
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
    policy = _policy(policy)
    row = registry.get_version(session, model, version)
    label, tier = f"{model}@{version}", row.model.risk_tier
    rules = policy.tier(tier)
    user = _directory(users).get(actor)
    role = _reviewer_role(user, rules.approvals.waiver_roles, row, rules, "waive checks of", label, tier)
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
    return promoted, stored


# --- replay --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayReport:
    decision_id: int
    differences: tuple[str, ...]
    stored: dict[str, Any]
    replayed: dict[str, Any] | None

    @property
    def same(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "same": self.same,
            "differences": list(self.differences),
            "stored": self.stored,
            "replayed": self.replayed,
        }


_RESULT_FIELDS = (
    "decision",
    "tier",
    "reasons",
    "notes",
    "evidence_ids",
    "evidence_digest",
    "approvals_required",
    "approved_by",
    "waived",
    "policy_sha256",
    "policy_version",
    "decided_at",
)


def replay_decision(session: Session, decision_id: int) -> ReplayReport:
    """Recompute a stored decision from its stored inputs and name every difference.

    The evidence, approvals and waivers are re-read from their tables by the
    stored ids (so a row changed after the decision shows up), the policy from
    the text stored with the decision (checked against its sha256).
    """
    row = session.get(GateDecision, decision_id)
    if row is None:
        raise NotFoundError(f"unknown gate decision {decision_id}")
    stored_view = {
        "decision": row.decision,
        "reasons": list(row.reasons or []),
        "policy_sha256": row.policy_sha256,
        "evidence_digest": row.evidence_digest,
    }
    inputs = row.inputs or {}
    missing = [
        k
        for k in ("tier", "version", "evidence", "approvals", "waivers", "now", "policy", "result")
        if k not in inputs
    ]
    if missing:
        return ReplayReport(
            row.id,
            (f"decision {row.id} lacks stored inputs ({', '.join(missing)}): it cannot be replayed",),
            stored_view,
            None,
        )
    differences: list[str] = []
    text = inputs["policy"].get("text") or ""
    if policy_sha256(text) != row.policy_sha256:
        differences.append("the stored policy text does not match the decision's policy sha256")
    try:
        policy = parse_policy(text, source=f"stored with decision {row.id}")
    except PolicyError as err:
        return ReplayReport(row.id, (*differences, str(err)), stored_view, None)

    evidence = _reread(
        session, CheckResultRow, inputs["evidence"], Evidence, evidence_of, "evidence", differences
    )
    approvals = _reread(
        session, ApprovalRow, inputs["approvals"], Approval, approval_of, "approval", differences
    )
    waivers = _reread(session, WaiverRow, inputs["waivers"], Waiver, waiver_of, "waiver", differences)
    if sorted(str(i) for i in row.evidence_ids or []) != sorted(e["id"] for e in inputs["evidence"]):
        differences.append("the decision's evidence ids differ from the evidence stored with it")
    version_ref = VersionRef.from_dict(inputs["version"])
    version_row = session.get(ModelVersion, row.version_id)
    if version_row is None or version_ref_of(version_row) != version_ref:
        differences.append("the version's registered data hashes or submitter differ from the stored ones")

    replayed = decide(
        policy,
        inputs["tier"],
        evidence,
        approvals,
        version_ref=version_ref,
        now=utc(inputs["now"]),
        waivers=waivers,
    ).to_dict()
    recorded = inputs["result"]
    for key in _RESULT_FIELDS:
        if _without_fixes(key, replayed.get(key)) != _without_fixes(key, recorded.get(key)):
            differences.append(
                f"{key}: stored {_short(recorded.get(key))}, replayed {_short(replayed.get(key))}"
            )
    columns = {
        "decision": row.decision,
        "reasons": list(row.reasons or []),
        "policy_sha256": row.policy_sha256,
        "evidence_digest": row.evidence_digest,
        "evidence_ids": [str(i) for i in row.evidence_ids or []],
    }
    for key, value in columns.items():
        if _without_fixes(key, replayed[key]) != _without_fixes(key, value):
            differences.append(
                f"stored column {key} ({_short(value)}) differs from the replay ({_short(replayed[key])})"
            )
    return ReplayReport(row.id, tuple(differences), stored_view, replayed)


def _without_fixes(key: str, value: Any) -> Any:
    # A reason's fix is advice that may improve between releases; the decision is the rest.
    if key != "reasons" or not isinstance(value, list):
        return value
    return [{k: v for k, v in r.items() if k != "fix"} if isinstance(r, dict) else r for r in value]


def _reread(
    session: Session,
    table: type[Any],
    snapshots: Sequence[dict[str, Any]],
    kind: Any,
    convert: Callable[[Any], Any],
    what: str,
    differences: list[str],
) -> list[Any]:
    """The stored items as their tables hold them now (falling back to the snapshot when a row is gone)."""
    items = []
    for snapshot in snapshots:
        item_id = snapshot.get("id")
        current = session.get(table, int(item_id)) if item_id is not None and str(item_id).isdigit() else None
        if current is None:
            differences.append(f"{what} {item_id} no longer exists")
            items.append(kind.from_dict(snapshot))
            continue
        now_form = convert(current).to_dict()
        changed = sorted(k for k in now_form if now_form[k] != snapshot.get(k))
        if changed:
            differences.append(
                f"{what} {item_id} changed since the decision: "
                + ", ".join(f"{k} {_short(snapshot.get(k))} -> {_short(now_form[k])}" for k in changed)
            )
        items.append(convert(current))
    return items


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."
