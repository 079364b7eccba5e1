"""Warehouse tables as data: ``conn://CONN_ID/SCHEMA.TABLE`` read through an Airflow connection.

The table is read through the connection's common-sql hook (``DbApiHook``), in
chunks (a server-side cursor where the driver has one), ordered by every column
so the same rows always come out in the same order, and written as canonical CSV
(header, then rows; ``None`` as an empty field, numbers by ``str``, dates ISO
8601, bytes as hex). The sha256 of that CSV is the table's content hash, recorded
at registration like a file's; a check gets the CSV in the worker's cache only if
the table (or the cached copy, re-hashed on every use) still hashes the same, so
evidence stays bound to the rows it was computed on (a changed table is refused
exactly like a changed file).

Credentials stay in the Airflow connection (``AIRFLOW_CONN_*``, a secrets
backend); the URI holds only the connection id and the table name.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from govflow import config
from govflow.errors import BadInputError, ConflictError
from govflow.storage import verified_copy

__all__ = [
    "SCHEME",
    "TableRef",
    "is_table_uri",
    "parse_table_uri",
    "partition_csv",
    "partition_keys",
    "table_copy",
    "table_sha256",
]

SCHEME = "conn://"
CHUNK_ROWS = 10_000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class TableRef:
    conn_id: str
    schema: str
    table: str

    @property
    def uri(self) -> str:
        return f"{SCHEME}{self.conn_id}/{self.schema}.{self.table}"

    @property
    def quoted(self) -> str:
        # Names are checked against _NAME, so quoting cannot be broken out of.
        return f'"{self.schema}"."{self.table}"'


def is_table_uri(uri: str | Path | None) -> bool:
    return uri is not None and str(uri).startswith(SCHEME)


def parse_table_uri(uri: str) -> TableRef:
    """``conn://CONN_ID/SCHEMA.TABLE`` -> TableRef; BadInputError naming what is wrong."""
    rest = str(uri).removeprefix(SCHEME)
    conn_id, _, name = rest.partition("/")
    schema, _, table = name.partition(".")
    if not conn_id or not _NAME.match(conn_id.replace("-", "_")) or not (schema and table):
        raise BadInputError(f"bad table URI {uri!r}: expected conn://CONN_ID/SCHEMA.TABLE")
    for part in (schema, table):
        if not _NAME.match(part):
            raise BadInputError(f"bad table URI {uri!r}: {part!r} is not a plain SQL name")
    return TableRef(conn_id, schema, table)


def table_sha256(uri: str) -> str:
    """The sha256 of the table's canonical CSV, streamed (nothing is written)."""
    digest = hashlib.sha256()
    for block in _canonical_csv(parse_table_uri(uri)):
        digest.update(block)
    return digest.hexdigest()


def table_copy(uri: str, *, sha256: str | None = None) -> Path:
    """The table's canonical CSV in this worker's cache, refused unless it hashes to ``sha256``
    (when given; otherwise the table's current hash, one more read). One read of the table per
    content: a cached copy of that hash is reused, after it is re-hashed (a poisoned copy is
    deleted and the table read again: ``storage.verified_copy``)."""
    ref = parse_table_uri(uri)
    expected = sha256 or table_sha256(uri)
    name = f"{ref.schema}.{ref.table}.csv"  # checks dispatch on the suffix

    def changed(actual: str) -> ConflictError:
        return ConflictError(
            f"table {ref.uri} changed since it was registered (sha256 {actual[:12]}..., "
            f"registered {expected[:12]}...): register a new version for the new data"
        )

    target = config.home() / "cache" / "tables" / expected[:2] / expected / name
    return verified_copy(target, sha256=expected, source=lambda: _canonical_csv(ref), changed=changed)


def _hook(ref: TableRef) -> Any:
    from airflow.providers.common.sql.hooks.sql import DbApiHook
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = BaseHook.get_connection(ref.conn_id)
    except AirflowNotFoundException as err:
        env = f"AIRFLOW_CONN_{ref.conn_id.upper()}"
        raise BadInputError(
            f"Airflow connection {ref.conn_id!r} is not defined (set {env} or add it in Airflow)"
        ) from err
    hook = connection.get_hook()
    if not isinstance(hook, DbApiHook):
        raise BadInputError(
            f"Airflow connection {ref.conn_id!r} ({connection.conn_type}) is not a SQL database connection"
        )
    return hook


