"""Fixtures of the integration tests that run a DAG in-process (Airflow's dag.test()).

``airflow_home``: the environment of an Airflow home migrated for the requesting module (SQLite);
``sqlite_db``: the governance DB as one SQLite file in GOVFLOW_HOME, which the DAG's task
processes open too (migrated on first use).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from govflow.demo import airflow_env

    home = tmp_path_factory.mktemp("airflow")
    env = os.environ | airflow_env(REPO, home)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
    )
    return env


@pytest.fixture
def sqlite_db(govflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    govflow_home.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{govflow_home / 'govflow.db'}"
    monkeypatch.setenv("GOVFLOW_DB_URL", url)
    return url
