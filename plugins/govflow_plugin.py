"""A checkout's plugin folder: govflow's plugin is govflow.airflow_plugin.GovflowPlugin.

An installed govflow (pip, or the repo's editable install) registers it through its airflow.plugins
entry point; this file then defines nothing, since Airflow reports a second copy as a plugin error.
"""

from importlib.metadata import entry_points

if not entry_points(group="airflow.plugins", name="govflow"):  # only PYTHONPATH=include, no install
    from govflow.airflow_plugin import GovflowPlugin  # noqa: F401
