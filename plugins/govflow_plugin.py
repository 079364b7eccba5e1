"""Airflow plugin: mounts govflow's Governance view at /governance and adds it to the UI's navigation.

An adapter only: the app and everything behind it live in ``govflow.web``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from govflow.web import create_app


class GovflowPlugin(AirflowPlugin):
    name = "govflow"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": create_app(), "url_prefix": "/governance", "name": "govflow governance"}
    ]
    external_views: ClassVar[list[dict[str, str]]] = [
        {
            "name": "Governance",
            "href": "/governance/",
            "destination": "nav",
            "url_route": "governance",
        }
    ]
