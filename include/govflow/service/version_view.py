"""A version page people can read: rendered check summaries, decisions in words, documents, audit page.

The check views are declared by each check family (``govflow.checks.family``), the same whitelisting
views the documents use, so the page shows exactly what a model card may show: counts, rates, names,
masked examples, never raw values. Checks come in the families' order; a result of a kind no family
declares is shown by its summary only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.access import User, sees_pii_samples
from govflow.artifacts import ArtifactStore
from govflow.checks.family import ViewContext, family, generic_summary, names
from govflow.errors import GovflowError
from govflow.policy import Policy
from govflow.service import registry, team_scope
from govflow.service.airflow_links import check_links, run_link
from govflow.service.attachments import version_attachments
from govflow.service.checks import check_result_to_dict, load_evidence
from govflow.service.evidence_kinds import KIND_LABELS, evidence_kind
from govflow.service.gate import decision_to_dict
from govflow.service.packs import pack_status
from govflow.service.serialize import approval_to_dict, waiver_to_dict
from govflow.service.version_state import version_state
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
from govflow.vocab import CheckName

AUDIT_PAGE_SIZE = 50
# The check family whose masked examples only the data protection officer reads (``sees_pii_samples``).
PERSONAL_DATA: CheckName = "pii"


def version_view(
    session: Session,
    policy: Policy,
    name: str,
    version: str,
    *,
    audit_before: int | None = None,
    audit_limit: int = AUDIT_PAGE_SIZE,
    artifacts: ArtifactStore | None = None,
    viewer: User | None = None,
) -> dict[str, Any]:
    row = registry.get_version(session, name, version)
    model = row.model
    team_scope.require_model(session, viewer, model)
    detail = registry.version_to_dict(row, model_name=name)
    detail["risk_tier"] = model.risk_tier
    detail["owner"] = model.owner
    detail["team"] = model.team
    tier = policy.tier(model.risk_tier)
    detail["required_checks"] = list(tier.required_checks)
    detail["state"] = version_state(session, row, policy=policy).to_dict()
    detail["checks"] = _checks(session, row, policy, artifacts or ArtifactStore())
    _pii_samples_for(detail["checks"], shown=sees_pii_samples(viewer))
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
    # The rule packs that apply (sector, regions, tier) and, per article, evidenced or what is missing.
    custom = [r.entity for r in policy.pii.custom_recognizers]
    detail["packs"] = pack_status(session, name, version, enforced=policy.packs, custom_entities=custom)[
        "packs"
    ]
    return detail


def _checks(
    session: Session, row: ModelVersion, policy: Policy, artifacts: ArtifactStore
) -> list[dict[str, Any]]:

    # The newest result of each check of each kind: the gate's evidence (what the approvers saw) and
    # monitoring's (the nightly batches) are shown side by side, never one replacing the other.
    newest: dict[tuple[str, str], tuple[CheckResultRow, Run]] = {}
    for result, run in session.execute(
        select(CheckResultRow, Run)
        .join(Run, Run.id == CheckResultRow.run_id)
        .where(CheckResultRow.version_id == row.id)
        .order_by(CheckResultRow.created_at.desc(), CheckResultRow.id.desc())
    ):
        newest.setdefault((result.check, evidence_kind(run.dag_id)), (result, run))
    results = list(newest.values())
    registered = {
        sha for sha in (row.training_data_sha256, row.reference_data_sha256, row.eval_data_sha256) if sha
    }
    view_context = ViewContext(
        policy=policy,
        tier=policy.tier(row.model.risk_tier),
        regions=tuple(row.model.regions or ()),
        sector=row.model.sector,
        params=row.params or {},
        attachments=version_attachments(session, row),
    )
    out = []
    for result, run in sorted(results, key=lambda p: (_order(p[0].check), evidence_kind(p[1].dag_id))):
        item = check_result_to_dict(result)
        item["summary_text"] = summary_text(result.check, result.summary or {})
        item["links"] = check_links(run.dag_id, run.run_id, result.check)
        item["kind"] = evidence_kind(run.dag_id)
        item["kind_label"] = KIND_LABELS[item["kind"]]
        item["data_set"] = data_set_label(result.data_sha256, registered, item["kind"])
        rows = (result.summary or {}).get("rows")
        item["rows"] = int(rows) if isinstance(rows, int | float) else None
        try:
            item["evidence"] = load_evidence(result, artifacts)
            item["evidence_problem"] = None
        except GovflowError as err:  # missing or altered evidence: shown as a gap, never trusted
            item["evidence"], item["evidence_problem"] = {}, str(err)
        declared = family(result.check)
        page_view = declared.page_view if declared is not None else None
        item["view"] = page_view(item, view_context) if page_view is not None else None
        del item["evidence"]  # the whitelisted view is what leaves; raw evidence stays behind
        out.append(item)
    return out


def _pii_samples_for(checks: list[dict[str, Any]], *, shown: bool) -> None:
    """A PII finding's masked examples for the data protection officer only (``sees_pii_samples``):
    others read the column, entity and rate, and ``examples_shown: false`` says why there are none."""
    for item in checks:
        view = item.get("view")
        if item["check"] != PERSONAL_DATA or not isinstance(view, dict):
            continue
        view["examples_shown"] = shown
        if not shown:
            for column in view.get("columns") or ():
                for found in column.get("entities") or ():
                    found["examples"] = None


def data_set_label(data_sha256: str | None, registered: set[str], kind: str) -> str:
    """Which data a result was computed on, in words: registered data or a production batch."""
    if data_sha256 is None:
        return "no data file (the check did not read one)"
    where = (
        "registered data"
        if data_sha256 in registered
        else ("production batch" if kind == "monitoring" else "unregistered data")
    )
    return f"{where} (sha256 {data_sha256[:12]})"


def summary_text(check: str, summary: Mapping[str, Any]) -> str:
    """One sentence per check for lists and the diff (never a raw dictionary)."""
    declared = family(check)
    return declared.summary_text(summary) if declared is not None else generic_summary(summary)


def _order(check: str) -> int:
    order = names()
    return order.index(check) if check in order else len(order)


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


__all__ = ["AUDIT_PAGE_SIZE", "audit_page", "data_set_label", "summary_text", "version_view"]
