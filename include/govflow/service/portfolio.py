"""The portfolio: one row per model with its compliance state, where an operator starts the day.

A model is compliant when its production version has a fresh, passing (or waived) result for
every check its tier requires, and none is older than the tier's re-check cadence. Everything is
read with a fixed number of set-based queries (latest-per-group by window functions), so the page
costs the same handful of queries at 5 models or 500.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Subquery, case, func, select
from sqlalchemy.orm import Session

from govflow.access import User
from govflow.policy import Policy
from govflow.service import team_scope
from govflow.service.airflow_links import run_link
from govflow.service.partition_view import last_nightly_runs, nightly_partitions
from govflow.service.version_state import compliance_problems, derive_state, latest_results_query
from govflow.store import Alert, GateDecision, Model, ModelVersion, Run, Waiver
from govflow.timeutil import iso_utc, utc
from govflow.vocab import GATED_STAGES

STATES = ("compliant", "non_compliant", "no_production")


@dataclass(frozen=True)
class PortfolioFilter:
    tier: str | None = None
    owner: str | None = None
    state: str | None = None


def portfolio(
    session: Session,
    policy: Policy,
    *,
    filters: PortfolioFilter | None = None,
    now: dt.datetime | None = None,
    viewer: User | None = None,
) -> dict[str, Any]:
    """Counts (over the tier/owner selection) and the rows that also match the state filter;
    ``viewer``: only the models of the teams they cover (counts included)."""
    filters = filters or PortfolioFilter()
    now = utc(now or dt.datetime.now(dt.UTC))
    query = (
        select(Model.id, Model.name, Model.owner, Model.team, Model.risk_tier)
        .where(team_scope.visible(viewer))
        .order_by(Model.name)
    )
    if filters.tier:
        query = query.where(Model.risk_tier == filters.tier)
    if filters.owner:
        query = query.where(Model.owner == filters.owner)
    models = session.execute(query).all()
    ids = [m.id for m in models]
    versions = _version_facts(session, ids)
    prod_ids = [v["production_id"] for v in versions.values() if v["production_id"]]
    results = _latest_results(session, prod_ids)
    waived = _waivers(session, prod_ids)
    alerts = _open_alerts(session, ids)
    pending = _pending_approvals(session, ids)
    nightly = _last_nightly(session, ids)
    read = nightly_partitions(session, ids)  # partitioned sources: what last night read, label coverage
    labels = _version_labels(
        session, [i for v in versions.values() for i in v.values() if isinstance(i, int)]
    )

    rows = []
    for m in models:
        facts = versions.get(m.id, {})
        prod = facts.get("production_id")
        problems = (
            compliance_problems(policy, m.risk_tier, results.get(prod, {}), waived.get(prod, set()), now)
            if prod
            else []
        )
        # The production version's state, derived where every view derives it.
        derived = derive_state(stage="production", decision=None, problems=problems) if prod else None
        state = derived.state if derived else "no_production"
        newest = facts.get("newest_id")
        rows.append(
            {
                "name": m.name,
                "owner": m.owner,
                "team": m.team,
                "risk_tier": m.risk_tier,
                "versions": facts.get("count", 0),
                "production_version": labels.get(prod) if prod else None,
                "newest_version": labels.get(newest) if newest else None,
                "state": state,
                "state_reason": derived.reason if derived else "no version in production",
                "problems": problems,
                "open_alerts": alerts.get(m.id, 0),
                "pending_approvals": pending.get(m.id, 0),
                "last_nightly_run": nightly.get(m.id),
                "nightly_partitions": read.get(m.id),
            }
        )
    counts = {s: sum(r["state"] == s for r in rows) for s in STATES}
    counts |= {
        "models": len(rows),
        "open_alerts": sum(r["open_alerts"] for r in rows),
        "pending_approvals": sum(r["pending_approvals"] for r in rows),
    }
    if filters.state:
        rows = [r for r in rows if r["state"] == filters.state]
    owners = sorted(set(session.scalars(select(Model.owner).where(team_scope.visible(viewer)).distinct())))
    return {
        "counts": counts,
        "models": rows,
        "owners": owners,
        "scope": team_scope.scope_view(viewer),
        "generated_at": iso_utc(now),
    }


def _version_facts(session: Session, model_ids: list[int]) -> dict[int, dict[str, int]]:
    if not model_ids:
        return {}
    prod = func.max(case((ModelVersion.stage == "production", ModelVersion.id)))
    rows = session.execute(
        select(ModelVersion.model_id, func.count(), func.max(ModelVersion.id), prod)
        .where(ModelVersion.model_id.in_(model_ids))
        .group_by(ModelVersion.model_id)
    ).all()
    return {r[0]: {"count": r[1], "newest_id": r[2], "production_id": r[3]} for r in rows}


def _version_labels(session: Session, version_ids: list[int]) -> dict[int, str]:
    if not version_ids:
        return {}
    rows = session.execute(
        select(ModelVersion.id, ModelVersion.version).where(ModelVersion.id.in_(version_ids))
    ).all()
    return dict(rows)


def _latest_results(session: Session, version_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    out: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    if not version_ids:
        return out
    for r in session.execute(latest_results_query(version_ids)).mappings():
        out[r["version_id"]][r["check"]] = dict(r)
    return out


def _waivers(session: Session, version_ids: list[int]) -> dict[int, set[tuple[str, int | None]]]:
    out: dict[int, set[tuple[str, int | None]]] = defaultdict(set)
    if version_ids:
        query = select(Waiver.version_id, Waiver.check, Waiver.check_result_id).where(
            Waiver.version_id.in_(version_ids)
        )
        for version_id, check, result_id in session.execute(query):
            out[version_id].add((check, result_id))
    return out


def _open_alerts(session: Session, model_ids: list[int]) -> dict[int, int]:
    if not model_ids:
        return {}
    query = (
        select(Alert.model_id, func.count())
        .where(Alert.model_id.in_(model_ids), Alert.resolved_at.is_(None))
        .group_by(Alert.model_id)
    )
    return {int(model_id): count for model_id, count in session.execute(query) if model_id is not None}


def latest_decisions_subquery() -> Subquery:
    """The newest gate decision of every version (window function)."""
    rank = func.row_number().over(partition_by=GateDecision.version_id, order_by=GateDecision.id.desc())
    return select(
        GateDecision.id, GateDecision.version_id, GateDecision.decision, rank.label("rank")
    ).subquery()


def _pending_approvals(session: Session, model_ids: list[int]) -> dict[int, int]:
    if not model_ids:
        return {}
    latest = latest_decisions_subquery()
    query = (
        select(ModelVersion.model_id, func.count())
        .join(latest, latest.c.version_id == ModelVersion.id)
        .where(
            latest.c.rank == 1,
            latest.c.decision == "pending_approval",
            ModelVersion.stage.in_(GATED_STAGES),
            ModelVersion.model_id.in_(model_ids),
        )
        .group_by(ModelVersion.model_id)
    )
    return dict(session.execute(query).all())


def _last_nightly(session: Session, model_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not model_ids:
        return {}
    newest = last_nightly_runs(model_ids)
    rows = session.execute(
        select(newest.c.model_id, Run.dag_id, Run.run_id, Run.started_at, Run.status).join(
            Run, Run.id == newest.c.run_pk
        )
    ).all()
    return {
        r.model_id: run_link(r.dag_id, r.run_id) | {"started_at": iso_utc(r.started_at), "status": r.status}
        for r in rows
    }


__all__ = ["STATES", "PortfolioFilter", "latest_decisions_subquery", "latest_results_query", "portfolio"]
