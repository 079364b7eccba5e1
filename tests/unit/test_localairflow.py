"""The one local-Airflow configuration: what `make up`, the demo and the e2e tests start Airflow with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from govflow.demo import airflow_env
from govflow.localairflow import local_airflow_env

REPO = Path(__file__).resolve().parents[2]


def test_the_settings_point_airflow_at_govflows_dags_plugin_and_api(tmp_path):
    env = local_airflow_env(home=tmp_path, port=8123, govflow_home=tmp_path / "gov")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO / "dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(REPO / "plugins")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://localhost:8123/execution/"
    assert "rita:user" in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]
    assert env["GOVFLOW_HOME"] == str(tmp_path / "gov")
    # dag.test() runs (the demo) need no API server: no port, no URLs.
    assert "AIRFLOW__API__PORT" not in local_airflow_env(home=tmp_path)


def test_the_demo_uses_the_same_settings(tmp_path):
    assert airflow_env(REPO, tmp_path) == local_airflow_env(home=tmp_path, project=REPO)


def test_the_module_runs_a_command_with_the_settings(tmp_path):
    # What `make up` does (with `airflow standalone` as the command).
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "govflow.localairflow",
            "--home",
            str(tmp_path / "af"),
            "--port",
            "8124",
            "--",
            sys.executable,
            "-c",
            "import os; print(os.environ['AIRFLOW__API__BASE_URL'], os.environ['AIRFLOW_HOME'])",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["http://localhost:8124", str(tmp_path / "af")]
