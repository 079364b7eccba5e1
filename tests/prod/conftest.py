"""Fixtures for the production-stack tests (marked ``prod``; `make test-fast` skips them).

``object_store``: SeaweedFS alone (seconds), for the object-storage tests.
``prod_stack``: the whole stack of `make prod-up` (CeleryExecutor, two workers, Redis,
SeaweedFS) on free loopback ports under a temp folder, with its own PostgreSQL cluster
and Redis (so the fault tests restart those, never the machine's shared servers); both
workers take the heavy queue, so a task of a killed worker has somewhere else to go.
Everything is stopped by pid at the end of the session.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from govflow.prodstack import HEAVY_QUEUE, StackSettings, down, settle_nightly, up
from govflow.prodstack import _services as services


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("GOVFLOW_SKIP_PROD"):
        return
    for item in items:
        if item.get_closest_marker("prod"):
            item.add_marker(pytest.mark.skip(reason="GOVFLOW_SKIP_PROD is set"))


def _settings(root: Path, **overrides) -> StackSettings:
    # A dead worker's running task is noticed after 30 s and its reserved messages after 90 s; a
    # task failed by a restarted service is retried after 5 s (the DAGs wait 30-60 s by default).
    # Workers preload govflow as in production (6-10 s of imports per task otherwise); set
    # GOVFLOW_TEST_PRELOAD=0 when editing the tree under a running suite, so tasks see the edits.
    preload = os.environ.get("GOVFLOW_TEST_PRELOAD", "1") != "0"
    return StackSettings.ephemeral(
        root,
        heartbeat_timeout=30,
        queued_timeout=90,
        preload_govflow=preload,
        task_retry_delay=5,
        **overrides,
    )


def _root(name: str) -> Path:
    # Not under pytest's basetemp: a concurrent pytest run prunes old basetemps, live stack and all.
    return Path(tempfile.mkdtemp(prefix=f"govflow-{name}-"))


@pytest.fixture(scope="session")
def object_store() -> Iterator[StackSettings]:
    settings = _settings(_root("object-store"))
    try:
        services.start_weed(settings)
        yield settings
    finally:
        services.stop_weed(settings)
        shutil.rmtree(settings.root, ignore_errors=True)


@pytest.fixture
def s3_env(object_store: StackSettings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = object_store.shared_env()
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(key, env[key])
    return env


@pytest.fixture(scope="session")
def prod_stack() -> Iterator[StackSettings]:
    settings = _settings(
        _root("prod-stack"),
        workers={"worker-1": f"default,{HEAVY_QUEUE}", "worker-2": f"default,{HEAVY_QUEUE}"},
        # The stack's own 02:00 nightly run would take the tests' seeded models: half a day away.
        nightly_cron=f"0 {(dt.datetime.now(dt.UTC).hour + 12) % 24} * * *",
    )
    try:
        up(settings, timeout=400, say=lambda _: None)
        settle_nightly(settings)
        yield settings
    finally:
        down(settings, keep_postgres=False, say=lambda _: None)
        services.remove_private_postgres(settings)
        shutil.rmtree(settings.root, ignore_errors=True)


@pytest.fixture(scope="module")
def trained(prod_stack: StackSettings) -> dict:
    """The sample model trained once per test module, its files under the stack's root."""
    from govflow.prodstack.demo import train

    return train(prod_stack.root)


@pytest.fixture
def stack_env(prod_stack: StackSettings, monkeypatch: pytest.MonkeyPatch) -> StackSettings:
    """This process as a client of the stack. A production deployment (PostgreSQL, a signing key):
    dev mode is refused there, so it acts through the service with the stack's roles file."""
    for key, value in prod_stack.client_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GOVFLOW_DEV_MODE", raising=False)
    return prod_stack
