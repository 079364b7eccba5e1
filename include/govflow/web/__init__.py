"""govflow's web adapter: the Governance view and its JSON API, mounted into Airflow by the plugin."""

from govflow.web.app import create_app

__all__ = ["create_app"]
