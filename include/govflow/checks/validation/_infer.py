"""Propose an expectation suite from reference data, for a person to review.

What is proposed, per column: its place in the column list, its type family,
a bound on its null rate, the observed numeric range, and the value set of a
low-cardinality text column. Ranges and sets are what the reference showed,
not what the domain allows: the reviewer widens them where needed. Columns
that may hold personal data get no ranges or value sets, so no raw values
land in the repository.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow import __version__
from govflow.checks._io import read_table
from govflow.checks._result import CheckInputError
from govflow.checks.validation._pii_names import pii_column_set
from govflow.checks.validation._suite import SUITE_SUFFIXES, Suite, dump_suite_yaml, parse_suite
from govflow.errors import BadInputError
from govflow.hashing import sha256_file
from govflow.progress import Progress

if TYPE_CHECKING:
    import pandas as pd

# Type names as GX's pandas `expect_column_values_to_be_in_type_list` understands them.
# A family, not one dtype: the same data read from CSV or Parquet may come back as
# int64 or Int64 (nullable), and a float column may hold only whole numbers next time.
INTEGER_TYPES = (
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "Int8Dtype",
    "Int16Dtype",
    "Int32Dtype",
    "Int64Dtype",
    "UInt8Dtype",
    "UInt16Dtype",
    "UInt32Dtype",
    "UInt64Dtype",
)
FLOAT_TYPES = ("float16", "float32", "float64", "Float32Dtype", "Float64Dtype", *INTEGER_TYPES)
BOOL_TYPES = ("bool", "BooleanDtype")
DATETIME_TYPES = ("datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]")
# Python value types GX checks one by one in object columns.
_OBJECT_VALUE_TYPES = {str: "str", int: "int", float: "float", bool: "bool", bytes: "bytes"}

DEFAULT_MAX_CATEGORIES = 50
# Null-rate slack: observed rate plus max(1 percentage point, half the observed rate).
_NULL_SLACK_ABS = 0.01
_NULL_SLACK_REL = 0.5

REVIEW_HEADER = (
    "Proposed by `govflow suite infer` from {source}.\n"
    "Review every expectation before relying on it: ranges and value sets are what the\n"
    "reference data showed, not what the domain allows. Then set meta.govflow.needs_review: false."
)


def infer_suite(
    reference: pd.DataFrame | str | Path,
    *,
    name: str | None = None,
    pii_columns: Collection[str] = (),
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Propose a suite document (the dict that ``write_suite`` writes as YAML) from reference data
    (``progress`` hears the file read)."""

    reference_meta: dict[str, Any] = {}
    if isinstance(reference, (str, Path)):
        path = Path(reference)
        frame = read_table(path, progress=progress)
        # The file name and hash identify the reference without leaking local paths into the repo.
        reference_meta = {"file": path.name, "sha256": sha256_file(path)}
        name = name or path.stem
    else:
        frame = reference
        if len(frame) == 0:
            raise CheckInputError("reference data has no rows")
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise CheckInputError("reference data has duplicate column names")
    if not columns:
        raise CheckInputError("reference data has no columns")
    frame = frame.set_axis(columns, axis=1)
    reference_meta.update({"rows": len(frame), "columns": len(columns)})

    private = pii_column_set(columns, pii_columns)
    expectations: list[dict[str, Any]] = [
        _expectation("expect_table_columns_to_match_ordered_list", column_list=columns),
    ]
    notes: list[str] = []
    for column in columns:
        expectations.extend(
            _column_expectations(frame[column], column, column in private, max_categories, notes)
        )

    meta = {
        "govflow": {
            "inferred": True,
            "needs_review": True,
            "generator": f"govflow {__version__} suite infer",
            "reference": reference_meta,
            "rules": [
                "column list and order as in the reference",
                "type family of each column (CSV and Parquet spellings of the same type both pass)",
                f"null rate at most the observed rate + "
                f"max({_NULL_SLACK_ABS:g}, {_NULL_SLACK_REL:g} x observed)",
                "numeric columns within the observed min and max",
                f"text columns with at most {max_categories} distinct values (and repeats) "
                "within the observed value set",
                "no ranges or value sets for columns that may hold personal data",
            ],
        },
    }
    if private:
        meta["govflow"]["personal_data_columns"] = [c for c in columns if c in private]
    if notes:
        meta["govflow"]["notes"] = notes
    return {"name": name or "inferred", "meta": meta, "expectations": expectations}


