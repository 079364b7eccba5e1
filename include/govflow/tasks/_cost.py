"""What a nightly task costs, measured where it runs: the process CPU seconds, the checks' own CPU
seconds (the runners, ``service.pipeline``), the SQL statements sent to the governance DB and the
requests made to the object store.

One line per task in its log; with ``GOVFLOW_COST_LEDGER`` set (the benchmark), also one JSON line
appended to that file (a line is one ``write`` on an ``O_APPEND`` file: workers on one host do not
interleave). Inside, each Airflow connection is looked up once (``settings.connections_remembered``).

Object-store requests are counted at s3fs's one request method, for the task's duration only: the
task runs in its own process, so nothing else is counted.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from govflow.service.pipeline import runner_cpu
from govflow.settings import connections_remembered

LEDGER_ENV = "GOVFLOW_COST_LEDGER"

log = logging.getLogger(__name__)


@contextmanager
def task_cost(task: str, *, run: Any = None, models: int = 0) -> Iterator[dict[str, Any]]:
    """Measure the block (the yielded dict: the counts so far, ``models`` may be set)."""
    counts: dict[str, Any] = {"db": 0, "object": 0}
    cpu, wall = time.process_time(), time.perf_counter()
    with ExitStack() as stack:
        stack.enter_context(connections_remembered())
        runners = stack.enter_context(runner_cpu())
        stack.callback(_count_statements(counts))
        stack.callback(_count_object_requests(counts))
        try:
            yield counts
        finally:
            record = {
                "task": task,
                "run": getattr(run, "run_id", None),
                "models": counts.get("models", models),
                "db": counts["db"],
                "object": counts["object"],
                "cpu_s": round(time.process_time() - cpu, 4),
                "checks_cpu_s": round(sum(runners.values()), 4),
                "checks_cpu_by_check": {name: round(spent, 4) for name, spent in sorted(runners.items())},
                "wall_s": round(time.perf_counter() - wall, 4),
            }
            log.info("task cost: %s", record)
            _append(record)


def _count_statements(counts: dict[str, Any]) -> Any:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def executed(*_args: Any, **_kwargs: Any) -> None:
        counts["db"] += 1

    event.listen(Engine, "before_cursor_execute", executed)
    return lambda: event.remove(Engine, "before_cursor_execute", executed)


def _count_object_requests(counts: dict[str, Any]) -> Any:
    try:
        from s3fs import S3FileSystem
    except ImportError:  # no object store in this install: nothing to count
        return lambda: None
    original = S3FileSystem._call_s3

    async def counted(self: Any, method: Any, *args: Any, **kwargs: Any) -> Any:
        counts["object"] += 1
        return await original(self, method, *args, **kwargs)

    S3FileSystem._call_s3 = counted

    def restore() -> None:
        S3FileSystem._call_s3 = original

    return restore


def _append(record: dict[str, Any]) -> None:
    path = os.environ.get(LEDGER_ENV)
    if not path:
        return
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:  # a measurement, never a reason for the task to fail
        log.warning("could not append to %s=%s", LEDGER_ENV, path, exc_info=True)