def partition_keys(uri: str, column: str) -> dict[str, Any]:
    """The partitions of a table by ``column``: its distinct values as text (``_cell``) -> the value
    (a datetime column is partitioned by day: the key is the ISO date, the value the date)."""
    ref = parse_table_uri(uri)
    if not _NAME.match(column):
        raise BadInputError(f"bad partition column {column!r} for {ref.uri}: not a plain SQL name")
    connection = _connect(_hook(ref), ref)
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(f'SELECT DISTINCT "{column}" FROM {ref.quoted} WHERE "{column}" IS NOT NULL')
            values = [row[0] for row in cursor.fetchall()]
        except Exception as err:
            raise BadInputError(f"cannot list partitions {column!r} of {ref.uri}: {_first(err)}") from err
        finally:
            cursor.close()
    finally:
        connection.close()
    keys: dict[str, Any] = {}
    for value in values:
        day = value.date() if isinstance(value, dt.datetime) else _day_of_text(value)
        keys[_cell(day)] = day
    return dict(sorted(keys.items()))


def partition_csv(uri: str, column: str, days: list[Any]) -> Iterator[bytes]:
    """The rows of the partitions ``days`` (values from ``partition_keys``) as canonical CSV blocks,
    ordered by every column like a whole table; a day matches a timestamp column's whole day."""
    ref = parse_table_uri(uri)
    hook = _hook(ref)
    mark = getattr(hook, "placeholder", "%s")
    ranges, params = [], []
    for day in days:
        if isinstance(day, dt.date) and not isinstance(day, dt.datetime):
            start = dt.datetime.combine(day, dt.time())
            ranges.append(f'("{column}" >= {mark} AND "{column}" < {mark})')
            params += [_param(hook, start), _param(hook, start + dt.timedelta(days=1))]
        else:
            ranges.append(f'"{column}" = {mark}')
            params.append(day)
    return _canonical_csv(ref, where=" OR ".join(ranges) or "1 = 0", params=tuple(params), hook=hook)


def _day_of_text(value: Any) -> Any:
    # SQLite returns timestamps as text: '2026-12-01 10:00:00' partitions by its day, '2026-12-01' is one.
    if isinstance(value, str) and len(value) > 10:
        with contextlib.suppress(ValueError):
            return dt.datetime.fromisoformat(value).date()
    return value


def _param(hook: Any, moment: dt.datetime) -> Any:
    # SQLite compares dates as text: an ISO string with a space sorts like its stored values.
    return moment.isoformat(sep=" ") if "sqlite" in type(hook).__name__.lower() else moment


def _connect(hook: Any, ref: TableRef) -> Any:
    try:
        return hook.get_conn()
    except Exception as err:
        raise BadInputError(
            f"cannot connect through Airflow connection {ref.conn_id!r}: {_first(err)}"
        ) from err


def _canonical_csv(
    ref: TableRef, *, where: str = "", params: tuple[Any, ...] = (), hook: Any = None
) -> Iterator[bytes]:
    """The table (or its rows matching ``where``) as canonical CSV bytes, one block per chunk of rows."""
    connection = _connect(hook or _hook(ref), ref)
    try:
        columns = _columns(connection, ref)
        order = ", ".join(str(i) for i in range(1, len(columns) + 1))
        cursor = _streaming_cursor(connection)
        condition = f" WHERE {where}" if where else ""
        query = f"SELECT * FROM {ref.quoted}{condition} ORDER BY {order}"
        cursor.execute(query, params) if params else cursor.execute(query)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        while True:
            rows = cursor.fetchmany(CHUNK_ROWS)
            writer.writerows([[_cell(v) for v in row] for row in rows])
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            if not rows:
                break
        cursor.close()
    finally:
        connection.close()


def _columns(connection: Any, ref: TableRef) -> list[str]:
    cursor = connection.cursor()
    try:
        cursor.execute(f"SELECT * FROM {ref.quoted} WHERE 1 = 0")
        return [d[0] for d in cursor.description]
    except Exception as err:
        raise BadInputError(
            f"cannot read table {ref.schema}.{ref.table} through Airflow connection {ref.conn_id!r}: "
            f"{_first(err)}"
        ) from err
    finally:
        cursor.close()
        _rollback(connection)


def _streaming_cursor(connection: Any) -> Any:
    """A server-side (named) cursor on PostgreSQL drivers, so a chunk is all that is in memory."""
    module = type(connection).__module__
    if module.startswith(("psycopg", "psycopg2")):
        return connection.cursor(name="govflow_table_read")
    return connection.cursor()


def _rollback(connection: Any) -> None:
    # Leaves the failed/metadata transaction before the real read; a driver without
    # transactions has nothing to roll back.
    with contextlib.suppress(Exception):
        connection.rollback()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _first(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
