"""A production-shaped govflow stack on one machine, without Docker.

    python -m govflow.prodstack up | down | status | compose-env      (make prod-up / prod-down)

Airflow 3 with the CeleryExecutor (api-server, scheduler, dag-processor, triggerer and
two Celery workers, one of them also on the ``heavy`` queue of the PII, fairness and
explanation tasks), PostgreSQL (Airflow's metadata DB and govflow's governance DB),
Redis as the Celery broker, and SeaweedFS as the S3 object store for artifacts and data,
all from the pinned venv and on loopback ports, with state, logs and pid files under
``.prod/`` (``GOVFLOW_PROD_DIR``). Settings: ``_settings.StackSettings``.
"""

from __future__ import annotations

from govflow.prodstack._settings import DECISION_QUEUE, HEAVY_QUEUE, StackSettings, write_env_file
from govflow.prodstack._stack import (
    down,
    health,
    load_settings,
    settle_nightly,
    start_worker,
    up,
    wait_healthy,
    worker_ready,
)

__all__ = [
    "DECISION_QUEUE",
    "HEAVY_QUEUE",
    "StackSettings",
    "down",
    "health",
    "load_settings",
    "settle_nightly",
    "start_worker",
    "up",
    "wait_healthy",
    "worker_ready",
    "write_env_file",
]
