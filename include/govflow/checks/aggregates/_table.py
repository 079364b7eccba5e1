"""One table, two backends: the aggregate queries the checks run, as portable SQL.

Every method is one ``GROUP BY`` (or one scan) whose result is small: a row per
group, category or histogram bin. The SQL is the same for both backends but for
three dialect pieces (``_Dialect``): how the table is named in ``FROM``, the test
that a float is finite (pandas counts NaN as null and the drift check drops
+-inf), and the row-order key that puts categories in the order they first
appear (the order the in-memory Jensen-Shannon sum adds them in, so its bits
are the same): DuckDB's ``file_row_number`` of a Parquet file (a CSV file:
``row_number() OVER ()``, DuckDB keeps insertion order), PostgreSQL's ``ctid``
(the order a sequential scan, and so a plain ``SELECT *``, returns the rows).

DuckDB's own ``httpfs`` extension (``s3://``) is not bundled with the wheel and
is downloaded on first use, which govflow never does at run time (extension
autoloading is off): a remote path (``s3://``, ``gs://``, ``az://``) is read
through the fsspec filesystem of its scheme (``s3fs``), registered with DuckDB,
which fetches the byte ranges it needs (Parquet footers, row groups).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from govflow.checks._result import CheckInputError
from govflow.checks.aggregates._choice import duckdb_settings

Kind = Literal["int", "float", "bool", "string", "datetime", "other"]


@dataclass(frozen=True)
class SqlTable:
    """A table in a SQL database, reached through a SQLAlchemy engine (or its URL)."""

    engine: Any  # sqlalchemy.engine.Engine or a URL string
    table: str
    schema: str | None = None

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


@dataclass(frozen=True)
class ColumnProfile:
    """One column: rows, valid (non-null, finite) values, and for numbers their range and spread."""

    kind: Kind
    rows: int
    valid: int
    distinct: int | None = None  # exact, for text, integer and boolean columns
    minimum: float | None = None
    maximum: float | None = None
    std: float | None = None  # population standard deviation of the valid values


@dataclass
class AggregateTable:
    """Aggregates of one table, computed by ``backend`` (``duckdb`` or ``sql``)."""

    backend: str
    source: str  # the FROM clause
    _run: Any  # sql text -> list of tuples
    _finite: Any  # quoted column -> SQL test that the float is finite
    _order_key: str | None  # SQL row-order key (first appearance), or None: sorted
    _kinds: dict[str, Kind]
    version: str
    location: str
    _closers: list[Any] = field(default_factory=list)
    _frame: Any = None  # sql text -> pandas DataFrame (small results only: a sample)

    def close(self) -> None:
        for close in self._closers:
            close()

    def __enter__(self) -> AggregateTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine_label(self) -> str:
        return f"{self.backend} {self.version}".strip()

    def columns(self) -> dict[str, Kind]:
        return dict(self._kinds)

    def require(self, names: list[str], *, what: str) -> None:
        missing = [n for n in names if n not in self._kinds]
        if missing:
            raise CheckInputError(f"{what} lacks column(s): {', '.join(missing)}")

    def rows(self) -> int:
        return int(self._run(f"SELECT COUNT(*) FROM {self.source}")[0][0])

    @property
    def order_key(self) -> str | None:
        """SQL for the row-order key (the order rows appear in the table), if the backend has one."""
        return self._order_key

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of one SQL query (``source`` names the table in it)."""
        return list(self._run(sql))

    def matches(self, column: str, pattern: str) -> str:
        """SQL: the text of ``column`` contains a match of the regular expression ``pattern``
        (RE2 in DuckDB, POSIX in PostgreSQL: keep to the syntax both share)."""
        text, literal = f"CAST({_q(column)} AS VARCHAR)", sql_literal(pattern)
        if self.backend == "duckdb":
            return f"regexp_matches({text}, {literal})"
        return f"{text} ~ {literal}"

    def sample(self, rows: int, seed: int) -> Any:
        """A pandas DataFrame of ``rows`` rows picked by a seeded hash of the row-order key (the
        same rows for the same table and seed); all the rows, in table order, when there are
        no more than that."""
        names = ", ".join(_q(c) for c in self._kinds)
        key = self._order_key or "1"
        if self.backend == "duckdb":
            pick = f"hash({key} + {int(seed)})"
        else:
            pick = f"md5(CAST({key} AS VARCHAR) || {sql_literal(str(seed))})"
        order = key if self.rows() <= rows else pick
        return self._frame(f"SELECT {names} FROM {self.source} ORDER BY {order} LIMIT {int(rows)}")

    def group_counts(self, columns: list[str], *, where: str | None = None) -> list[tuple[Any, ...]]:
        """One row per distinct combination of ``columns`` (nulls a value of their own), then its rows
        (of the rows ``where`` keeps: SQL)."""
        names = ", ".join(_q(c) for c in columns)
        kept = f" WHERE {where}" if where else ""
        return self._run(f"SELECT {names}, COUNT(*) FROM {self.source}{kept} GROUP BY {names}")

    def distinct(self, column: str, limit: int, *, where: str | None = None) -> list[Any]:
        """At most ``limit`` distinct non-null values of ``column`` (sorted)."""
        c = _q(column)
        kept = f" AND {where}" if where else ""
        rows = self._run(
            f"SELECT {c} FROM {self.source} WHERE {c} IS NOT NULL{kept} "
            f"GROUP BY {c} ORDER BY {c} LIMIT {int(limit)}"
        )
        return [r[0] for r in rows]

    def null_counts(self, columns: list[str]) -> dict[str, int]:
        parts = ", ".join(f"SUM(CASE WHEN {_q(c)} IS NULL THEN 1 ELSE 0 END)" for c in columns)
        row = self._run(f"SELECT {parts} FROM {self.source}")[0]
        return {c: int(v or 0) for c, v in zip(columns, row, strict=True)}

    def regression_sums(self, sensitive: list[str], label: str, prediction: str) -> list[tuple[Any, ...]]:
        """Per group of the rows with a label: rows, sum of predictions, of |error|, of error^2."""
        groups = ", ".join(_q(c) for c in sensitive)
        y, p = f"CAST({_q(label)} AS DOUBLE PRECISION)", f"CAST({_q(prediction)} AS DOUBLE PRECISION)"
        return self._run(
            f"SELECT {groups}, COUNT(*), SUM({p}), SUM(ABS({p} - {y})), SUM(({p} - {y}) * ({p} - {y})) "
            f"FROM {self.source} WHERE {_q(label)} IS NOT NULL GROUP BY {groups}"
        )

    def profiles(self, columns: list[str]) -> dict[str, ColumnProfile]:
        """Rows, valid values, ranges, spreads and exact distinct counts of ``columns``, in one scan."""
        parts: list[str] = ["COUNT(*)"]
        for name in columns:
            kind, c = self._kinds[name], _q(name)
            if kind == "float":
                x = f"CASE WHEN {self._finite(c)} THEN CAST({c} AS DOUBLE PRECISION) END"
                parts += [f"COUNT({x})", f"MIN({x})", f"MAX({x})", f"STDDEV_POP({x})"]
            elif kind == "int":
                x = f"CAST({c} AS DOUBLE PRECISION)"
                parts += [f"COUNT({c})", f"MIN({x})", f"MAX({x})", f"STDDEV_POP({x})", f"COUNT(DISTINCT {c})"]
            else:
                parts += [f"COUNT({c})", f"COUNT(DISTINCT {c})"]
        row = list(self._run(f"SELECT {', '.join(parts)} FROM {self.source}")[0])
        rows, out, at = int(row[0]), {}, 1
        for name in columns:
            kind = self._kinds[name]
            if kind in ("float", "int"):
                valid, low, high, std = row[at : at + 4]
                distinct = int(row[at + 4]) if kind == "int" else None
                at += 5 if kind == "int" else 4
                out[name] = ColumnProfile(
                    kind,
                    rows,
                    int(valid),
                    distinct,
                    None if low is None else float(low),
                    None if high is None else float(high),
                    None if std is None else float(std),
                )
            else:
                out[name] = ColumnProfile(kind, rows, int(row[at]), int(row[at + 1]))
                at += 2
        return out

    def histogram(self, column: str, low: float, high: float, bins: int) -> Any:
        """Counts of the finite values of ``column`` in ``bins`` equal bins over [low, high]."""
        import numpy as np

        c = _q(column)
        x = f"CAST({c} AS DOUBLE PRECISION)"
        valid = self._finite(c) if self._kinds[column] == "float" else f"{c} IS NOT NULL"
        out = np.zeros(bins, dtype=np.int64)
        if not high > low:
            out[0] = self._run(f"SELECT COUNT(*) FROM {self.source} WHERE {valid}")[0][0]
            return out
        scale = bins / (high - low)
        rows = self._run(
            f"SELECT LEAST(CAST(FLOOR(({x} - {_num(low)}) * {_num(scale)}) AS BIGINT), {bins - 1}) AS b, "
            f"COUNT(*) FROM {self.source} WHERE {valid} GROUP BY 1"
        )
        for b, n in rows:
            out[max(int(b), 0)] += int(n)
        return out

    def bin_key(self, column: str, low: float, high: float, bins: int) -> str:
        """SQL for the bin (0..bins-1) of ``column``'s value on equal bins over [low, high]; NULL when
        the value is not valid (null, NaN, +-inf)."""
        c = _q(column)
        valid = self._finite(c) if self._kinds[column] == "float" else f"{c} IS NOT NULL"
        if not high > low:
            return f"CASE WHEN {valid} THEN 0 END"
        x, scale = f"CAST({c} AS DOUBLE PRECISION)", bins / (high - low)
        index = f"CAST(FLOOR(({x} - {_num(low)}) * {_num(scale)}) AS BIGINT)"
        return f"CASE WHEN {valid} THEN GREATEST(LEAST({index}, {bins - 1}), 0) END"

    def value_key(self, column: str) -> str:
        """SQL for ``column``'s value when valid, else NULL."""
        c = _q(column)
        return f"CASE WHEN {self._finite(c)} THEN {c} END" if self._kinds[column] == "float" else c

    def counts_per_key(
        self, keys: dict[str, str], *, first_seen: bool = False
    ) -> dict[str, list[tuple[Any, int, Any]]]:
        """Per entry of ``keys`` (a name -> a SQL expression, NULL for rows it skips): each distinct
        non-null value of the expression, its rows and (``first_seen``) its first row by the
        row-order key (else None), in one scan of the table for all entries (``GROUPING SETS``).

        Each grouping set holds one key, so a result row's one non-null key says whose it is; the
        rows whose keys are all NULL (the skipped rows of some set) are dropped."""
        if not keys:
            return {}
        names = list(keys)
        aliases = [f"k{i}" for i in range(len(names))]
        inner = ", ".join(f"{expr} AS {a}" for a, expr in zip(aliases, keys.values(), strict=True))
        ordered = first_seen and self._order_key is not None
        first = f"MIN({self._order_key})" if ordered else "NULL"
        order = f", {self._order_key}" if ordered else ""
        sets = ", ".join(f"({a})" for a in aliases)
        rows = self._run(
            f"SELECT {', '.join(aliases)}, COUNT(*), {first} "
            f"FROM (SELECT {inner}{order} FROM {self.source}) t GROUP BY GROUPING SETS ({sets})"
        )
        out: dict[str, list[tuple[Any, int, Any]]] = {name: [] for name in names}
        width = len(names)
        for row in rows:
            present = [i for i in range(width) if row[i] is not None]
            if len(present) == 1:
                i = present[0]
                out[names[i]].append((row[i], int(row[width]), _position(row[width + 1])))
        return out

    def value_counts(
        self, column: str, *, numeric: bool = False, limit: int | None = None
    ) -> list[tuple[Any, int]]:
        """Exact counts of the valid values of ``column``, in the order they first appear in the table
        (numbers: sorted; ``limit``: at most that many values)."""
        c = _q(column)
        valid = self._finite(c) if self._kinds[column] == "float" else f"{c} IS NOT NULL"
        cap = f" LIMIT {int(limit)}" if limit else ""
        if numeric or self._order_key is None:
            order = c
            sql = f"SELECT {c}, COUNT(*) FROM {self.source} WHERE {valid} GROUP BY {c} ORDER BY {order}{cap}"
        else:
            sql = (
                f"SELECT {c}, COUNT(*), MIN({self._order_key}) AS first_seen FROM {self.source} "
                f"WHERE {valid} GROUP BY {c} ORDER BY first_seen{cap}"
            )
        return [(row[0], int(row[1])) for row in self._run(sql)]


