"""Airflow plugin: mounts govflow's Governance view at /governance and adds it to the UI's navigation.

An adapter only: the app and everything behind it live in ``govflow.web``.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from govflow.web import create_app


class GovflowPlugin(AirflowPlugin):
    name = "govflow"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/governance", "name": "govflow governance"}]
    external_views = [
        {
            "name": "Governance",
            "href": "/governance/",
            "destination": "nav",
            "url_route": "governance",
        }
    ]
