"""Helpers for the fault tests: seeding, triggering, waiting, and reading the governance DB."""

from __future__ import annotations

import contextlib
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govflow.prodstack import StackSettings
from govflow.prodstack._seed import seed_production_models

NIGHTLY = "nightly_compliance"
GATE = "governance_gate"


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # from start to exit
    output_at: float | None  # from start to its first output on stdout (unbuffered)


def run_cli(command: list[str], env: dict[str, str], *, timeout: float) -> CliRun:
    """Run a govflow command as its own process, timing when it printed and when it exited.

    One that outlives ``timeout`` fails the test with where it was stuck: the native stacks of
    its threads (gdb, when installed) and every thread's Python stack (faulthandler, on SIGABRT).
    """
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        env=env | {"PYTHONFAULTHANDLER": "1", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    data = {out_fd: bytearray(), err_fd: bytearray()}
    output_at = None
    deadline = started + timeout
    with proc, selectors.DefaultSelector() as selector:
        for fd in data:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(max(deadline - time.monotonic(), 0)):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fd)
                elif key.fd == out_fd and output_at is None:
                    output_at = time.monotonic() - started
                data[key.fd] += chunk
        held = bool(selector.get_map())
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            native = _native_stacks(proc.pid)
            proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack on stderr
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            proc.kill()
            with contextlib.suppress(OSError):
                data[err_fd] += proc.stderr.read()
            printed = "printed nothing" if output_at is None else f"printed after {output_at:.0f}s"
            raise AssertionError(
                f"{' '.join(command[:2])} did not exit within {timeout:.0f}s ({printed}); "
                f"stdout: {data[out_fd].decode(errors='replace')[-2000:]!r}\nnative stacks:\n{native}\n"
                f"stderr (Python stacks on SIGABRT):\n{data[err_fd].decode(errors='replace')[-20000:]}"
            ) from None
    if held:
        raise AssertionError(
            f"{' '.join(command[:2])} exited ({proc.returncode}) but its stdout/stderr stayed open for "
            f"{timeout:.0f}s (held by another process); "
            f"stdout: {data[out_fd].decode(errors='replace')[-2000:]!r}"
        )
    return CliRun(
        returncode=proc.returncode,
        stdout=data[out_fd].decode(errors="replace"),
        stderr=data[err_fd].decode(errors="replace"),
        seconds=time.monotonic() - started,
        output_at=output_at,
    )


def _native_stacks(pid: int) -> str:
    gdb = shutil.which("gdb")
    if gdb is None:
        return "(gdb not installed)"
    try:
        done = subprocess.run(
            [gdb, "-p", str(pid), "-batch", "-nx", "-ex", "thread apply all bt 30"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return "(gdb timed out)"
    return "\n".join(line for line in done.stdout.splitlines() if line.startswith(("Thread", "#")))[-20000:]


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
