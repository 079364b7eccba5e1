"""Airflow plugin: mounts govflow's Governance view at /governance and adds it to the UI's navigation.

An adapter only: the app and everything behind it live in ``govflow.web``. Airflow finds it
through the ``airflow.plugins`` entry point of the installed package (pyproject.toml); a
checkout's ``plugins/govflow_plugin.py`` re-exports it, and Airflow keeps one plugin per name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk import BaseOperatorLink

from govflow.service.airflow_links import GATE_DAG, NIGHTLY_DAG
from govflow.web import create_app

GOVERNANCE_DAGS = (GATE_DAG, NIGHTLY_DAG)


class GovernanceEvidenceLink(BaseOperatorLink):
    """A task's way back to the Governance view: the version(s) its DAG run checked."""

    name = "Governance evidence"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if ti_key.dag_id not in GOVERNANCE_DAGS:
            return ""  # Airflow hides an empty link: other DAGs get no button
        return f"/governance/runs/{quote(ti_key.dag_id, safe='')}/{quote(ti_key.run_id, safe='')}"


class GovflowPlugin(AirflowPlugin):
    name = "govflow"
    # AirflowPlugin declares these as (typed) instance attributes, so no ClassVar here.
    fastapi_apps = [  # noqa: RUF012
        {"app": create_app(), "url_prefix": "/governance", "name": "govflow governance"}
    ]
    global_operator_extra_links = [GovernanceEvidenceLink()]  # noqa: RUF012
    external_views = [  # noqa: RUF012
        {
            "name": "Governance",
            "href": "/governance/",
            "destination": "nav",
            "url_route": "governance",
        },
        {  # a tab on every DAG run's page (not only in a task's details): its version(s) in the view
            "name": "Governance",
            "href": "/governance/runs/{DAG_ID}/{RUN_ID}",
            "destination": "dag_run",
            "url_route": "governance-run",
        },
    ]
