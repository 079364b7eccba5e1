"""Which rule packs apply to a model version, and per obligation what is evidenced and what is missing.

An obligation is evidenced when each check it names has a latest result for
the version that passed (``pass`` or ``warn``), each document section it
names scored complete (1.0) in the version's newest document, and its pack's
own rules find nothing missing (a bias audit's categories, intersections and
cadence; model risk management's independent validation, its cadence and
recorded challenge: ``AuditFacts``); otherwise what is missing is listed. Packs apply by the model's sector,
regions and risk tier (``Pack.applies_to``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.access import covers
from govflow.checks.pii import detected_entities
from govflow.errors import GovflowError
from govflow.policy import BiasAudit, Pack, load_packs
from govflow.service.checks import load_evidence
from govflow.service.registry import get_model, get_version
from govflow.store import Approval, CheckResultRow, Document, ModelVersion
from govflow.timeutil import utc
from govflow.vocab import CheckName

# The check family whose evidence a bias audit (a pack's ``bias_audit`` block) reads.
BIAS_AUDIT: CheckName = "fairness"

__all__ = ["AuditFacts", "audit_facts", "bias_audit_summary", "pack_status", "packs_evidence"]


@dataclass(frozen=True)
class AuditFacts:
    """What a pack's own rules (``BiasAudit.gaps``, ``Independence.gaps``) judge, read once per version:
    the latest fairness audit's sensitive features and time, the independent approvals' times and
    comments, and ``now``."""

    now: dt.datetime
    fairness_features: tuple[str, ...] = ()
    fairness_at: dt.datetime | None = None
    validations: tuple[tuple[dt.datetime, str], ...] = ()
    # The entities the PII scan can report (None: not judged).
    detected_entities: frozenset[str] | None = None


def audit_facts(
    session: Session,
    row: ModelVersion,
    *,
    now: dt.datetime | None = None,
    custom_entities: Collection[str] = (),
) -> AuditFacts:
    """The version's ``AuditFacts``: its newest fairness result, every approval given by a reviewer
    whose scope covers the model's team without being of it (no scope: a central function), and
    the entities the PII scan reports with the policy's custom recognizers (``custom_entities``)."""
    fairness = session.scalars(
        select(CheckResultRow)
        .where(CheckResultRow.version_id == row.id, CheckResultRow.check == BIAS_AUDIT)
        .order_by(CheckResultRow.id.desc())
    ).first()
    team = row.model.team
    validations = tuple(
        (utc(a.created_at), a.comment or "")
        for a in session.scalars(select(Approval).where(Approval.version_id == row.id).order_by(Approval.id))
        if a.verdict == "approve"
        and covers(a.scope_teams, team)
        and not (a.scope_teams is not None and team is not None and team in a.scope_teams)
    )
    features = (fairness.summary or {}).get("sensitive_features") if fairness is not None else None
    return AuditFacts(
        now=utc(now or dt.datetime.now(dt.UTC)),
        fairness_features=tuple(str(f) for f in features or ()),
        fairness_at=utc(fairness.created_at) if fairness is not None else None,
        validations=validations,
        detected_entities=detected_entities(custom_entities),
    )


def _gaps(pack: Pack, facts: AuditFacts | None) -> dict[str, list[str]]:
    """Per obligation id, what the pack's own rules find missing beyond its checks and sections."""
    if facts is None:
        return {}
    gaps: dict[str, list[str]] = {}
    if pack.bias_audit is not None:
        rule = pack.bias_audit
        found = rule.gaps(features=facts.fairness_features, audited_at=facts.fairness_at, now=facts.now)
        gaps.setdefault(rule.obligation, []).extend(found)
    if pack.pii is not None and facts.detected_entities is not None:
        gaps.setdefault(pack.pii.obligation, []).extend(pack.pii.gaps(detected=facts.detected_entities))
    if pack.independence is not None:
        for obligation, found in pack.independence.gaps(validations=facts.validations, now=facts.now).items():
            gaps.setdefault(obligation, []).extend(found)
    return gaps


def pack_status(
    session: Session,
    model: str,
    version: str,
    *,
    packs: list[Pack] | None = None,
    enforced: Collection[str] = (),
    now: dt.datetime | None = None,
    custom_entities: Collection[str] = (),
) -> dict[str, Any]:
    """The applying packs, their sector rules, and per obligation evidenced or what is missing.

    ``enforced``: the pack ids the active policy enforces (the others are reported, not enforced);
    ``now``: when the cadences are judged (default: now); ``custom_entities``: the policy's custom
    recognizers' entities (a pack's forbidden identifiers no recognizer reports are listed missing)."""
    model_row = get_model(session, model)
    row = get_version(session, model, version)
    latest: dict[str, str] = {}
    for result in session.scalars(
        select(CheckResultRow).where(CheckResultRow.version_id == row.id).order_by(CheckResultRow.id)
    ):
        latest[result.check] = result.status  # the newest wins
    passed = {check for check, status in latest.items() if status in ("pass", "warn")}
    document = session.scalars(
        select(Document).where(Document.version_id == row.id).order_by(Document.id.desc())
    ).first()
    scores = ((document.completeness or {}).get("sections") or {}) if document else {}
    out = packs_evidence(
        packs if packs is not None else load_packs(),
        sector=model_row.sector,
        regions=model_row.regions or [],
        tier=model_row.risk_tier,
        passed=passed,
        scores=scores,
        enforced=enforced,
        facts=audit_facts(session, row, now=now, custom_entities=custom_entities),
    )
    for item in out:
        rule = next((p.bias_audit for p in packs or load_packs() if p.id == item["id"]), None)
        if rule is not None:
            item["published_summary"] = bias_audit_summary(session, row, rule)
    return {"model": model, "version": version, "packs": out}


