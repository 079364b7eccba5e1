"""govflow's deployment settings, read the Airflow way as well as from ``GOVFLOW_*`` variables.

One precedence for every setting here, first found wins (README "Configuration"):

1. ``GOVFLOW_<NAME>`` in the process environment (an explicit choice for this process);
2. Airflow's config option ``[govflow] <name>``: ``AIRFLOW__GOVFLOW__<NAME>``, then
   ``airflow.cfg`` (with ``_cmd``/``_secret`` when Airflow's own config is loaded);
3. an Airflow connection (the governance DB: ``govflow_db``; the object store's credentials:
   ``govflow_object_store``) or Variable (``govflow_<name>``), through Airflow's secrets backends;
4. govflow's default.

Airflow takes seconds to import, so a bare ``govflow`` CLI never imports it for a setting:
step 2 then reads ``AIRFLOW__GOVFLOW__<NAME>`` and the ``[govflow]`` section of the
``airflow.cfg`` file directly, and step 3 is asked only inside an Airflow process (a task,
the api-server, the dag-processor) or when ``AIRFLOW_CONN_<ID>``/``AIRFLOW_VAR_<NAME>`` is set.
A connection or Variable that does not exist is skipped; one Airflow cannot read is an error.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from govflow.errors import BadInputError
from govflow.scoped import kept_in, remembered

__all__ = [
    "DB_CONN_ID",
    "OBJECT_STORE_CONN_ID",
    "airflow_loaded",
    "artifacts",
    "connection_db_url",
    "connections_remembered",
    "db_url",
    "object_store_connection",
    "policy",
    "setting",
    "signing_key_file",
]

DB_CONN_ID = "govflow_db"
OBJECT_STORE_CONN_ID = "govflow_object_store"
SECTION = "govflow"


def airflow_loaded() -> bool:
    """True inside an Airflow process: its config is already imported, so asking it costs nothing."""
    return "airflow.configuration" in sys.modules


def setting(name: str, *, variable: bool = True) -> str | None:
    """Steps 1, 2 and (``variable``) the Variable of step 3 for ``name`` (``db_url``), or None."""
    explicit = os.environ.get(f"GOVFLOW_{name.upper()}")
    if explicit:
        return explicit
    configured = _airflow_option(name)
    if configured:
        return configured
    return _airflow_variable(f"govflow_{name}") if variable else None


def db_url() -> str | None:
    """The governance DB's SQLAlchemy URL from the settings, else from the ``govflow_db`` connection."""
    return setting("db_url", variable=False) or _connection_url(DB_CONN_ID)


def artifacts() -> str | None:
    """The artifact store root (a folder or an fsspec URL such as ``s3://bucket/govflow``)."""
    return setting("artifacts")


def policy() -> str | None:
    """The policy file the gate decides with (it must still be the active, admin-applied one)."""
    return setting("policy")


def signing_key_file() -> str | None:
    """The audit signing key's PEM file (never the key itself: that stays in GOVFLOW_SIGNING_KEY)."""
    return setting("signing_key_file", variable=False)


def object_store_connection() -> Any:
    """The ``govflow_object_store`` Airflow connection (``aws_default`` style), or None.

    ``govflow.storage`` turns it into s3fs options; without it, the standard AWS environment.
    """
    return _connection(OBJECT_STORE_CONN_ID)


def connection_db_url(conn: Any) -> str:
    """A SQLAlchemy URL from an Airflow connection: ``postgres``/``govflow_db`` parts, ``sqlite`` host
    as the file, or an explicit ``{"sqlalchemy_url": ...}`` in the extra."""
    from sqlalchemy.engine import URL

    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    kind = (conn.conn_type or "").lower()
    if kind == "sqlite":
        return f"sqlite:///{conn.host}"
    if kind not in ("postgres", "postgresql", DB_CONN_ID):
        raise BadInputError(
            f"Airflow connection {conn.conn_id!r}: type {kind!r} is not a database govflow supports "
            "(postgres, sqlite, govflow_db; or set extra sqlalchemy_url)"
        )
    url = URL.create(
        "postgresql+psycopg2",
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
    )
    return url.render_as_string(hide_password=False)


# --- the Airflow sources --------------------------------------------------------------------------


def _airflow_option(name: str) -> str | None:
    if airflow_loaded():
        from airflow.configuration import conf

        value = conf.get(SECTION, name, fallback=None)
        return str(value) if value else None
    env = os.environ.get(f"AIRFLOW__{SECTION.upper()}__{name.upper()}")
    if env:
        return env
    return _config_file_option(name)


def _config_file_option(name: str) -> str | None:
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow").expanduser()
    path = Path(os.environ.get("AIRFLOW_CONFIG") or home / "airflow.cfg").expanduser()
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path)
    except configparser.Error as err:
        raise BadInputError(f"{path}: not a readable Airflow config ({type(err).__name__})") from err
    value = parser.get(SECTION, name, fallback=None)
    return value or None


def _airflow_variable(key: str) -> str | None:
    if not (airflow_loaded() or f"AIRFLOW_VAR_{key.upper()}" in os.environ):
        return None
    from airflow.sdk import Variable

    try:
        value = Variable.get(key, default=None)
    except Exception as err:
        raise BadInputError(f"cannot read Airflow Variable {key!r}: {str(err).splitlines()[0]}") from err
    return str(value) if value else None


# Inside ``connections_remembered()`` (one task), each connection is looked up once.
_REMEMBERED: ContextVar[dict[str, Any] | None] = ContextVar("govflow_connections", default=None)


@contextmanager
def connections_remembered() -> Iterator[None]:
    """Look each Airflow connection up once inside (a task). In a worker, every lookup is a round trip
    to the API server (Airflow caches secrets only in the dag-processor), and every object-store call
    resolves ``govflow_object_store``: a nightly group task made one per read and write."""
    with kept_in(_REMEMBERED):
        yield


def _connection(conn_id: str) -> Any:
    return remembered(_REMEMBERED, conn_id, lambda: _look_up(conn_id))


def _look_up(conn_id: str) -> Any:
    if not (airflow_loaded() or f"AIRFLOW_CONN_{conn_id.upper()}" in os.environ):
        return None
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    except Exception as err:
        raise BadInputError(
            f"cannot read Airflow connection {conn_id!r}: {str(err).splitlines()[0]}"
        ) from err


def _connection_url(conn_id: str) -> str | None:
    conn = _connection(conn_id)
    return connection_db_url(conn) if conn is not None else None
