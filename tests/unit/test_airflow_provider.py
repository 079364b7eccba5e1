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
