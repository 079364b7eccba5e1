"""govflow's provider metadata is what Airflow accepts, and its connection types have their hooks."""

from __future__ import annotations

import json
import tomllib
from importlib import import_module
from pathlib import Path

import airflow
import jsonschema

from govflow import __version__
from govflow.airflow_provider import get_provider_info

REPO = Path(__file__).resolve().parents[2]


def test_provider_info_validates_against_airflows_schema():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert info["package-name"] == project["name"] == "govflow"  # Airflow refuses a mismatch
    assert info["versions"] == [__version__] == [project["version"]]


def test_every_connection_type_is_its_hooks():
    for entry in get_provider_info()["connection-types"]:
        module, _, name = entry["hook-class-name"].rpartition(".")
        hook = getattr(import_module(module), name)
        assert hook.conn_type == entry["connection-type"], entry
        assert hook.hook_name == entry["hook-name"], entry


def test_entry_points_name_the_plugin_and_the_provider():
    points = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    plugin = points["airflow.plugins"]["govflow"]
    module, _, name = plugin.partition(":")
    assert getattr(import_module(module), name).name == "govflow"
    module, _, name = points["apache_airflow_provider"]["provider_info"].partition(":")
    assert getattr(import_module(module), name) is get_provider_info


def test_the_plugin_folder_file_defers_to_the_entry_point(monkeypatch):
    """With govflow installed, plugins/govflow_plugin.py defines no plugin (no 'already registered'
    plugin error); with only PYTHONPATH=include it re-exports the package's plugin."""
    import importlib.metadata
    import runpy

    from govflow.airflow_plugin import GovflowPlugin

    path = str(REPO / "plugins" / "govflow_plugin.py")
    installed = importlib.metadata.EntryPoints(
        [importlib.metadata.EntryPoint("govflow", "govflow.airflow_plugin:GovflowPlugin", "airflow.plugins")]
    )
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: installed)
    assert "GovflowPlugin" not in runpy.run_path(path)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: importlib.metadata.EntryPoints([]))
    assert runpy.run_path(path)["GovflowPlugin"] is GovflowPlugin


def test_the_governance_link_is_a_tab_on_every_run_page():
    from govflow.airflow_plugin import GovflowPlugin

    (run_tab,) = [v for v in GovflowPlugin.external_views if v["destination"] == "dag_run"]
    # Airflow fills {DAG_ID} and {RUN_ID}; /governance/runs/... redirects to the run's version page
    assert run_tab["href"] == "/governance/runs/{DAG_ID}/{RUN_ID}" and run_tab["name"] == "Governance"
