"""Validation expectations computed by an aggregate engine (DuckDB on a file, SQL in the warehouse).

The expectations a suite inferred by govflow holds (``_infer``) are decided by counts, so the
engine computes them in one scan for the whole suite and the outcome is the one Great
Expectations' pandas engine reports (same success, same counts, same first examples):

- ``expect_column_values_to_not_be_null``: the nulls (NaN counts as null, as in pandas) among
  all rows; ``mostly`` against all rows.
- ``expect_column_values_to_be_between`` (``min_value``/``max_value``, ``strict_min``/``strict_max``)
  and ``expect_column_values_to_be_in_set`` (``value_set``): the values outside among the non-null
  ones; ``mostly`` against those.
- ``expect_column_values_to_be_in_type_list``: the dtype pandas would read the column as (an
  integer column with nulls is ``float64``) against the list, as GX does for a typed column;
  text (pandas ``object``) value by value, as GX does: every value is a ``str``.
- ``expect_table_columns_to_match_ordered_list``, ``expect_table_row_count_to_be_between``.

The first ``examples`` unexpected values are those of the first rows in table order (Parquet
row number, CSV line, PostgreSQL ``ctid``), one ``ORDER BY ... LIMIT`` per failed expectation.
Any other expectation type needs the rows: refused with one line naming ``--engine memory``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govflow.checks._result import CheckInputError
from govflow.checks.aggregates import AggregateTable, sql_literal
from govflow.checks.validation._gx import BuiltExpectation, Outcome

NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
TYPE_LIST = "expect_column_values_to_be_in_type_list"
ORDERED = "expect_table_columns_to_match_ordered_list"
ROW_COUNT = "expect_table_row_count_to_be_between"
SUPPORTED = frozenset({NOT_NULL, BETWEEN, IN_SET, TYPE_LIST, ORDERED, ROW_COUNT})
_PANDAS_DTYPE = {"int": "int64", "float": "float64", "bool": "bool", "string": "object"}


def unsupported(built: Sequence[BuiltExpectation], engine: str) -> None:
    """Refuse, in one line, a suite with an expectation the engine cannot decide from counts."""
    others = sorted({b.spec.type for b in built if b.spec.type not in SUPPORTED})
    if others:
        raise CheckInputError(
            f"engine {engine}: {', '.join(others)} need(s) the rows; use engine memory "
            f"(decided from counts: {', '.join(sorted(SUPPORTED))})"
        )


def aggregated_outcomes(
    table: AggregateTable, built: Sequence[BuiltExpectation], *, examples: int
) -> tuple[int, list[Outcome]]:
    """(rows, one ``Outcome`` per expectation) from one counting scan of ``table``."""
    parts = ["COUNT(*)"]
    for b in built:
        column = b.spec.kwargs.get("column")
        if b.spec.type in (NOT_NULL, BETWEEN, IN_SET):
            parts.append(f"COUNT({table.value_key(str(column))})")
            parts.append(f"SUM(CASE WHEN {_unexpected(table, b)} THEN 1 ELSE 0 END)")
        elif b.spec.type == TYPE_LIST and table.columns()[str(column)] == "string":
            parts.append(f"COUNT({table.value_key(str(column))})")
    row = table.query(f"SELECT {', '.join(parts)} FROM {table.source}")[0]
    rows, at, outcomes = int(row[0]), 1, []
    for b in built:
        kwargs = b.spec.kwargs
        if b.spec.type in (NOT_NULL, BETWEEN, IN_SET):
            valid, unexpected = int(row[at]), int(row[at + 1] or 0)
            at += 2
            outcomes.append(_column_map(table, b, rows, valid, unexpected, examples))
        elif b.spec.type == TYPE_LIST:
            allowed = {str(t) for t in kwargs.get("type_list") or ()}
            if table.columns()[str(kwargs["column"])] == "string":
                # GX checks an object column value by value: each value's type is str.
                valid = int(row[at])
                at += 1
                outcomes.append(
                    _column_map(table, b, rows, valid, 0 if "str" in allowed else valid, examples)
                )
            else:
                observed = _pandas_dtype(table, str(kwargs["column"]))
                outcomes.append(Outcome(b.index, observed in allowed, {"observed_value": observed}, None))
        elif b.spec.type == ORDERED:
            names = list(table.columns())
            outcomes.append(
                Outcome(b.index, names == list(kwargs["column_list"]), {"observed_value": names}, None)
            )
        else:
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            ok = (low is None or rows >= low) and (high is None or rows <= high)
            outcomes.append(Outcome(b.index, ok, {"observed_value": rows}, None))
    return rows, outcomes


def _unexpected(table: AggregateTable, b: BuiltExpectation) -> str:
    kwargs = b.spec.kwargs
    value = table.value_key(str(kwargs["column"]))
    if b.spec.type == NOT_NULL:
        return f"{value} IS NULL"
    if b.spec.type == TYPE_LIST:  # a text column whose values are not of the listed types
        return f"{value} IS NOT NULL"
    if b.spec.type == IN_SET:
        members = ", ".join(sql_literal(v) for v in kwargs.get("value_set") or ())
        return f"{value} IS NOT NULL AND NOT ({value} IN ({members}))" if members else f"{value} IS NOT NULL"
    outside = []
    if kwargs.get("min_value") is not None:
        outside.append(
            f"{value} {'<=' if kwargs.get('strict_min') else '<'} {sql_literal(kwargs['min_value'])}"
        )
    if kwargs.get("max_value") is not None:
        outside.append(
            f"{value} {'>=' if kwargs.get('strict_max') else '>'} {sql_literal(kwargs['max_value'])}"
        )
    return f"{value} IS NOT NULL AND ({' OR '.join(outside)})" if outside else "1 = 0"


def _column_map(
    table: AggregateTable, b: BuiltExpectation, rows: int, valid: int, unexpected: int, examples: int
) -> Outcome:
    """GX's SUMMARY result of a column-map expectation, from its counts."""
    mostly = float(b.spec.kwargs.get("mostly", 1.0))
    base = rows if b.spec.type == NOT_NULL else valid
    share = unexpected / base if base else 0.0
    result: dict[str, Any] = {
        "element_count": rows,
        "unexpected_count": unexpected,
        "unexpected_percent": 100.0 * share,
        "partial_unexpected_list": _first_unexpected(table, b, min(unexpected, max(examples, 1))),
    }
    if b.spec.type != NOT_NULL:
        result["missing_count"] = rows - valid
    return Outcome(b.index, 1.0 - share >= mostly, result, None)


def _first_unexpected(table: AggregateTable, b: BuiltExpectation, limit: int) -> list[Any]:
    if limit <= 0:
        return []
    if b.spec.type == NOT_NULL:
        return [None] * limit
    order = f" ORDER BY {table.order_key}" if table.order_key else ""
    value = table.value_key(str(b.spec.kwargs["column"]))
    found = table.query(
        f"SELECT {value} FROM {table.source} WHERE {_unexpected(table, b)}{order} LIMIT {limit}"
    )
    return [r[0] for r in found]


def _pandas_dtype(table: AggregateTable, column: str) -> str:
    kind = table.columns()[column]
    if kind == "int" and table.null_counts([column])[column]:
        return "float64"  # pandas reads an integer column with nulls as floats
    return _PANDAS_DTYPE.get(kind, kind)
