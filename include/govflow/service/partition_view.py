"""What the Governance view shows of nightly's partitioned reads: per model, the partitions its last
nightly run checked and the label coverage.

1. The model's last nightly run is the newest ``nightly_compliance`` run with a result for one of its
   versions (the documentation check records one every night the model is due).
2. Which partitions that run checked comes from the signed ``partition.claimed`` events it wrote
   (a ``monitored_partitions`` row alone is no fact): ``predictions`` (drift, PII as they land) and
   ``labels`` (fairness, performance once the labels arrived). Only events signed since the run
   started are read, so the page's cost does not grow with the trail.
3. The label window and coverage come from that run's stored results (their summaries are the
   results' evidence of what they cover, ``service.pipeline.partitioned_data``).
4. A partition a result names but no signed claim of the run does is listed as unconfirmed.

Everything is read with a fixed number of queries for any number of models (the portfolio's rule).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from govflow.service import partitions
from govflow.service.airflow_links import NIGHTLY_DAG, run_link
from govflow.store import CheckResultRow, Model, ModelVersion, Run
from govflow.timeutil import iso_utc, utc

__all__ = ["nightly_partitions", "waiting_for_labels"]

# Claims are signed on the workers, the run's start on whichever worker began it: allow for clock skew.
_SKEW = dt.timedelta(hours=1)


def last_nightly_runs(model_ids: list[int]) -> Subquery:
    """(model_id, run_pk): the newest nightly run that recorded a result for each model (the
    portfolio's "last nightly" link and the partitions column read the same run)."""
    return (
        select(ModelVersion.model_id, func.max(Run.id).label("run_pk"))
        .join(CheckResultRow, CheckResultRow.version_id == ModelVersion.id)
        .join(Run, Run.id == CheckResultRow.run_id)
        .where(Run.dag_id == NIGHTLY_DAG, ModelVersion.model_id.in_(model_ids))
        .group_by(ModelVersion.model_id)
        .subquery()
    )


def nightly_partitions(session: Session, model_ids: list[int]) -> dict[int, dict[str, Any]]:
    """model id -> what its last nightly run read of its partitioned source; models whose source is
    not partitioned (no claim, no result naming partitions) are left out."""
    if not model_ids:
        return {}
    last = last_nightly_runs(model_ids)
    rows = session.execute(
        select(
            Model.id,
            Model.name,
            Model.batches_uri,
            Run.run_id,
            Run.started_at,
            CheckResultRow.check,
            CheckResultRow.summary,
        )
        .join(last, last.c.model_id == Model.id)
        .join(Run, Run.id == last.c.run_pk)
        .join(ModelVersion, ModelVersion.model_id == Model.id)
        .join(
            CheckResultRow, (CheckResultRow.version_id == ModelVersion.id) & (CheckResultRow.run_id == Run.id)
        )
        .order_by(Model.id, CheckResultRow.id)
    ).all()
    runs: dict[int, dict[str, Any]] = {}
    results: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        runs.setdefault(
            r.id, {"name": r.name, "source": r.batches_uri, "run_id": r.run_id, "at": r.started_at}
        )
        results[r.id][r.check] = dict(r.summary or {})
    sources = {run["name"]: run["source"] for run in runs.values() if run["source"]}
    since = min((utc(run["at"]) for run in runs.values()), default=None)
    claims = partitions.signed_claims(session, sources, since=iso_utc(since - _SKEW) if since else None)
    out = {}
    for model_id, run in runs.items():
        view = _view(run, results[model_id], claims.get(run["name"], {}))
        if view is not None:
            out[model_id] = view
    return out


def _view(
    run: dict[str, Any], results: dict[str, dict[str, Any]], claims: dict[str, dict[str, partitions.Claim]]
) -> dict[str, Any] | None:
    mine = (NIGHTLY_DAG, run["run_id"])
    signed = {
        stage: sorted(key for key, c in held.items() if c.run == mine)
        for stage, held in ((s, claims.get(s, {})) for s in (partitions.PREDICTIONS, partitions.LABELS))
    }
    covered = {check: s for check, s in results.items() if isinstance(s.get("partitions"), list)}
    if not covered and not any(claims.values()):
        return None  # the newest batch is read, not partitions
    named = {str(p) for s in covered.values() for p in s["partitions"]}
    labeled = [s for s in covered.values() if "label_coverage" in s]
    coverage = min((float(s["label_coverage"]) for s in labeled), default=None)
    return {
        "run": run_link(NIGHTLY_DAG, run["run_id"]) | {"started_at": iso_utc(run["at"])},
        "checked": signed[partitions.PREDICTIONS],
        "labeled": signed[partitions.LABELS],
        "checks": {check: [str(p) for p in s["partitions"]] for check, s in covered.items()},
        "rows": max((int(s.get("rows") or 0) for s in covered.values()), default=0),
        "label_window": next((s.get("window") for s in labeled), None),
        "label_coverage": coverage,
        "unconfirmed": sorted(named - set(signed[partitions.PREDICTIONS]) - set(signed[partitions.LABELS])),
    }


def waiting_for_labels(session: Session, model: Model) -> list[str]:
    """The model's checked partitions whose labels have not arrived (every signed claim, one model)."""
    if not model.batches_uri:
        return []
    held = partitions.signed_claims(session, {model.name: model.batches_uri}).get(model.name, {})
    done = held.get(partitions.LABELS, {})
    return sorted(key for key in held.get(partitions.PREDICTIONS, {}) if key not in done)
