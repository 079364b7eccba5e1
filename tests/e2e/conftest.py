"""Fixtures for end-to-end tests: one real Airflow (PostgreSQL metadata DB) per test session.

Skipped (not failed) when PostgreSQL is not reachable at 127.0.0.1:5432, or
when GOVFLOW_SKIP_E2E is set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e._airflow import REPO, postgres_available, start_airflow

# name -> password, role. The reviewers are the Airflow identities the policy allows to approve.
AIRFLOW_USERS = {"admin": "admin", "dana": "dana-pw", "rita": "rita-pw", "rob": "rob-pw", "vic": "vic-pw"}
AIRFLOW_ROLES = {"admin": "admin", "dana": "user", "rita": "user", "rob": "user", "vic": "viewer"}


def pytest_collection_modifyitems(config, items):
    reason = None
    if os.environ.get("GOVFLOW_SKIP_E2E"):
        reason = "GOVFLOW_SKIP_E2E is set"
    elif any(item.get_closest_marker("e2e") for item in items) and not postgres_available():
        reason = "PostgreSQL is not reachable at 127.0.0.1:5432"
    if reason:
        for item in items:
            if item.get_closest_marker("e2e"):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def e2e_dags_folder(tmp_path_factory) -> Path:
    """A copy of the project's dags/ that a test may add toy DAG files to."""
    folder = tmp_path_factory.mktemp("dags")
    for item in (REPO / "dags").iterdir():
        if item.suffix == ".py" or item.name == ".airflowignore":
            shutil.copy(item, folder / item.name)
    return folder


@pytest.fixture(scope="session")
def e2e_extra_env() -> dict[str, str]:
    """Extra environment for every Airflow process (tests extend it before the stack starts)."""
    return {}


@pytest.fixture(scope="session")
def airflow_stack(tmp_path_factory, e2e_dags_folder, e2e_extra_env):
    home = tmp_path_factory.mktemp("airflow_home")
    stack = start_airflow(
        home,
        users=AIRFLOW_USERS,
        roles=AIRFLOW_ROLES,
        dags_folder=e2e_dags_folder,
        extra_env=e2e_extra_env,
    )
    try:
        yield stack
    finally:
        stack.stop()
