"""Runs: which pipeline run (Airflow dag run, CLI invocation) produced a result, and who acted in it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govflow.store import Run, utcnow

TRIGGER_KINDS = ("rest", "asset", "ui", "schedule", "cli", "manual", "test")
# The govflow user the DAGs act as when they change state (users.yaml: "airflow", role data_scientist).
PIPELINE_USER = os.environ.get("GOVFLOW_PIPELINE_USER") or "airflow"
RUN_TYPES = {"scheduled": "schedule", "asset_triggered": "asset", "manual": "manual", "backfill": "manual"}


@dataclass(frozen=True)
class RunRef:
    """The Airflow run a result belongs to (plain values: travels through XCom)."""

    dag_id: str
    run_id: str
    trigger_kind: str = "manual"
    # Airflow 3 DAG versioning: {"dag_version_id", "bundle_name", "bundle_version"} (None outside Airflow).
    dag_version: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def of(cls, value: RunRef | Mapping[str, Any]) -> RunRef:
        return value if isinstance(value, RunRef) else cls(**dict(value))

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> RunRef:
        """From an Airflow task context: dag id, run id and how the run was started.

        A task sees the run type (scheduled, asset-triggered, manual), not who
        triggered a manual run: a caller that knows says so in the conf
        (``govflow submit`` sends ``trigger_kind: rest``).
        """
        dag_run = context["dag_run"]
        run_type = str(getattr(dag_run.run_type, "value", dag_run.run_type)).lower()
        kind = RUN_TYPES.get(run_type, "manual")
        claimed = str((dag_run.conf or {}).get("trigger_kind") or "")
        if kind == "manual" and claimed in ("rest", "ui", "cli"):
            kind = claimed
        return cls(
            dag_id=dag_run.dag_id,
            run_id=dag_run.run_id,
            trigger_kind=kind,
            dag_version=dag_version_of(context),
        )


def dag_version_of(context: Mapping[str, Any]) -> dict[str, Any] | None:
    """The DAG version a task runs (Airflow 3 versions every DAG change) and its bundle's version
    (a git bundle's commit; None for the local dags folder, which is not versioned)."""
    ti = context.get("ti") or context.get("task_instance")
    version_id = getattr(ti, "dag_version_id", None)
    if version_id is None:
        return None
    bundle = getattr(ti, "bundle_instance", None)
    return {
        "dag_version_id": str(version_id),
        "bundle_name": getattr(bundle, "name", None),
        "bundle_version": getattr(bundle, "version", None),
    }


def pipeline_actor(run: RunRef, step: str | None = None) -> str:
    """The audit actor of a pipeline step: which DAG run (and step) did it."""
    return f"pipeline:{run.dag_id}" + (f":{run.run_id}:{step}" if step else "")


def ensure_run(
    session: Session,
    *,
    dag_id: str,
    run_id: str,
    trigger_kind: str = "manual",
    dag_version: dict[str, Any] | None = None,
) -> Run:
    """The run row for (dag_id, run_id), created once: retried tasks find the same row."""
    run = session.scalar(select(Run).where(Run.dag_id == dag_id, Run.run_id == run_id))
    if run is not None and run.dag_version is None and dag_version:
        run.dag_version = dag_version  # a row created before the DAG version was known
    if run is None:
        try:
            # A savepoint: parallel tasks of one run (Celery workers) race to create its row.
            with session.begin_nested():
                run = Run(
                    dag_id=dag_id,
                    run_id=run_id,
                    trigger_kind=trigger_kind if trigger_kind in TRIGGER_KINDS else "manual",
                    dag_version=dag_version,
                )
                session.add(run)
                session.flush()
        except IntegrityError:  # another task of the run created it first: use that row
            run = session.scalar(select(Run).where(Run.dag_id == dag_id, Run.run_id == run_id))
            if run is None:
                raise
    return run


def run_row(session: Session, run: RunRef) -> Run:
    """The run row of an Airflow run, created once."""
    return ensure_run(
        session,
        dag_id=run.dag_id,
        run_id=run.run_id,
        trigger_kind=run.trigger_kind,
        dag_version=run.dag_version,
    )


def cli_run(session: Session) -> Run:
    """A one-off run for a check started from the command line."""
    return ensure_run(
        session,
        dag_id="cli",
        run_id=f"cli__{utcnow().strftime('%Y%m%dT%H%M%S')}__{uuid.uuid4().hex[:8]}",
        trigger_kind="cli",
    )


def finish_run(session: Session, run: Run, *, status: str) -> Run:
    run.status = status
    run.ended_at = utcnow()
    session.flush()
    return run
