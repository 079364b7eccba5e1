"""Celery configuration of the stack's workers (``[celery] celery_config_options``).

Airflow's defaults, plus a preload: when a worker starts (``worker_init``, in the
parent before it forks its pool), the libraries and govflow modules that tasks use
are imported once, so each task process, a fork of a pool process, starts with them
in memory instead of importing pandas, scikit-learn, Fairlearn, Presidio/spaCy...
again for every task. The scheduler imports this module too; it preloads nothing.
"""

from __future__ import annotations

import importlib
import logging
import time

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

log = logging.getLogger(__name__)

CELERY_CONFIG = dict(DEFAULT_CELERY_CONFIG)

# What task processes import (the DAG files' task bodies and the checks they run).
PRELOAD = (
    "pandas",
    "pyarrow.parquet",
    "scipy.stats",
    "sklearn.metrics",
    "fairlearn.metrics",
    "airflow.sdk",
    "airflow.providers.standard.operators.hitl",
    "govflow.tasks.gate",
    "govflow.tasks.nightly",
    "govflow.service.pipeline",
    "govflow.service.docs",
    "govflow.checks.drift",
    "govflow.checks.fairness",
    "govflow.checks.pii",
    "govflow.checks.performance",
    "s3fs",
)


@worker_init.connect
def preload(**_: object) -> None:
    started = time.monotonic()
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - a missing optional module only costs speed
            log.warning("govflow preload: cannot import %s: %s", name, err)
    try:  # the spaCy model inside Presidio's engine is the biggest single cost of a PII task
        from govflow.checks.pii._engine import analyzer_engine

        analyzer_engine()
    except Exception as err:  # noqa: BLE001
        log.warning("govflow preload: Presidio engine not built: %s", err)
    log.info("govflow preload done in %.1fs", time.monotonic() - started)