def open_table(data: Any, engine: str) -> AggregateTable:
    """The ``AggregateTable`` of ``data``: a file path (``duckdb``) or a ``SqlTable`` (``sql``)."""
    if engine == "duckdb":
        return _duckdb_table(data)
    if engine == "sql":
        if not isinstance(data, SqlTable):
            raise CheckInputError("engine sql needs a warehouse table (conn://CONN_ID/SCHEMA.TABLE)")
        return _sql_table(data)
    raise CheckInputError(f"no aggregate engine {engine!r}: choose duckdb or sql")


def sql_literal(value: Any) -> str:
    """A Python value (bool, number, text) as a SQL literal."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise CheckInputError(f"not a finite number: {value}")
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _num(value: float) -> str:
    if not math.isfinite(value):
        raise CheckInputError(f"a histogram bound is not finite: {value}")
    return repr(float(value))


def _position(value: Any) -> Any:
    """A row-order key as a comparable value: PostgreSQL's ``ctid`` comes back as text ``(page,item)``."""
    if isinstance(value, str) and value.startswith("("):
        page, item = value.strip("()").split(",")
        return (int(page), int(item))
    return value


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


REMOTE_SCHEMES = ("s3", "gs", "gcs", "az", "abfs")


def remote_filesystem(scheme: str) -> Any:
    """The fsspec filesystem of ``scheme`` (``s3fs`` for ``s3://``; credentials as it finds them)."""
    import fsspec

    try:
        return fsspec.filesystem(scheme)
    except (ImportError, ValueError) as err:
        raise CheckInputError(f"no filesystem for {scheme}:// here: {str(err).splitlines()[0]}") from err


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


def engine_provenance(table: AggregateTable, exactness: str, **extra: Any) -> dict[str, Any]:
    """What the evidence says about the engine: which one aggregated, and how exact the numbers are."""
    from govflow import __version__

    return {
        "engine": table.engine_label,
        "computed_by": f"govflow {__version__}",
        "exactness": exactness,
        **extra,
    }
