"""Production monitoring reads: which production versions are due for a re-check, and a run's results.

A version is due when its tier's ``recheck.every_days`` has passed since its
last result from the nightly DAG (a tier without ``recheck`` is never re-checked).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.policy import Policy
from govflow.service import partitions
from govflow.service.inputs import inputs_of
from govflow.service.registry import get_version, list_versions
from govflow.service.runs import RunRef
from govflow.store import CheckResultRow, ModelVersion, Run

__all__ = ["DUE_GRACE", "due_versions", "label_gap", "results_of_run"]

# A model re-checked every day must not be skipped because last night's run started a bit later.
DUE_GRACE = dt.timedelta(hours=2)


def due_versions(
    session: Session, *, policy: Policy, now: dt.datetime, dag_id: str, every_model: bool = False
) -> list[dict[str, Any]]:
    """Production versions due for their re-check by ``dag_id``, one dict per model; ``every_model``:
    every production version whose tier re-checks at all, however recently it was checked."""
    due = []
    # Each version's last result of ``dag_id`` in one grouped query, not one query per model.
    last_checked = dict(
        session.execute(
            select(CheckResultRow.version_id, func.max(CheckResultRow.created_at))
            .join(Run, CheckResultRow.run_id == Run.id)
            .join(ModelVersion, CheckResultRow.version_id == ModelVersion.id)
            .where(Run.dag_id == dag_id, ModelVersion.stage == "production")
            .group_by(CheckResultRow.version_id)
        ).all()
    )
    for row in list_versions(session, stage="production"):
        tier = row.model.risk_tier
        every = policy.tier(tier).recheck.every_days
        if not every:
            continue
        if every_model:
            due.append({"model": row.model.name, "version": row.version, "tier": tier})
            continue
        last = last_checked.get(row.id)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)
        if last is None or now - last >= dt.timedelta(days=every) - DUE_GRACE:
            due.append({"model": row.model.name, "version": row.version, "tier": tier})
    return due


def results_of_run(session: Session, run: RunRef, model: str, version: str) -> list[dict[str, Any]]:
    """The check results ``run`` recorded for the version (status, summary, errors), in order."""
    row = get_version(session, model, version)
    rows = session.scalars(
        select(CheckResultRow)
        .join(Run, CheckResultRow.run_id == Run.id)
        .where(CheckResultRow.version_id == row.id, Run.dag_id == run.dag_id, Run.run_id == run.run_id)
        .order_by(CheckResultRow.id)
    )
    return [
        {
            "check": r.check,
            "status": r.status,
            "summary": dict(r.summary or {}),
            "errors": list(r.errors or []),
        }
        for r in rows
    ]


def label_gap(session: Session, model: str, version: str, *, now: dt.datetime) -> dict[str, Any] | None:
    """The version's oldest checked partition waiting for labels past ``labels_stale_days``, or None
    (the model's batches are not partitioned, or it sets no limit, or its labels keep up)."""
    row = get_version(session, model, version)
    monitoring = (row.params or {}).get("monitoring")
    if not (isinstance(monitoring, dict) and monitoring.get("partition")):
        # Not monitored by partition: nothing waits for labels. (A row edited to say so is refused by
        # the same night's checks, which verify the registration before they read it.)
        return None
    inputs = inputs_of(row)
    source = partitions.MonitoringSource.of(inputs.batches_uri, inputs.monitoring)
    if source is None:
        return None
    return partitions.stale_labels(session, model=row.model, source=source, now=now)