def write_suite(suite: Any, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a suite (document dict or ``Suite``) as YAML (or JSON for ``.json``); returns the path.

    Refuses to replace an existing file unless ``overwrite``: a reviewed suite is
    not silently overwritten by a fresh proposal.
    """
    import json

    out = Path(path)
    if out.suffix.lower() not in SUITE_SUFFIXES:
        raise BadInputError(f"suite output must end in .yaml, .yml or .json: {out}")
    if out.exists() and not overwrite:
        raise BadInputError(
            f"{out} already exists; refusing to overwrite a suite (use --force to replace it)"
        )
    if not out.parent.is_dir():
        raise BadInputError(f"folder does not exist: {out.parent}")
    suite_obj = suite if isinstance(suite, Suite) else parse_suite(suite, source="suite to write")
    document = suite_obj.to_dict()
    if out.suffix.lower() == ".json":
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    else:
        govflow_meta = document.get("meta", {}).get("govflow", {})
        source = govflow_meta.get("reference", {}).get("file", "reference data")
        header = REVIEW_HEADER.format(source=source) if govflow_meta.get("needs_review") else ""
        text = dump_suite_yaml(document, header=header)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # atomic: a reader never sees half a suite
    return out


def _column_expectations(
    series: pd.Series,
    column: str,
    private: bool,
    max_categories: int,
    notes: list[str],
) -> list[dict[str, Any]]:
    import pandas as pd

    rows = len(series)
    nulls = int(series.isna().sum())
    if nulls == rows:
        notes.append(f"{column}: entirely null in the reference, only its presence is expected")
        return []
    out = []
    type_list = _type_family(series)
    if type_list is None:
        notes.append(f"{column}: dtype {series.dtype} has no portable type check, none proposed")
    else:
        out.append(
            _expectation("expect_column_values_to_be_in_type_list", column=column, type_list=list(type_list))
        )
    out.append(_null_expectation(column, nulls, rows))
    if private:
        notes.append(f"{column}: may hold personal data, so no value ranges or sets are proposed")
        return out
    values = series.dropna()
    if pd.api.types.is_bool_dtype(series.dtype):
        return out
    if pd.api.types.is_numeric_dtype(series.dtype):
        bounds = _numeric_bounds(values, integer=pd.api.types.is_integer_dtype(series.dtype))
        if bounds:
            out.append(_expectation("expect_column_values_to_be_between", column=column, **bounds))
    elif _is_text(series, values):
        distinct = values.unique()
        if len(distinct) <= max_categories and len(distinct) <= len(values) / 2:
            value_set = sorted(str(v) for v in distinct)
            out.append(_expectation("expect_column_values_to_be_in_set", column=column, value_set=value_set))
    return out


def _type_family(series: pd.Series) -> tuple[str, ...] | None:
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return BOOL_TYPES
    if pd.api.types.is_integer_dtype(dtype):
        return INTEGER_TYPES
    if pd.api.types.is_float_dtype(dtype):
        return FLOAT_TYPES
    if isinstance(dtype, pd.DatetimeTZDtype):
        return None  # GX's pandas type check cannot name a time-zone-aware dtype
    if pd.api.types.is_datetime64_dtype(dtype):
        return DATETIME_TYPES
    if isinstance(dtype, pd.StringDtype):
        return ("str", "StringDtype")
    if pd.api.types.is_object_dtype(dtype):
        present = {type(v) for v in series.dropna()}
        if present and all(t in _OBJECT_VALUE_TYPES for t in present):
            return tuple(sorted({_OBJECT_VALUE_TYPES[t] for t in present}))
    return None


def _null_expectation(column: str, nulls: int, rows: int) -> dict[str, Any]:
    if nulls == 0:
        return _expectation("expect_column_values_to_not_be_null", column=column)
    rate = nulls / rows
    allowed = min(1.0, rate + max(_NULL_SLACK_ABS, _NULL_SLACK_REL * rate))
    mostly = math.floor((1.0 - allowed) * 10_000) / 10_000  # round down: the reference itself must pass
    return _expectation(
        "expect_column_values_to_not_be_null",
        column=column,
        mostly=mostly,
        meta={"observed_null_rate": round(rate, 6)},
    )


def _numeric_bounds(values: pd.Series, *, integer: bool) -> dict[str, Any]:
    # An infinite value leaves that side open, so the reference itself still passes.
    finite = values[values.abs() != math.inf]
    if finite.empty:
        return {}
    cast = int if integer else float
    bounds = {}
    if not (values == -math.inf).any():
        bounds["min_value"] = cast(finite.min())
    if not (values == math.inf).any():
        bounds["max_value"] = cast(finite.max())
    return bounds


def _is_text(series: pd.Series, values: pd.Series) -> bool:
    import pandas as pd

    if isinstance(series.dtype, pd.StringDtype):
        return True
    if series.dtype == object or isinstance(series.dtype, pd.CategoricalDtype):
        # Every value, not a sample: a set of strings must match the stored values exactly.
        return bool(values.astype(object).map(type).eq(str).all())
    return False


def _expectation(kind: str, *, meta: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "kwargs": kwargs}
    if meta:
        out["meta"] = meta
    return out
