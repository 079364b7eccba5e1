"""Fixtures for end-to-end tests: one real Airflow (PostgreSQL metadata DB) per test session.

Skipped (not failed) when PostgreSQL is not reachable at 127.0.0.1:5432, or
when GOVFLOW_SKIP_E2E is set.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest

from tests.e2e._airflow import REPO, postgres_available, start_airflow

# name -> password, role. Airflow user names are govflow user names (include/policies/users.yaml):
# rita and rob are reviewers, alice a data scientist (the submitter); dana is unknown to govflow.
AIRFLOW_USERS = {
    "admin": "admin",
    "alice": "alice-pw",
    "dana": "dana-pw",
    "rita": "rita-pw",
    "rob": "rob-pw",
    "vic": "vic-pw",
}
AIRFLOW_ROLES = {
    "admin": "admin",
    "alice": "user",
    "dana": "user",
    "rita": "user",
    "rob": "user",
    "vic": "viewer",
}


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
def govflow_e2e(tmp_path_factory) -> dict[str, str]:
    """govflow's own state for the e2e session: a throwaway PostgreSQL database and a home folder."""
    from tests.e2e._airflow import create_database, drop_database

    name = f"govflow_e2e_{secrets.token_hex(4)}"
    url = create_database(name).replace("postgresql://", "postgresql+psycopg2://", 1)
    env = {
        "GOVFLOW_DB_URL": url,
        "GOVFLOW_HOME": str(tmp_path_factory.mktemp("govflow_home")),
        # The bundled demo users hold govflow roles; reviewers still answer through Airflow ("airflow").
        "GOVFLOW_DEV_MODE": "1",
    }
    yield env
    from govflow.store import dispose_engines

    dispose_engines()
    drop_database(name)


@pytest.fixture(scope="session")
def e2e_extra_env(govflow_e2e) -> dict[str, str]:
    """Extra environment for every Airflow process: where govflow keeps its state."""
    return dict(govflow_e2e)


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
