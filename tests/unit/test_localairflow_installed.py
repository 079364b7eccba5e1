"""localairflow without a checkout: an installed govflow serves the DAG file from the Airflow home
and its plugin through the entry point; a checkout is found from the package or the working folder."""

from __future__ import annotations

from pathlib import Path

from govflow import localairflow
from govflow.dags import DAG_FILE

REPO = Path(__file__).resolve().parents[2]


def test_an_installed_package_gets_the_two_line_dag_file_in_the_airflow_home(tmp_path, monkeypatch):
    monkeypatch.setattr(localairflow, "find_project", lambda start=None: None)
    env = localairflow.local_airflow_env(home=tmp_path / "airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(tmp_path / "airflow" / "dags")
    assert (tmp_path / "airflow" / "dags" / "govflow_dags.py").read_text() == DAG_FILE
    assert "AIRFLOW__CORE__PLUGINS_FOLDER" not in env  # the entry point registers the plugin


def test_an_existing_dag_file_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(localairflow, "find_project", lambda start=None: None)
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "govflow_dags.py").write_text("# the operator's own\n")
    localairflow.local_airflow_env(home=tmp_path)
    assert (tmp_path / "dags" / "govflow_dags.py").read_text() == "# the operator's own\n"


def test_the_checkout_is_found(tmp_path):
    assert localairflow.find_project() == REPO
    env = localairflow.local_airflow_env(home=tmp_path)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO / "dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(REPO / "plugins")
