"""Which rule packs apply to a model version, and per obligation what is evidenced and what is missing.

An obligation is evidenced when each check it names has a latest result for
the version that passed (``pass`` or ``warn``) and each document section it
names scored complete (1.0) in the version's newest document; otherwise its
missing checks and sections are listed. Packs apply by the model's sector,
regions and risk tier (``Pack.applies_to``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.policy import Pack, load_packs
from govflow.service.registry import get_model, get_version
from govflow.store import CheckResultRow, Document

__all__ = ["pack_status", "packs_evidence"]


def pack_status(
    session: Session,
    model: str,
    version: str,
    *,
    packs: list[Pack] | None = None,
    enforced: Collection[str] = (),
) -> dict[str, Any]:
    """The applying packs, their sector rules, and per obligation evidenced or what is missing.

    ``enforced``: the pack ids the active policy enforces (the others are reported, not enforced)."""
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
    )
    return {"model": model, "version": version, "packs": out}


def packs_evidence(
    packs: list[Pack],
    *,
    sector: str | None,
    regions: list[str],
    tier: str,
    passed: Collection[str],
    scores: dict[str, Any],
    enforced: Collection[str] = (),
) -> list[dict[str, Any]]:
    """The packs that apply to a model of ``sector``/``regions``/``tier`` and, per obligation,
    evidenced or missing, given the checks that ``passed`` and the document section ``scores``
    (the documents compute them while rendering, so they show the packs as of that rendering)."""
    complete = {sid for sid, score in scores.items() if score is not None and float(score) >= 1.0}
    out = []
    for pack in packs:
        if not pack.applies_to(sector=sector, regions=regions, tier=tier):
            continue
        obligations = []
        for item in pack.obligations:
            missing = [f"check {c}" for c in item.checks if c not in passed]
            missing += [f"section {s}" for s in item.sections if s not in complete]
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
