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

The backends that build an ``AggregateTable`` (DuckDB over a local or remote file,
PostgreSQL) are in ``_backends``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from govflow.checks._result import CheckInputError

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


def engine_provenance(table: AggregateTable, exactness: str, **extra: Any) -> dict[str, Any]:
    """What the evidence says about the engine: which one aggregated, and how exact the numbers are."""
    from govflow import __version__

    return {
        "engine": table.engine_label,
        "computed_by": f"govflow {__version__}",
        "exactness": exactness,
        **extra,
    }
