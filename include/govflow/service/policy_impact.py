"""What a proposed policy would change, before it is applied, and who is non-compliant after.

1. ``policy_impact`` takes the latest gate decision of every candidate (or staging) and
   production version (one query) and decides it again under the proposed
   policy from the inputs stored with it (evidence, approvals, waivers, the
   version's data hashes and the decision's ``now``: the same snapshot
   ``gate_replay`` re-reads, without a DB round trip per item, so 500 models
   take one query and 500 pure ``decide`` calls).
2. Each version whose outcome would differ is listed with why: the decision
   (approved -> rejected), the reason codes that are new or gone (a check or
   document section newly missing), and the approvals that would no longer
   count.
3. ``record_impact`` (called by ``apply_policy``) writes the report under the
   artifact store's ``policy-impact/``, signs its sha256 into the audit trail
   (``policy.impact``) and marks every production version the new policy
   would not approve (``version.non_compliant``: since which policy, until
   when its grace period runs).
4. ``noncompliant_versions`` re-derives that state against the active policy:
   a production version is non-compliant while its latest decision was made
   under another policy and would not be approved under the active one; a
   re-approval (a new decision under the active policy) or retirement ends it.
   The nightly DAG alerts on it every night until then (``noncompliance_problems_by_version``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow import config, storage
from govflow.alerts import Problem
from govflow.gate import Approval, Evidence, VersionRef, Waiver, decide
from govflow.hashing import sha256_bytes
from govflow.policy import Policy, PolicyError, parse_policy
from govflow.store import GateDecision, Model, ModelVersion
from govflow.store import Policy as PolicyRow
from govflow.store.audit import append_event
from govflow.timeutil import iso_utc, utc
from govflow.vocab import GATED_STAGES

__all__ = [
    "NONCOMPLIANT_KEY",
    "Impact",
    "noncompliance_problems_by_version",
    "noncompliant_versions",
    "policy_impact",
    "record_impact",
]

STAGES = (*GATED_STAGES, "production")
NONCOMPLIANT_KEY = "nightly:policy-noncompliant"


@dataclass(frozen=True)
class Impact:
    """One version whose latest decision would come out differently under the proposed policy."""

    model: str
    version: str
    stage: str
    owner: str
    decision_id: int
    before: str
    after: str
    new_reasons: tuple[dict[str, Any], ...]
    gone_reasons: tuple[dict[str, Any], ...]
    approvals_no_longer_counted: tuple[str, ...]

    @property
    def newly_rejected(self) -> bool:
        return self.before == "approved" and self.after != "approved"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "stage": self.stage,
            "owner": self.owner,
            "decision_id": self.decision_id,
            "before": self.before,
            "after": self.after,
            "newly_rejected": self.newly_rejected,
            "new_reasons": list(self.new_reasons),
            "gone_reasons": list(self.gone_reasons),
            "approvals_no_longer_counted": list(self.approvals_no_longer_counted),
        }


def _latest_decisions(session: Session, stages: tuple[str, ...] = STAGES) -> list[tuple[Any, ...]]:
    latest = (
        select(GateDecision.version_id, func.max(GateDecision.id).label("id"))
        .group_by(GateDecision.version_id)
        .subquery()
    )
    query = (
        select(GateDecision, ModelVersion.version, ModelVersion.stage, Model.name, Model.owner)
        .join(latest, latest.c.id == GateDecision.id)
        .join(ModelVersion, ModelVersion.id == GateDecision.version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(ModelVersion.stage.in_(stages))
        .order_by(Model.name, ModelVersion.id)
    )
    return [tuple(row) for row in session.execute(query)]


def _redecide(row: GateDecision, policy: Policy) -> dict[str, Any] | None:
    """The stored decision decided again under ``policy`` from its stored inputs; None without them."""
    inputs = row.inputs or {}
    if any(k not in inputs for k in ("tier", "version", "evidence", "approvals", "waivers", "now")):
        return None
    return decide(
        policy,
        inputs["tier"],
        [Evidence.from_dict(e) for e in inputs["evidence"]],
        [Approval.from_dict(a) for a in inputs["approvals"]],
        version_ref=VersionRef.from_dict(inputs["version"]),
        now=utc(inputs["now"]),
        waivers=[Waiver.from_dict(w) for w in inputs["waivers"]],
    ).to_dict()


def _key(reason: dict[str, Any]) -> tuple[str, str]:
    return reason["code"], reason.get("check") or ""


def _bare(reason: dict[str, Any]) -> dict[str, Any]:
    return {k: reason.get(k) for k in ("code", "check", "message")}


def policy_impact(session: Session, policy: Policy) -> dict[str, Any]:
    """The report: every candidate/production version whose latest decision ``policy`` would change."""
    changes: list[Impact] = []
    unreplayable: list[str] = []
    examined = 0
    for row, version, stage, model, owner in _latest_decisions(session):
        examined += 1
        after = _redecide(row, policy)
        if after is None:
            unreplayable.append(f"{model} {version}")
            continue
        before_reasons = {_key(r): r for r in row.reasons or []}
        after_reasons = {_key(r): r for r in after["reasons"]}
        lost = sorted(set((row.inputs["result"] or {}).get("approved_by") or []) - set(after["approved_by"]))
        new = tuple(_bare(r) for k, r in after_reasons.items() if k not in before_reasons)
        gone = tuple(_bare(r) for k, r in before_reasons.items() if k not in after_reasons)
        if after["decision"] == row.decision and not new and not gone and not lost:
            continue
        changes.append(
            Impact(
                model, version, stage, owner, row.id, row.decision, after["decision"], new, gone, tuple(lost)
            )
        )
    return {
        "policy_version": policy.version,
        "policy_sha256": policy.sha256,
        "examined": examined,
        "changed": [c.to_dict() for c in changes],
        "newly_rejected_production": [
            f"{c.model} {c.version}" for c in changes if c.newly_rejected and c.stage == "production"
        ],
        "unreplayable": unreplayable,
    }


def record_impact(
    session: Session, policy: Policy, report: dict[str, Any], *, actor: str, auth_method: str | None
) -> dict[str, Any]:
    """Store ``report``, sign its sha256 into the trail, mark the production versions it rejects."""
    body = json.dumps(report, sort_keys=True, separators=(",", ":")).encode()
    digest = sha256_bytes(body)
    folder = f"{config.artifacts_root().rstrip('/')}/policy-impact"
    storage.mkdir(folder)
    uri = f"{folder}/{digest}.json"
    storage.write_bytes(uri, body)
    grace_until = iso_utc(dt.datetime.now(dt.UTC) + dt.timedelta(days=policy.grace_period_days))
    append_event(
        session,
        actor=actor,
        auth_method=auth_method,
        action="policy.impact",
        subject=f"policy:{policy.version}",
        payload={
            "sha256": digest,
            "uri": uri,
            "changed": len(report["changed"]),
            "policy_sha256": policy.sha256,
        },
    )
    for change in report["changed"]:
        if change["stage"] == "production" and change["newly_rejected"]:
            append_event(
                session,
                actor=actor,
                auth_method=auth_method,
                action="version.non_compliant",
                subject=f"version:{change['model']}:{change['version']}",
                payload={
                    "policy_version": policy.version,
                    "policy_sha256": policy.sha256,
                    "grace_until": grace_until,
                    "impact_sha256": digest,
                },
            )
    return {"sha256": digest, "uri": uri, "grace_until": grace_until}


def noncompliant_versions(session: Session, model: str | None = None) -> list[dict[str, Any]]:
    """Production versions the active policy would not approve, decided under an earlier policy."""
    active = session.scalar(select(PolicyRow).where(PolicyRow.active.is_(True)))
    if active is None:
        return []
    try:
        policy = parse_policy(active.text, source=f"active policy {active.version}")
    except PolicyError:
        return []
    out = []
    for row, version, _stage, name, owner in _latest_decisions(session, ("production",)):
        if (model is not None and name != model) or row.policy_sha256 == active.sha256:
            continue  # decided under the active policy: its own decision stands
        after = _redecide(row, policy)
        if after is None or after["decision"] == "approved":
            continue
        out.append(
            {
                "model": name,
                "version": version,
                "owner": owner,
                "since_policy": active.version,
                "grace_until": iso_utc(utc(active.applied_at) + dt.timedelta(days=policy.grace_period_days)),
                "reasons": [_bare(r) for r in after["reasons"]],
            }
        )
    return out


def noncompliance_problems_by_version(session: Session) -> dict[tuple[str, str], list[Problem]]:
    """The nightly alert of each production version non-compliant since the active policy, by
    (model, version): the policy parsed and the decisions read once a night, not once per model."""
    found: dict[tuple[str, str], list[Problem]] = {}
    for item in noncompliant_versions(session):
        found.setdefault((item["model"], item["version"]), []).append(_noncompliance_problem(item))
    return found


def _noncompliance_problem(item: dict[str, Any]) -> Problem:
    model, version = item["model"], item["version"]
    return Problem(
        key=NONCOMPLIANT_KEY,
        severity="critical",
        subject=f"[govflow] {model} {version} non-compliant since policy {item['since_policy']}",
        body=(
            f"Production version {version} of {model} would not be approved under policy "
            f"{item['since_policy']} (grace period until {item['grace_until']}): "
            + "; ".join(r["message"] for r in item["reasons"])[:1000]
            + f". Re-run the gate (`govflow gate --model {model} --version {version}`) or retire it."
        ),
    )
