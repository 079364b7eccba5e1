"""Partitioned production data on the stack (the demo, the prod tests): a model's monitoring source is
a PostgreSQL table partitioned by day, read through the Airflow connection ``govflow_warehouse``
(``conn://govflow_warehouse/monitoring.<table>``), or an object-store prefix of ``ds=YYYY-MM-DD``
folders. Predictions land first with empty labels; the labels arrive later in the same rows.

The warehouse is its own database on the stack's PostgreSQL (``<govflow db>_warehouse``): a model's
production data is not govflow's state. Its URL is in every Airflow process's environment and in
``<root>/env`` (``AIRFLOW_CONN_GOVFLOW_WAREHOUSE``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

WAREHOUSE_CONN = "govflow_warehouse"
WAREHOUSE_ENV = "AIRFLOW_CONN_GOVFLOW_WAREHOUSE"
SCHEMA = "monitoring"
PARTITION = "ds"
_TYPES = {"i": "bigint", "u": "bigint", "f": "double precision", "b": "boolean"}


def table_source(model: str) -> tuple[str, dict[str, Any]]:
    """(batches URI, params.monitoring) of a model monitored from a day-partitioned table."""
    table = re.sub(r"[^a-z0-9_]", "_", model.lower())
    return f"conn://{WAREHOUSE_CONN}/{SCHEMA}.{table}", {"partition": PARTITION, "labels_stale_days": 14}


def prefix_source(bucket: str, model: str) -> tuple[str, dict[str, Any]]:
    """(batches URI, params.monitoring) of a model monitored from a ``ds=`` partitioned prefix."""
    return f"s3://{bucket}/models/{model}/predictions/", {"partition": PARTITION, "labels_stale_days": 14}


def ensure_warehouse(url: str) -> None:
    """Create the warehouse database and its schema if missing (``url``: the connection's URI)."""
    import sqlalchemy as sa

    base, _, database = url.rpartition("/")
    admin = sa.create_engine(_driver(f"{base}/postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            exists = c.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database})
            if exists.first() is None:
                c.execute(sa.text(f'CREATE DATABASE "{database}"'))
    finally:
        admin.dispose()
    engine = sa.create_engine(_driver(url))
    try:
        with engine.begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    finally:
        engine.dispose()


def land(uri: str, day: str, frame: Any, *, label: str, labeled: bool, url: str | None = None) -> None:
    """Write ``frame`` as partition ``day`` of ``uri`` (replacing it), its ``label`` column empty unless
    ``labeled``: predictions land first, and the same call with ``labeled=True`` is the labels
    arriving in the same rows. ``url``: the warehouse connection's URI (for a table)."""
    # Column types from the labeled rows: a table first created from unlabeled ones keeps an int label.
    types = {c: _TYPES.get(frame[c].dtype.kind, "text") for c in frame.columns}
    frame = frame.copy()
    if not labeled:
        frame[label] = None
    if uri.startswith("conn://"):
        assert url is not None, "a table partition needs the warehouse URL"
        _land_table(url, uri.rsplit("/", 1)[1], day, frame, types)
    else:
        from govflow import storage

        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        storage.write_bytes(f"{uri.rstrip('/')}/{PARTITION}={day}/part-0000.csv", buffer.getvalue().encode())


def _land_table(url: str, qualified: str, day: str, frame: Any, types: dict[str, str]) -> None:
    import sqlalchemy as sa

    table = qualified.split(".", 1)[1]
    columns = ", ".join(f'"{c}" {kind}' for c, kind in types.items())
    nxt = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    part = f"{table}_{day.replace('-', '')}"
    engine = sa.create_engine(_driver(url))
    try:
        with engine.begin() as c:
            c.execute(
                sa.text(
                    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table} ({columns}, {PARTITION} date) "
                    f"PARTITION BY RANGE ({PARTITION})"
                )
            )
            c.execute(
                sa.text(
                    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{part} PARTITION OF {SCHEMA}.{table} "
                    f"FOR VALUES FROM ('{day}') TO ('{nxt}')"
                )
            )
            c.execute(sa.text(f"DELETE FROM {SCHEMA}.{part}"))
            frame.assign(**{PARTITION: dt.date.fromisoformat(day)}).to_sql(
                table, c, schema=SCHEMA, if_exists="append", index=False
            )
    finally:
        engine.dispose()


def _driver(url: str) -> str:
    # The connection URI is Airflow's (postgresql://); SQLAlchemy gets the driver the venv has.
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg2://", url)


__all__ = [
    "PARTITION",
    "SCHEMA",
    "WAREHOUSE_CONN",
    "WAREHOUSE_ENV",
    "ensure_warehouse",
    "land",
    "prefix_source",
    "table_source",
]
