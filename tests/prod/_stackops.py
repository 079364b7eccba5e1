"""Helpers for the fault tests: seeding, triggering, waiting, and reading the governance DB."""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Any

from govflow.prodstack import StackSettings
from govflow.prodstack._seed import seed_production_models

NIGHTLY = "nightly_compliance"
GATE = "governance_gate"


def client(stack: StackSettings, user: str = "admin"):  # type: ignore[no-untyped-def]
    from govflow.airflow_client import AirflowClient

    return AirflowClient(stack.api_url, user, stack.passwords()[user], timeout=60)


def seed(stack: StackSettings, trained: dict[str, Any], count: int) -> list[str]:
    tag = secrets.token_hex(3)
    names = [f"fault-{tag}-{i:02d}" for i in range(count)]
    seed_production_models(trained, names, bucket=stack.bucket, tag=tag)
    return names


def wait_run(admin, dag_id: str, run_id: str, *, timeout: float = 600) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            run = admin.get_run(dag_id, run_id)
        except Exception:  # noqa: BLE001 - the api-server may be briefly unavailable during a fault
            run = {"state": "unknown"}
        if run.get("state") in ("success", "failed"):
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"{dag_id} run {run_id} still {run.get('state')} after {timeout:.0f}s")
        time.sleep(2)


def wait_task(admin, dag_id: str, run_id: str, accept, *, timeout: float = 300) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The first task instance of the run for which ``accept(ti)`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ti in admin.task_instances(dag_id, run_id):
            if accept(ti):
                return ti
        time.sleep(0.3)
    raise TimeoutError(f"no matching task instance in {dag_id} run {run_id} within {timeout:.0f}s")


def worker_running(stack: StackSettings, ti_id: str) -> str | None:
    """Which worker's process group runs the task instance (its supervisor's title names the TI id)."""
    from govflow.prodstack._process import read_pid

    groups = {read_pid(stack.pids, name): name for name in stack.workers}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            pgid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
        except (OSError, ValueError, IndexError):
            continue
        if ti_id in title and pgid in groups:
            return groups[pgid]
    return None


def check_rows(stack: StackSettings, dag_id: str, run_id: str) -> list[tuple[str, str, str, str | None]]:
    """(model, check, status, evidence_uri) of every check result recorded for the Airflow run."""
    from sqlalchemy import text

    from govflow.store import session_scope

    with session_scope(stack.shared_env()["GOVFLOW_DB_URL"]) as session:
        rows = session.execute(
            text(
                "SELECT m.name, c.check, c.status, c.evidence_uri FROM check_results c "
                "JOIN runs r ON r.id = c.run_id JOIN model_versions v ON v.id = c.version_id "
                "JOIN models m ON m.id = v.model_id WHERE r.dag_id = :dag AND r.run_id = :run"
            ),
            {"dag": dag_id, "run": run_id},
        ).all()
    return [tuple(r) for r in rows]


def duplicates(rows) -> list:  # type: ignore[no-untyped-def]
    counts = Counter((model, check) for model, check, *_ in rows)
    return [key for key, n in counts.items() if n > 1]


def audit_ok(stack: StackSettings) -> dict[str, Any]:
    from govflow.service.audit import verify_audit
    from govflow.store import session_scope

    env = stack.client_env()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with session_scope(env["GOVFLOW_DB_URL"]) as session:
            report = verify_audit(session)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return report.to_dict()
