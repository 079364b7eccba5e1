"""Runs: which pipeline run (Airflow dag run, CLI invocation) produced a result."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.store import Run, utcnow

TRIGGER_KINDS = ("rest", "asset", "ui", "schedule", "cli", "manual", "test")


def ensure_run(session: Session, *, dag_id: str, run_id: str, trigger_kind: str = "manual") -> Run:
    """The run row for (dag_id, run_id), created once: retried tasks find the same row."""
    run = session.scalar(select(Run).where(Run.dag_id == dag_id, Run.run_id == run_id))
    if run is None:
        run = Run(
            dag_id=dag_id,
            run_id=run_id,
            trigger_kind=trigger_kind if trigger_kind in TRIGGER_KINDS else "manual",
        )
        session.add(run)
        session.flush()
    return run


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
