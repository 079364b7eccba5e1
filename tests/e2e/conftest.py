"""Fixtures for end-to-end tests: one real Airflow (PostgreSQL metadata DB) per test session.

Skipped (not failed) when PostgreSQL is not reachable at 127.0.0.1:5432, or
when GOVFLOW_SKIP_E2E is set.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from govflow import data, signing
from govflow.access import os_user
from tests.e2e._airflow import REPO, postgres_available, start_airflow

# name -> password, role. Airflow user names are govflow user names (govflow/data/policies/users.yaml):
# rita and rob are reviewers, alice a data scientist (the submitter); dana is unknown to govflow.
# Team-scoped and stakeholder users (TEAM_USERS, added to the roles file): tess reviews the talent
# team's models only, carl the card-fraud team's only; audrey is an auditor, priya the DPO.
AIRFLOW_USERS = {
    "admin": "admin",
    "alice": "alice-pw",
    "dana": "dana-pw",
    "rita": "rita-pw",
    "rob": "rob-pw",
    "vic": "vic-pw",
    "vera": "vera-pw",  # a govflow viewer (reads, never reviews)
    "tess": "tess-pw",
    "carl": "carl-pw",
    "audrey": "audrey-pw",
    "priya": "priya-pw",
}
AIRFLOW_ROLES = {
    "admin": "admin",
    "alice": "user",
    "dana": "user",
    "rita": "user",
    "rob": "user",
    "vic": "viewer",
    "vera": "viewer",
    "tess": "user",
    "carl": "user",
    "audrey": "user",
    "priya": "user",
}
TALENT, CARD_FRAUD = "Talent acquisition", "Card fraud"
TEAM_USERS = {
    "tess": {"name": "Tess Reviewer", "roles": ["reviewer"], "teams": [TALENT]},
    "carl": {"name": "Carl Reviewer", "roles": ["reviewer"], "teams": [CARD_FRAUD]},
    "audrey": {"name": "Audrey Auditor", "roles": ["auditor"]},
    "priya": {"name": "Priya Privacy", "roles": ["dpo"]},
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


@pytest.fixture(autouse=True)
def no_dev_mode(monkeypatch):
    """The e2e stack's governance DB is PostgreSQL, a production deployment: dev mode is refused
    there, so the test process acts through the service with the roles file, as the stack does."""
    monkeypatch.delenv("GOVFLOW_DEV_MODE", raising=False)


@pytest.fixture(scope="session")
def govflow_e2e(tmp_path_factory) -> dict[str, str]:
    """govflow's own state for the e2e session: a throwaway PostgreSQL database and a home folder."""
    from tests.e2e._airflow import create_database, drop_database

    name = f"govflow_e2e_{secrets.token_hex(4)}"
    url = create_database(name).replace("postgresql://", "postgresql+psycopg2://", 1)
    # A PostgreSQL governance DB makes a production deployment (dev mode refused, no key generated in
    # the state volume): the operator's folder outside it holds the decision key, the trusted keys and
    # the roles file (the bundled demo users, and the OS account the training job's CLI runs as).
    operator = tmp_path_factory.mktemp("operator")
    signing.generate_key_files(operator / "decision.pem")
    users = yaml.safe_load(data.demo_users().read_text())
    users["users"][os_user()] = {"roles": ["data_scientist"]}
    users["users"].update(TEAM_USERS)
    (operator / "users.yaml").write_text(yaml.safe_dump(users))
    env = {
        "GOVFLOW_DB_URL": url,
        "GOVFLOW_HOME": str(tmp_path_factory.mktemp("govflow_home")),
        "GOVFLOW_SIGNING_KEY_FILE": str(operator / "decision.pem"),
        "GOVFLOW_TRUSTED_KEYS_DIR": str(operator),
        "GOVFLOW_ROLES_FILE": str(operator / "users.yaml"),
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


# --- the training job's side: govflow's CLI and a trained sample model ---------------------------

GOVFLOW = str(Path(sys.executable).with_name("govflow"))


@pytest.fixture
def govflow_env(monkeypatch, airflow_stack, govflow_e2e):
    """This test process (and the CLI it runs) uses the same govflow DB and home as Airflow's tasks."""
    from govflow.store import dispose_engines

    for key, value in govflow_e2e.items():
        monkeypatch.setenv(key, value)
    dispose_engines()
    env = (
        os.environ
        | govflow_e2e
        | {
            "GOVFLOW_AIRFLOW_URL": airflow_stack.url,
            "GOVFLOW_AIRFLOW_USER": "alice",
            "GOVFLOW_AIRFLOW_PASSWORD": AIRFLOW_USERS["alice"],
        }
    )
    # The CLI acts as the OS account it runs as (a data scientist in the roles file); Airflow's
    # triggering user, the run's submitter, is alice.
    env.pop("GOVFLOW_DEV_MODE", None)
    return env


def govflow(env, *args, timeout=120):
    done = subprocess.run([GOVFLOW, *args], capture_output=True, text=True, env=env, timeout=timeout)
    assert done.returncode == 0, f"govflow {' '.join(args)} -> {done.returncode}: {done.stderr}"
    return json.loads(done.stdout) if "--json" in args else done.stdout


@pytest.fixture
def trained(tmp_path):
    sys.path.insert(0, str(REPO / "include" / "sample"))
    try:
        from train_model import train
    finally:
        sys.path.pop(0)
    return train(tmp_path / "job", mitigate=True, batches=2)
