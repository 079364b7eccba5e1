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
from govflow.store import Alert, CheckResultRow, Model, ModelVersion, Run

__all__ = [
    "DUE_GRACE",
    "due_versions",
    "label_gap",
    "models_with_open_alerts",
    "results_of_run_by_version",
]

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


def results_of_run_by_version(
    session: Session, run: RunRef, targets: list[tuple[str, str]]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The check results ``run`` recorded for each (model, version) of ``targets`` (status, summary,
    errors), in order, from one query."""
    wanted = set(targets)
    found: dict[tuple[str, str], list[dict[str, Any]]] = {target: [] for target in targets}
    rows = session.execute(
        select(Model.name, ModelVersion.version, CheckResultRow)
        .join(ModelVersion, CheckResultRow.version_id == ModelVersion.id)
        .join(Model, ModelVersion.model_id == Model.id)
        .join(Run, CheckResultRow.run_id == Run.id)
        .where(Run.dag_id == run.dag_id, Run.run_id == run.run_id)
        .order_by(CheckResultRow.id)
    )
    for model, version, r in rows:
        if (model, version) in wanted:
            found[(model, version)].append(
                {
                    "check": r.check,
                    "status": r.status,
                    "summary": dict(r.summary or {}),
                    "errors": list(r.errors or []),
                }
            )
    return found


def models_with_open_alerts(session: Session, prefix: str) -> set[str]:
    """Names of the models with an open alert whose problem key starts with ``prefix``."""
    return set(
        session.scalars(
            select(Model.name)
            .join(Alert, Alert.model_id == Model.id)
            .where(Alert.resolved_at.is_(None), Alert.problem_key.startswith(prefix, autoescape=True))
            .distinct()
        )
    )


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
