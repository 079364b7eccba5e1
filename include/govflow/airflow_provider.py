"""govflow as an Airflow provider: what ``airflow providers list`` shows and the connection types.

Found through the ``apache_airflow_provider`` entry point (pyproject.toml); Airflow validates
the returned dict against its ``provider_info.schema.json`` (package-name must be the
distribution's name). Imported by every Airflow process that discovers providers, so it
imports nothing: the hooks behind the connection types live in ``govflow.airflow_hooks``.
"""

from __future__ import annotations

from typing import Any

from govflow import __version__

__all__ = ["get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "govflow",
        "name": "govflow",
        "description": (
            "Model governance as Airflow pipelines: validation, PII, fairness, drift, documentation, "
            "policy gates and a signed audit trail (the Governance view is its plugin)."
        ),
        "versions": [__version__],
        # The [govflow] section (README "Configuration"): `airflow config list` documents it, and
        # db_url, being sensitive, may also come from AIRFLOW__GOVFLOW__DB_URL_CMD / _SECRET.
        "config": {
            "govflow": {
                "description": "govflow's settings; a GOVFLOW_<NAME> environment variable wins over these.",
                "options": {
                    "db_url": _option(
                        "SQLAlchemy URL of the governance DB",
                        "postgresql+psycopg2://gov@db/govflow",
                        sensitive=True,
                    ),
                    "artifacts": _option(
                        "artifact store root: a folder or fsspec URL", "s3://bucket/govflow"
                    ),
                    "policy": _option(
                        "the policy file the gate decides with", "/opt/govflow/policies/govflow.yaml"
                    ),
                    "signing_key_file": _option(
                        "PEM file of the audit signing key", "/opt/govflow/keys/audit.pem"
                    ),
                },
            }
        },
        "connection-types": [
            {
                "connection-type": "govflow_db",
                "hook-class-name": "govflow.airflow_hooks.GovernanceDbHook",
                "hook-name": "govflow governance DB",
                "ui-field-behaviour": {
                    "hidden-fields": [],
                    "relabeling": {"schema": "Database"},
                    "placeholders": {"host": "postgres.example.internal", "schema": "govflow"},
                },
            },
            {
                "connection-type": "govflow_object_store",
                "hook-class-name": "govflow.airflow_hooks.ObjectStoreHook",
                "hook-name": "govflow object store (S3)",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "Endpoint URL",
                        "login": "Access key id",
                        "password": "Secret access key",
                    },
                    "placeholders": {"host": "https://s3.example.internal:8333 (empty: AWS)"},
                },
            },
        ],
    }


def _option(description: str, example: str, *, sensitive: bool = False) -> dict[str, Any]:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": "string",
        "example": example,
        "default": None,
        "sensitive": sensitive,
    }
