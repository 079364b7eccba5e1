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
import os
import time
import warnings

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

log = logging.getLogger(__name__)

CELERY_CONFIG = dict(DEFAULT_CELERY_CONFIG)

# What task processes import (the DAG files' task bodies and the checks they run).
PRELOAD = (
    # third-party libraries the checks use
    "pandas",
    "pyarrow.parquet",
    "scipy.stats",
    "sklearn.metrics",
    "fairlearn.metrics",
    "great_expectations",
    "psycopg2",
    "alembic.command",
    "alembic.runtime.migration",
    "botocore.session",
    "aiobotocore.session",
    "s3fs",
    # what a task process of Airflow's runs before the task body
    "airflow.sdk",
    "airflow.sdk.execution_time.task_runner",
    "airflow.sdk.execution_time.supervisor",
    "airflow.dag_processing.dagbag",
    "airflow.providers.standard.decorators.python",
    "airflow.providers.standard.operators.python",
    "airflow.providers.standard.operators.empty",
    "airflow.providers.standard.operators.hitl",
    "sqlalchemy.orm",
    "pydantic",
    "presidio_analyzer",
    "spacy",
)
# Imported with warnings off: skops' import probes every loaded module's attributes, and Airflow's
# deprecation shims warn on each probe (see govflow.checks.model_predictions.skops_io).
PRELOAD_QUIET = ("skops.io",)
# govflow's own modules (and the Presidio engine and the DB migration check): preloaded only where
# workers restart on every deploy (GOVFLOW_PRELOAD_GOVFLOW=1), or a worker runs yesterday's code
# against today's DAG files.
PRELOAD_GOVFLOW = (
    "govflow.store",
    "govflow.policy",
    "govflow.tasks.gate",
    "govflow.tasks.nightly",
    "govflow.tasks.approval_operator",
    "govflow.service.pipeline",
    "govflow.service.checks",
    "govflow.service.gate",
    "govflow.service.docs",
    "govflow.checks.validation",
    "govflow.checks.drift",
    "govflow.checks.fairness",
    "govflow.checks.pii",
    "govflow.checks.performance",
)


@worker_init.connect
def preload(**_: object) -> None:
    started = time.monotonic()
    own = os.environ.get("GOVFLOW_PRELOAD_GOVFLOW") == "1"
    for name in PRELOAD + (PRELOAD_GOVFLOW if own else ()) + PRELOAD_QUIET:
        try:
            with warnings.catch_warnings():
                if name in PRELOAD_QUIET:
                    warnings.simplefilter("ignore")
                importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - a missing optional module only costs speed
            log.warning("govflow preload: cannot import %s: %s", name, err)
    if not own:
        log.info("govflow preload (libraries) done in %.1fs", time.monotonic() - started)
        return
    try:  # the spaCy model inside Presidio's engine is the biggest single cost of a PII task
        from govflow.checks.pii import preload

        preload()
    except Exception as err:  # noqa: BLE001
        log.warning("govflow preload: Presidio engine not built: %s", err)
    try:  # migrate-to-head once here, not in every task process; the pool is emptied before forking
        from govflow.store import get_engine

        get_engine().dispose()
    except Exception as err:  # noqa: BLE001 - the DB may come later: tasks then check it themselves
        log.warning("govflow preload: governance DB not reached: %s", err)
    log.info("govflow preload done in %.1fs", time.monotonic() - started)
