"""One state per version, derived here and nowhere else: the portfolio, model page, version page,
API, CLI and documents all show what ``derive_state`` says.

A version in production is judged by monitoring: its compliance is the newest result of every
check its tier requires (the nightly re-check, or the gate's result until one ran), each passing or
waived and younger than the tier's re-check cadence and evidence age; the reason names what is
not. A version before production is in the state of its newest gate decision (``not_gated``
before the first); an archived or rejected version is in its stage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from govflow.policy import Policy
from govflow.store import CheckResultRow, GateDecision, ModelVersion, Waiver
from govflow.timeutil import utc

State = Literal[
    "compliant", "non_compliant", "approved", "rejected", "pending_approval", "not_gated", "archived"
]
# A result that needs a waiver to count; ``warn`` joins them where the tier blocks on warn.
_BLOCKING = ("fail", "error")
_WORDS: dict[str, str] = {
    "compliant": "in production, compliant",
    "non_compliant": "in production, not compliant",
    "approved": "approved",
    "rejected": "rejected",
    "pending_approval": "pending approval",
    "not_gated": "not gated yet",
    "archived": "archived",
}


@dataclass(frozen=True)
class VersionState:
    """What one version is now, in one word (``state``), in words (``label``) and why (``reason``)."""

    state: State
    stage: str
    reason: str
    decision: str | None = None
    problems: tuple[Mapping[str, Any], ...] = field(default=())

    @property
    def label(self) -> str:
        return _WORDS[self.state]

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "label": self.label,
            "stage": self.stage,
            "reason": self.reason,
            "decision": self.decision,
            "problems": [dict(p) for p in self.problems],
        }


def derive_state(
    *,
    stage: str,
    decision: str | None,
    decision_reason: str | None = None,
    problems: list[dict[str, Any]] | tuple[Mapping[str, Any], ...] = (),
) -> VersionState:
    """The state from the facts (pure: the portfolio calls it per row, ``version_state`` per version)."""
    if stage == "production":
        if problems:
            reason = "; ".join(str(p["text"]) for p in problems)
            return VersionState("non_compliant", stage, reason, decision, tuple(problems))
        return VersionState(
            "compliant",
            stage,
            "every required check passed (or was waived) within the re-check rules",
            decision,
        )
    if stage in ("archived", "rejected"):
        return VersionState(stage, stage, f"the version is {stage}", decision)  # type: ignore[arg-type]
    if decision is None:
        return VersionState("not_gated", stage, "no gate decision yet", None)
    if decision not in ("approved", "rejected", "pending_approval"):
        return VersionState("not_gated", stage, f"unknown decision {decision!r}", decision)
    return VersionState(decision, stage, decision_reason or decision.replace("_", " "), decision)  # type: ignore[arg-type]


def compliance_problems(
    policy: Policy,
    tier_name: str,
    latest: Mapping[str, Mapping[str, Any]],
    waived: set[tuple[str, int | None]],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """What keeps a production version from compliance: its tier's re-check rules on the newest results."""
    tier = policy.tier(tier_name)
    if tier.prohibited:
        return [{"check": None, "kind": "prohibited", "text": f"the {tier_name} tier is prohibited"}]
    blocking = _BLOCKING + (("warn",) if tier.block_on_warn else ())
    out = []
    for check in tier.required_checks:
        result = latest.get(check)
        if result is None:
            out.append({"check": check, "kind": "missing", "text": f"{check}: no result"})
            continue
        age = (now - utc(result["created_at"])).total_seconds() / 86400
        if (
            result["status"] in blocking
            and (check, None) not in waived
            and (check, result["id"]) not in waived
        ):
            out.append({"check": check, "kind": "failed", "text": f"{check}: {result['status']}"})
        if age > tier.evidence_max_age_days:
            text = f"{check}: stale ({int(age)} days old, limit {tier.evidence_max_age_days})"
            out.append({"check": check, "kind": "stale", "text": text})
        elif tier.recheck.every_days and age > tier.recheck.every_days:
            text = f"{check}: re-check overdue ({int(age)} days, every {tier.recheck.every_days})"
            out.append({"check": check, "kind": "overdue", "text": text})
    return out


def decision_reason(row: GateDecision | None) -> str | None:
    """The newest decision's first reason in words (the state's reason before production)."""
    if row is None:
        return None
    reasons = [r for r in (row.reasons or []) if isinstance(r, Mapping)]
    texts = [str(r.get("message") or r.get("text") or "") for r in reasons]
    texts = [t for t in texts if t]
    return "; ".join(texts[:2]) if texts else row.decision.replace("_", " ")


def version_state(
    session: Session, version: ModelVersion, *, policy: Policy, now: dt.datetime | None = None
) -> VersionState:
    """The state of one version, read from the store."""

    decision = session.scalar(
        select(GateDecision)
        .where(GateDecision.version_id == version.id, GateDecision.target_stage == "production")
        .order_by(GateDecision.id.desc())
        .limit(1)
    )
    problems: list[dict[str, Any]] = []
    if version.stage == "production":
        latest = {r["check"]: dict(r) for r in session.execute(latest_results_query([version.id])).mappings()}
        waived = {
            (check, result_id)
            for check, result_id in session.execute(
                select(Waiver.check, Waiver.check_result_id).where(Waiver.version_id == version.id)
            )
        }
        problems = compliance_problems(
            policy, version.model.risk_tier, latest, waived, utc(now or dt.datetime.now(dt.UTC))
        )
    return derive_state(
        stage=version.stage,
        decision=decision.decision if decision else None,
        decision_reason=decision_reason(decision),
        problems=problems,
    )


__all__ = ["State", "VersionState", "compliance_problems", "decision_reason", "derive_state", "version_state"]


def latest_results_query(version_ids: list[int]) -> Select[Any]:
    """The newest result of each (version, check), by a window function (one pass, no N+1)."""
    rank = (
        func.row_number()
        .over(
            partition_by=(CheckResultRow.version_id, CheckResultRow.check),
            order_by=(CheckResultRow.created_at.desc(), CheckResultRow.id.desc()),
        )
        .label("rank")
    )
    inner = (
        select(
            CheckResultRow.id,
            CheckResultRow.version_id,
            CheckResultRow.check,
            CheckResultRow.status,
            CheckResultRow.created_at,
            CheckResultRow.run_id,
            rank,
        )
        .where(CheckResultRow.version_id.in_(version_ids))
        .subquery()
    )
    return select(inner).where(inner.c.rank == 1)
