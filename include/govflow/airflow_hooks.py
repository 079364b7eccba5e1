"""The hooks behind govflow's two Airflow connection types (see ``govflow.airflow_provider``).

They only name the connection types and turn a connection into what govflow needs;
``govflow.settings`` reads the connections (``govflow_db``, ``govflow_object_store``)
when no ``GOVFLOW_*`` variable or ``[govflow]`` option is set.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from govflow import settings

__all__ = ["GovernanceDbHook", "ObjectStoreHook"]


class GovernanceDbHook(BaseHook):
    """The governance database (PostgreSQL in production; the user may not alter tables)."""

    conn_name_attr = "govflow_db_conn_id"
    default_conn_name = settings.DB_CONN_ID
    conn_type = "govflow_db"
    hook_name = "govflow governance DB"

    def __init__(self, govflow_db_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.govflow_db_conn_id = govflow_db_conn_id

    def get_uri(self) -> str:
        """The connection as the SQLAlchemy URL govflow's store opens."""
        return settings.connection_db_url(self.get_connection(self.govflow_db_conn_id))


class ObjectStoreHook(BaseHook):
    """S3-compatible storage of artifacts and data: endpoint URL, access key id and secret."""

    conn_name_attr = "govflow_object_store_conn_id"
    default_conn_name = settings.OBJECT_STORE_CONN_ID
    conn_type = "govflow_object_store"
    hook_name = "govflow object store (S3)"

    def __init__(self, govflow_object_store_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.govflow_object_store_conn_id = govflow_object_store_conn_id

    def storage_options(self) -> dict[str, str | None]:
        """s3fs options (``endpoint_url``, ``key``, ``secret``) of the connection."""
        conn = self.get_connection(self.govflow_object_store_conn_id)
        return {"endpoint_url": conn.host or None, "key": conn.login or None, "secret": conn.password or None}
