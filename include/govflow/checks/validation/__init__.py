"""Data validation: a table checked against an expectation suite with Great Expectations 1.x.

How results are judged:

- every expectation of the suite is reported, in suite order, with its
  success and (for per-row expectations) its unexpected count;
- status ``fail`` when a ``critical`` expectation fails, ``warn`` when only
  ``warning``/``info`` ones do, ``pass`` otherwise;
- a column the suite names but the data lacks is a **failed** expectation,
  not an error: the data does not meet its contract, and every other
  expectation still gets evaluated. Its entry says ``error: column 'x' is
  missing from the data`` and the summary lists ``missing_columns``. Likewise
  an expectation GX cannot evaluate on this data (a numeric range on a text
  column) fails with GX's reason in ``error``;
- status ``error`` (exit 2) only when the check cannot be run at all: an
  unreadable or empty data file, a missing or malformed suite, an unknown
  expectation type or invalid kwargs;
- raw values (unexpected examples, observed values, value-set kwargs) are
  withheld for columns that may hold personal data: those passed in
  ``pii_columns`` and those whose name suggests it (``email``, ``dob``...).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._io import as_frame
from govflow.checks._result import CheckInputError, CheckResult, CheckStatus, timed_check
from govflow.checks.aggregates import choose_engine
from govflow.checks.validation._gx import (
    BuiltExpectation,
    Outcome,
    build_expectations,
    run_expectations,
    run_expectations_sql,
)
from govflow.checks.validation._infer import infer_suite, write_suite
from govflow.checks.validation._pii_names import pii_column_set
from govflow.checks.validation._suite import ExpectationSpec, Suite, load_suite, parse_suite
from govflow.progress import Progress, resolve

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ExpectationSpec", "Suite", "infer_suite", "load_suite", "validate_table", "write_suite"]

CHECK = "validation"
DEFAULT_EXAMPLES = 5
_MAX_TEXT = 100
_MAX_LIST = 20
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
# Expectations whose observed value describes the column (a dtype, a count), never a row's value.
_VALUE_FREE = frozenset(
    {
        "expect_column_values_to_be_in_type_list",
        "expect_column_values_to_be_of_type",
        "expect_column_unique_value_count_to_be_between",
        "expect_column_proportion_of_unique_values_to_be_between",
    }
)


@timed_check(CHECK, libraries=("great_expectations", "pandas"), engine="great_expectations")
def validate_table(
    data: str | Path | pd.DataFrame,
    suite: str | Path | Suite | Mapping[str, Any],
    *,
    pii_columns: Collection[str] = (),
    examples: int = DEFAULT_EXAMPLES,
    progress: Progress | None = None,
    engine: str | None = None,
) -> CheckResult:
    """Validate a table (CSV/Parquet path or DataFrame) against a suite (YAML/JSON path, ``Suite`` or dict).

    Returns a ``CheckResult`` named ``validation`` whose ``details["expectations"]``
    lists every expectation with ``type``, ``column``, ``success``,
    ``unexpected_count`` and, for columns that may not hold personal data, up
    to ``examples`` unexpected values. ``progress`` hears the table read and the
    validation run (``govflow.progress``; default: the context's reporter). ``engine``: ``memory``
    (GX on pandas), ``duckdb`` or ``sql`` (a ``SqlTable``): the suite decided from counts the
    engine computes (``_aggregated``); None: chosen from the table's size.
    """
    report = resolve(progress)
    suite_obj = _as_suite(suite)
    built = build_expectations(suite_obj.expectations, source=suite_obj.source)
    chosen_engine = choose_engine(data, engine)
    provenance: dict[str, Any] = {}
    if chosen_engine != "memory":
        from govflow.checks.aggregates import engine_provenance, open_table
        from govflow.checks.validation._aggregated import SUPPORTED, aggregated_outcomes, unsupported

        # DuckDB decides from counts only; in PostgreSQL, GX's SQL engine takes the other types.
        counted = [b for b in built if b.spec.type in SUPPORTED]
        if chosen_engine != "sql":
            unsupported(built, chosen_engine)
        with open_table(data, chosen_engine) as table:
            columns = list(table.columns())
            missing_by_index = {b.index: [c for c in b.columns if c not in columns] for b in built}
            runnable = [b for b in counted if not missing_by_index[b.index]]
            rows, found = aggregated_outcomes(table, runnable, examples=examples)
            in_gx = [b for b in built if b not in counted and not missing_by_index[b.index]]
            found += _in_the_warehouse(data, in_gx, suite_name=suite_obj.name, examples=examples)
            provenance = engine_provenance(
                table,
                "exact",
                aggregates="null, range and set counts (one scan)",
                great_expectations_sql=sorted({b.spec.type for b in in_gx}),
            )
    else:
        frame = _as_frame(data, report)
        columns, rows = [str(c) for c in frame.columns], len(frame)
        missing_by_index = {b.index: [c for c in b.columns if c not in columns] for b in built}
        runnable = [b for b in built if not missing_by_index[b.index]]
        # One Great Expectations run: a spinner and the elapsed time, no count to report.
        report(f"validation: {len(runnable)} expectations on {rows:,} rows", 0, unit="")
        found = run_expectations(frame, runnable, suite_name=suite_obj.name, examples=examples)
    outcomes = {o.index: o for o in found}

    private = pii_column_set(columns, pii_columns)
    entries = [_entry(b, outcomes.get(b.index), missing_by_index[b.index], private, examples) for b in built]
    failed = [e for e in entries if not e["success"]]
    status: CheckStatus
    if any(e["severity"] == "critical" for e in failed):
        status = "fail"
    else:
        status = "warn" if failed else "pass"
    missing_columns = sorted({c for cols in missing_by_index.values() for c in cols})
    return CheckResult(
        check=CHECK,
        status=status,
        summary={
            "evaluated": len(entries),
            "failed": len(failed),
            "rows": rows,
            "missing_columns": missing_columns,
        },
        details={
            "suite": {
                "name": suite_obj.name,
                "source": suite_obj.source,
                "sha256": suite_obj.content_sha256(),
                "needs_review": suite_obj.needs_review,
            },
            "expectations": entries,
            **({"provenance": provenance} if provenance else {}),
        },
    )


def _in_the_warehouse(
    table: Any, expectations: list[BuiltExpectation], *, suite_name: str, examples: int
) -> list[Outcome]:
    """The expectations counts cannot decide, through GX's SQL execution engine in the warehouse."""
    if not expectations:
        return []
    engine = table.engine
    url = engine if isinstance(engine, str) else engine.url.render_as_string(hide_password=False)
    return run_expectations_sql(
        url, table.table, table.schema, expectations, suite_name=suite_name, examples=examples
    )


def _as_suite(suite: str | Path | Suite | Mapping[str, Any]) -> Suite:
    if isinstance(suite, Suite):
        return suite
    if isinstance(suite, (str, Path)):
        return load_suite(suite)
    if isinstance(suite, Mapping):
        return parse_suite(suite)
    raise CheckInputError(f"suite must be a file path, a Suite or a mapping, got {type(suite).__name__}")


def _as_frame(data: str | Path | pd.DataFrame, progress: Progress) -> pd.DataFrame:
    if not isinstance(data, (str, Path)) and not (hasattr(data, "columns") and hasattr(data, "iloc")):
        raise CheckInputError(f"data must be a CSV/Parquet path or a DataFrame, got {type(data).__name__}")
    frame = as_frame(data, progress=progress)
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise CheckInputError("data has duplicate column names")
    # Suites name columns as strings; a frame built in code may use other labels.
    return frame if list(frame.columns) == names else frame.set_axis(names, axis=1)


def _entry(
    built: BuiltExpectation,
    outcome: Outcome | None,
    missing: list[str],
    private: frozenset[str],
    examples: int,
) -> dict[str, Any]:
    spec = built.spec
    withheld = any(c in private for c in built.columns)
    result = outcome.result if outcome else {}
    error: str | None
    if missing:
        success, error = False, "; ".join(f"column {c!r} is missing from the data" for c in missing)
    elif outcome is None:  # not expected from GX; fail closed rather than pass
        success, error = False, "Great Expectations returned no result for this expectation"
    else:
        success, error = outcome.success, outcome.exception
        if error:
            success = False  # GX could not evaluate it on this data: never a pass
            if withheld:
                error = _QUOTED.sub("'...'", error)  # GX quotes offending values in some messages
    column = spec.kwargs.get("column")
    entry: dict[str, Any] = {
        "type": spec.type,
        "column": str(column) if column is not None else None,
        "success": success,
        "severity": spec.severity,
        "unexpected_count": _int_or_none(result.get("unexpected_count")),
        "unexpected_percent": result.get("unexpected_percent"),
        "element_count": _int_or_none(result.get("element_count")),
        "missing_count": _int_or_none(result.get("missing_count")),
        "observed_value": None,
        "partial_unexpected_values": None,
        "kwargs": _kwargs_for_evidence(spec.kwargs, withheld),
        "values_withheld": withheld,
        "error": error,
    }
    if len(built.columns) > 1 or (built.columns and column is None):
        entry["columns"] = list(built.columns)
    if not withheld or spec.type in _VALUE_FREE:
        entry["observed_value"] = _small(result.get("observed_value"))
    if not withheld and "partial_unexpected_list" in result:
        entry["partial_unexpected_values"] = [_small(v) for v in result["partial_unexpected_list"][:examples]]
    return entry


def _kwargs_for_evidence(kwargs: Mapping[str, Any], withheld: bool) -> dict[str, Any]:
    out = {}
    for key, value in kwargs.items():
        if key == "column":
            continue
        if withheld and isinstance(value, (list, tuple, set, dict)):
            out[key] = f"<{len(value)} values withheld>"
        else:
            out[key] = _small(value)
    return out


def _small(value: Any) -> Any:
    """JSON-plain and bounded: long texts and lists are cut, so evidence stays small."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "..."
    if isinstance(value, Mapping):
        return {str(k): _small(v) for k, v in list(value.items())[:_MAX_LIST]}
    if isinstance(value, (list, tuple, set)):
        items = list(value)
        return [_small(v) for v in items[:_MAX_LIST]] + (
            [f"... {len(items) - _MAX_LIST} more"] if len(items) > _MAX_LIST else []
        )
    if hasattr(value, "item"):  # numpy scalar
        return _small(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _small(str(value))


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