def bias_audit_summary(session: Session, row: ModelVersion, rule: BiasAudit) -> dict[str, Any] | None:
    """The bias audit's summary as the pack says it is published (6 RCNY § 5-303), from the version's
    newest fairness evidence: per category its rows, share, selection rate and impact ratio (a
    category under the pack's share reported, excluded from the ratio), the lowest ratio, and the
    audit date; ``distribution_date`` is the employer's to fill in. None without a fairness result."""
    result = session.scalars(
        select(CheckResultRow)
        .where(CheckResultRow.version_id == row.id, CheckResultRow.check == BIAS_AUDIT)
        .order_by(CheckResultRow.id.desc())
    ).first()
    if result is None:
        return None
    summary = result.summary or {}
    try:
        groups = load_evidence(result).get("by_group") or {}  # a result's details sit at the top
        problem = None
    except GovflowError as err:  # missing or altered evidence: the summary says so, never guesses
        groups, problem = {}, str(err)
    audited = utc(result.created_at)
    return {
        "audit_date": audited.date().isoformat(),
        "next_audit_due": (audited + dt.timedelta(days=rule.cadence_days)).date().isoformat(),
        "data_source": f"{'registered' if result.data_sha256 in _registered(row) else 'unregistered'} "
        f"data, sha256 {(result.data_sha256 or 'unknown')[:12]}",
        "sensitive_features": list(summary.get("sensitive_features") or []),
        "rows": summary.get("rows"),
        "unknown_category_rows": summary.get("rows_excluded"),
        "min_share": rule.min_share,
        "categories": [
            {
                "category": str(name),
                "rows": entry.get("count"),
                "share": entry.get("share"),
                "selection_rate": entry.get("selection_rate"),
                "impact_ratio": entry.get("impact_ratio"),
                "excluded": bool(entry.get("impact_ratio_excluded")),
            }
            for name, entry in sorted(groups.items())
            if isinstance(entry, dict)
        ],
        "impact_ratio": summary.get("impact_ratio"),
        "distribution_date": None,
        "evidence_problem": problem,
        "fields": list(rule.published_summary_fields),
    }


def _registered(row: ModelVersion) -> set[str]:
    return {h for h in (row.training_data_sha256, row.reference_data_sha256, row.eval_data_sha256) if h}


def packs_evidence(
    packs: list[Pack],
    *,
    sector: str | None,
    regions: list[str],
    tier: str,
    passed: Collection[str],
    scores: dict[str, Any],
    enforced: Collection[str] = (),
    facts: AuditFacts | None = None,
) -> list[dict[str, Any]]:
    """The packs that apply to a model of ``sector``/``regions``/``tier`` and, per obligation,
    evidenced or missing, given the checks that ``passed`` and the document section ``scores``
    (the documents compute them while rendering, so they show the packs as of that rendering);
    ``facts``: what the packs' own rules judge (categories audited, cadences, challenge notes)."""
    complete = {sid for sid, score in scores.items() if score is not None and float(score) >= 1.0}
    out = []
    for pack in packs:
        if not pack.applies_to(sector=sector, regions=regions, tier=tier):
            continue
        obligations = []
        gaps = _gaps(pack, facts)
        for item in pack.obligations:
            missing = [f"check {c}" for c in item.checks if c not in passed]
            missing += [f"section {s}" for s in item.sections if s not in complete]
            missing += gaps.get(item.id, [])
            obligations.append(
                {
                    "id": item.id,
                    "article": item.article,
                    "title": item.title,
                    "evidenced": not missing,
                    "missing": missing,
                }
            )
        out.append(
            {
                "id": pack.id,
                "name": pack.name,
                "source": pack.source,
                "enforced": pack.id in enforced,
                "obligations": obligations,
                **{
                    k: v.model_dump()
                    for k, v in (
                        ("bias_audit", pack.bias_audit),
                        ("independence", pack.independence),
                        ("pii", pack.pii),
                    )
                    if v is not None
                },
                "evidenced": sum(1 for o in obligations if o["evidenced"]),
                "total": len(obligations),
            }
        )
    return out
