"""The two backends of ``AggregateTable``: DuckDB over a file (local or remote), PostgreSQL.

Each builds the table's dialect pieces (``_table``): how the table is named in ``FROM``,
the finite-float test, the row-order key, the column kinds, and how a query runs.

DuckDB's own ``httpfs`` extension (``s3://``) is not bundled with the wheel and is
downloaded on first use, which govflow never does at run time (extension autoloading is
off): a remote path (``s3://``, ``gs://``, ``az://``) is read through the fsspec filesystem
of its scheme (``s3fs``), registered with DuckDB, which fetches the byte ranges it needs
(Parquet footers, row groups).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from govflow.checks._result import CheckInputError
from govflow.checks.aggregates._choice import REMOTE_SCHEMES, duckdb_settings, remote_filesystem
from govflow.checks.aggregates._table import AggregateTable, Kind, SqlTable, _q


def open_table(data: Any, engine: str) -> AggregateTable:
    """The ``AggregateTable`` of ``data``: a file path (``duckdb``) or a ``SqlTable`` (``sql``)."""
    if engine == "duckdb":
        return _duckdb_table(data)
    if engine == "sql":
        if not isinstance(data, SqlTable):
            raise CheckInputError("engine sql needs a warehouse table (conn://CONN_ID/SCHEMA.TABLE)")
        return _sql_table(data)
    raise CheckInputError(f"no aggregate engine {engine!r}: choose duckdb or sql")


def _duckdb_kind(type_name: str) -> Kind:
    t = type_name.upper()
    if t in ("BOOLEAN",):
        return "bool"
    if any(
        t.startswith(p)
        for p in (
            "TINYINT",
            "SMALLINT",
            "INTEGER",
            "BIGINT",
            "HUGEINT",
            "UTINYINT",
            "USMALLINT",
            "UINTEGER",
            "UBIGINT",
        )
    ):
        return "int"
    if any(t.startswith(p) for p in ("DOUBLE", "FLOAT", "REAL", "DECIMAL")):
        return "float"
    if t.startswith("VARCHAR"):
        return "string"
    if t.startswith(("TIMESTAMP", "DATE")):
        return "datetime"
    return "other"


def _duckdb_table(data: Any) -> AggregateTable:
    import duckdb

    text = str(data)
    # Never DuckDB's httpfs: it is downloaded on first use, and govflow downloads nothing at run time.
    config = {**duckdb_settings(), "autoinstall_known_extensions": False, "autoload_known_extensions": False}
    connection = duckdb.connect(config=config)
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme not in REMOTE_SCHEMES:
            connection.close()
            raise CheckInputError(
                f"engine duckdb reads local files or {', '.join(REMOTE_SCHEMES)}://, not {scheme}://"
            )
        filesystem = remote_filesystem(scheme)
        try:
            found = filesystem.exists(text)
        except Exception as err:  # credentials, network: one line for the user
            connection.close()
            raise CheckInputError(
                f"cannot reach {text}: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
            ) from err
        if not found:
            connection.close()
            raise CheckInputError(f"file not found: {text}")
        # DuckDB reads the byte ranges it needs through the fsspec filesystem (streamed, like a local file).
        connection.register_filesystem(filesystem)
        suffix, where = PurePosixPath(text).suffix.lower(), text
    else:
        path = Path(text)
        if not path.is_file():
            connection.close()
            raise CheckInputError(f"file not found: {path}")
        suffix, where = path.suffix.lower(), str(path)
    literal = "'" + where.replace("'", "''") + "'"
    if suffix in (".parquet", ".pq"):
        source, order_key = f"read_parquet({literal}, file_row_number = true)", "file_row_number"
    elif suffix == ".csv":
        # Row numbers for first appearance; DuckDB keeps a CSV file's rows in file order. Types as
        # pandas reads them: no BOOLEAN (DuckDB reads yes/no as booleans, pandas as text; True/False
        # then stay text too), no dates (pandas keeps them text).
        types = "['BIGINT', 'DOUBLE', 'VARCHAR']"
        csv = f"read_csv({literal}, auto_type_candidates = {types})"
        source = f"(SELECT *, row_number() OVER () AS govflow_row FROM {csv})"
        order_key = "govflow_row"
    else:
        connection.close()
        raise CheckInputError(
            f"unsupported file type {suffix or '(none)'!r} for {where}: use .csv or .parquet"
        )

    def run(sql: str) -> list[tuple[Any, ...]]:
        try:
            return connection.execute(sql).fetchall()
        except duckdb.Error as err:
            raise CheckInputError(f"cannot read {where}: {str(err).splitlines()[0]}") from err

    described = run(f"DESCRIBE SELECT * FROM {source}")
    kinds = {
        str(r[0]): _duckdb_kind(str(r[1]))
        for r in described
        if r[0] not in ("file_row_number", "govflow_row")
    }
    return AggregateTable(
        backend="duckdb",
        source=source,
        _run=run,
        _finite=lambda c: f"isfinite({c})",
        _order_key=order_key,
        _kinds=kinds,
        version=duckdb.__version__,
        location=where,
        _closers=[connection.close],
        _frame=lambda sql: connection.execute(sql).df(),
    )


def _pg_kind(type_name: str) -> Kind:
    t = type_name.lower()
    if t == "boolean":
        return "bool"
    if t in ("smallint", "integer", "bigint"):
        return "int"
    if t in ("double precision", "real", "numeric"):
        return "float"
    if t in ("text", "character varying", "character"):
        return "string"
    if t.startswith(("timestamp", "date")):
        return "datetime"
    return "other"


def _sql_table(table: SqlTable) -> AggregateTable:
    import sqlalchemy as sa

    engine = sa.create_engine(table.engine) if isinstance(table.engine, str) else table.engine
    dialect = engine.dialect.name
    if dialect != "postgresql":
        raise CheckInputError(f"engine sql supports PostgreSQL warehouses here, not {dialect}")
    schema = table.schema or "public"
    source = f"{_q(schema)}.{_q(table.table)}"

    def run(sql: str, **params: Any) -> list[tuple[Any, ...]]:
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(sql), params)]
        except sa.exc.SQLAlchemyError as err:
            raise CheckInputError(f"cannot query {table.name}: {str(err).splitlines()[0]}") from err

    described = run(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position",
        schema=schema,
        table=table.table,
    )
    if not described:
        raise CheckInputError(f"no table {table.name} in the warehouse")
    version = run("SHOW server_version")[0][0]
    return AggregateTable(
        backend="postgresql",
        source=source,
        _run=run,
        _finite=lambda c: f"{c} NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)",
        _order_key="ctid",
        _kinds={str(r[0]): _pg_kind(str(r[1])) for r in described},
        version=str(version).split()[0],
        location=table.name,
        _closers=[] if engine is table.engine else [engine.dispose],
        _frame=lambda sql: _read_sql(engine, sql),
    )


def _read_sql(engine: Any, sql: str) -> Any:
    import pandas as pd
    import sqlalchemy as sa

    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn)
