"""A version page people can read: rendered check summaries, decisions in words, documents, audit page.

The check views are the documents' own whitelisting views (``govflow.docs``' ``*_view``), so the page
shows exactly what a model card may show: counts, rates, names, masked examples, never raw values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.artifacts import ArtifactStore
from govflow.docs import drift_view, fairness_view, pii_view, scrub_text, validation_view
from govflow.errors import GovflowError, PolicyError
from govflow.policy import Policy
from govflow.service import registry
from govflow.service.airflow_links import check_links, run_link
from govflow.service.checks import check_result_to_dict, load_evidence
from govflow.service.gate import decision_to_dict
from govflow.service.serialize import approval_to_dict, waiver_to_dict
from govflow.store import (
    Approval,
    AuditEvent,
    CheckResultRow,
    Document,
    GateDecision,
    ModelVersion,
    Run,
    Waiver,
)
from govflow.store.audit import event_to_dict
from govflow.timeutil import iso_utc

AUDIT_PAGE_SIZE = 50
CHECK_ORDER = ("validation", "pii", "fairness", "drift", "performance", "documentation")


def version_view(
    session: Session,
    policy: Policy,
    name: str,
    version: str,
    *,
    audit_before: int | None = None,
    audit_limit: int = AUDIT_PAGE_SIZE,
    artifacts: ArtifactStore | None = None,
) -> dict[str, Any]:
    row = registry.get_version(session, name, version)
    model = row.model
    detail = registry.version_to_dict(row, model_name=name)
    detail["risk_tier"] = model.risk_tier
    detail["owner"] = model.owner
    tier = policy.tier(model.risk_tier)
    detail["required_checks"] = list(tier.required_checks)
    detail["checks"] = _checks(session, row, policy, artifacts or ArtifactStore())
    detail["history"] = _history(session, row.id)
    decisions = list(
        session.scalars(
            select(GateDecision).where(GateDecision.version_id == row.id).order_by(GateDecision.id.desc())
        )
    )
    detail["decisions"] = [decision_to_dict(d, model=name, version=version) for d in decisions]
    detail["approvals"] = [
        approval_to_dict(a)
        for a in session.scalars(select(Approval).where(Approval.version_id == row.id).order_by(Approval.id))
    ]
    detail["waivers"] = [
        waiver_to_dict(w)
        for w in session.scalars(select(Waiver).where(Waiver.version_id == row.id).order_by(Waiver.id))
    ]
    detail["documents"], detail["older_documents"] = _documents(session, row.id)
    detail["audit"] = audit_page(session, name, version, before=audit_before, limit=audit_limit)
    detail["gate_run"] = _gate_run(session, row.id)
    return detail


def _checks(
    session: Session, row: ModelVersion, policy: Policy, artifacts: ArtifactStore
) -> list[dict[str, Any]]:
    from govflow.service.portfolio import latest_results_query  # shared latest-per-check query

    ids = [r.id for r in session.execute(latest_results_query([row.id]))]
    results = session.execute(
        select(CheckResultRow, Run)
        .join(Run, Run.id == CheckResultRow.run_id)
        .where(CheckResultRow.id.in_(ids))
    ).all()
    tier = policy.tier(row.model.risk_tier)
    out = []
    for result, run in sorted(results, key=lambda p: _order(p[0].check)):
        item = check_result_to_dict(result)
        item["summary_text"] = summary_text(result.check, result.summary or {})
        item["links"] = check_links(run.dag_id, run.run_id, result.check)
        try:
            item["evidence"] = load_evidence(result, artifacts)
            item["evidence_problem"] = None
        except GovflowError as err:  # missing or altered evidence: shown as a gap, never trusted
            item["evidence"], item["evidence_problem"] = {}, str(err)
        item["view"] = _view(result.check, item, tier, policy, row)
        del item["evidence"]  # the whitelisted view is what leaves; raw evidence stays behind
        out.append(item)
    return out


def _view(check: str, item: dict[str, Any], tier: Any, policy: Policy, row: ModelVersion) -> Any:
    if check == "fairness":
        view = fairness_view(
            item,
            min_group_size=getattr(tier.fairness, "min_group_size", None),
            thresholds=tier.fairness.model_dump(mode="json"),
        )
        if view is not None:  # columns the evidence has values for (a task reports only some metrics)
            groups = view["groups"]
            view["shown_metrics"] = [m for m in view["metrics"] if any(g.get(m) is not None for g in groups)]
        return view
    if check == "drift":
        return drift_view(item, max_share_drifted=getattr(tier.drift, "max_share_drifted", None))
    if check == "validation":
        return validation_view(item)
    if check == "pii":
        try:
            allowed = sorted(policy.allowed_pii_entities(list(row.model.regions or ()), row.model.sector))
        except PolicyError:
            allowed = None
        view = pii_view(item, allowed=allowed)
        if view is not None:
            _add_masked_examples(view, item.get("evidence") or {})
        return view
    return None


def _add_masked_examples(view: dict[str, Any], evidence: Mapping[str, Any]) -> None:
    # The check stores masked examples only; scrubbed again like any free text before display.
    columns = evidence.get("columns") or {}
    for column in view["columns"]:
        entities = ((columns.get(column["column"]) or {}).get("entities") or {}) if columns else {}
        for found in column["entities"]:
            stats = entities.get(found["entity"]) or {}
            found["examples"] = [scrub_text(str(e)) for e in (stats.get("examples") or ())[:3]]


def summary_text(check: str, summary: Mapping[str, Any]) -> str:
    """One sentence per check for lists and the diff (never a raw dictionary)."""
    if check == "drift" and "share_drifted" in summary:
        cols = summary.get("drifted_columns") or []
        return f"{float(summary['share_drifted']):.0%} of columns drifted" + (
            f" ({', '.join(map(str, cols[:5]))})" if cols else ""
        )
    if check == "fairness" and "demographic_parity_difference" in summary:
        return f"demographic parity difference {float(summary['demographic_parity_difference']):.3f}"
    if check == "validation" and "failed" in summary:
        return f"{summary.get('failed')} of {summary.get('evaluated', '?')} expectations failed"
    if check == "pii" and "columns_with_pii" in summary:
        return f"PII found in {len(summary.get('columns_with_pii') or [])} column(s)"
    simple = [
        f"{k}: {v}" for k, v in summary.items() if isinstance(v, (int, float, str)) and len(str(v)) < 40
    ]
    return "; ".join(simple[:4])


def _order(check: str) -> int:
    return CHECK_ORDER.index(check) if check in CHECK_ORDER else len(CHECK_ORDER)


def _history(session: Session, version_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CheckResultRow.id, CheckResultRow.check, CheckResultRow.status, CheckResultRow.created_at)
        .where(CheckResultRow.version_id == version_id)
        .order_by(CheckResultRow.id.desc())
        .limit(200)
    ).all()
    return [
        {"id": r.id, "check": r.check, "status": r.status, "created_at": iso_utc(r.created_at)} for r in rows
    ]


def _documents(session: Session, version_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    older = []
    for d in session.scalars(
        select(Document).where(Document.version_id == version_id).order_by(Document.id.desc())
    ):
        item = {
            "id": d.id,
            "kind": d.kind,
            "format": d.format,
            "sha256": d.sha256,
            "created_at": iso_utc(d.created_at),
        }
        if (d.kind, d.format) in newest:
            older.append(item)
        else:
            newest[(d.kind, d.format)] = item
    return [newest[k] for k in sorted(newest)], older


def audit_page(
    session: Session, name: str, version: str, *, before: int | None = None, limit: int = AUDIT_PAGE_SIZE
) -> dict[str, Any]:
    """Newest first, keyset-paginated by ``seq`` (``before``: the page's lower bound)."""
    limit = max(1, min(limit, 500))
    subject = registry.version_subject(name, version)
    where = AuditEvent.subject == subject  # exact: indexed, and never ``m@1.0`` for ``m@1``
    query = select(AuditEvent).where(where).order_by(AuditEvent.seq.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    events = list(session.scalars(query))
    more = len(events) > limit
    events = events[:limit]
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(where))
    return {
        "events": [event_to_dict(e) for e in events],
        "total": total,
        "next_before": events[-1].seq if more and events else None,
        "limit": limit,
    }


def _gate_run(session: Session, version_id: int) -> dict[str, Any] | None:
    run = session.execute(
        select(Run.dag_id, Run.run_id)
        .join(CheckResultRow, CheckResultRow.run_id == Run.id)
        .where(CheckResultRow.version_id == version_id, Run.dag_id == "governance_gate")
        .order_by(Run.id.desc())
        .limit(1)
    ).first()
    return run_link(run.dag_id, run.run_id) if run else None


__all__ = ["AUDIT_PAGE_SIZE", "audit_page", "summary_text", "version_view"]
