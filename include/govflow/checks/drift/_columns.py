"""Which of Evidently's column types each column is, and its cleaned values.

Evidently's ``Report([DataDriftPreset()])`` types columns from the *current*
data (``evidently.core.datasets.infer_column_type``) and drops nulls before
testing; this module does the same, column by column, so that memory stays
bounded by one column pair. Two govflow extensions, both stated in the
evidence: datetime columns (which the preset skips) are tested as numbers of
epoch seconds, and object columns holding only booleans and nulls (which the
preset skips as "unknown") are tested as categorical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from govflow.checks._result import CheckInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Evidently's ColumnType values for the types it tests for drift.
FeatureType = Literal["num", "cat", "text"]
Kind = Literal["numeric", "categorical", "boolean", "datetime", "text"]
# Evidently types an integer column with at most this many values as categorical.
INTEGER_CARDINALITY_LIMIT = 10


@dataclass
class PreparedColumn:
    """One column of both frames, nulls (and +-inf) removed, typed as Evidently types it."""

    name: str
    feature_type: FeatureType
    kind: Kind
    reference: pd.Series
    current: pd.Series
    missing_reference: int
    missing_current: int
    note: str | None = None
    # Categorical columns: value counts of the cleaned (reference, current) values.
    counts: tuple[pd.Series, pd.Series] | None = None
    # Numeric columns: the cleaned values as sorted float64 arrays (filled lazily).
    _sorted: tuple[np.ndarray, np.ndarray] | None = None

    def sorted_values(self) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        if self._sorted is None:
            ref = np.sort(self.reference.to_numpy(dtype=np.float64))
            cur = np.sort(self.current.to_numpy(dtype=np.float64))
            self._sorted = (ref, cur)
        return self._sorted


class SkippedColumn(Exception):
    """A column no drift test applies to (lists, mixed objects); reported, not counted."""


def prepare_column(name: str, reference: pd.Series, current: pd.Series) -> PreparedColumn:
    """Type one column pair like Evidently does and return its cleaned values.

    Raises CheckInputError for an all-null column or a column whose type differs
    between the two frames; SkippedColumn for a type no drift test applies to.
    """
    reference = _plain_dtype(reference)
    current = _plain_dtype(current)
    # One null mask per side: on a million Python strings each isna() pass is what costs.
    ref_valid, cur_valid = _valid(reference), _valid(current)
    for label, valid in (("reference", ref_valid), ("current", cur_valid)):
        if not valid.any():
            raise CheckInputError(f"column {name!r} has only null values in the {label} data")
    ref_family, cur_family = _family(reference, ref_valid), _family(current, cur_valid)
    if ref_family != cur_family and {ref_family, cur_family} != {"number", "bool"}:
        raise CheckInputError(
            f"column {name!r} holds {ref_family} values in the reference data but {cur_family} values "
            f"in the current data"
        )

    cur_counts = _value_counts(current, cur_valid) if _hashed(current) else None
    column_type = evidently_column_type(current, cur_valid, cur_counts)
    note = None
    if column_type == "datetime":
        kind: Kind = "datetime"
        feature_type: FeatureType = "num"
        reference, current = _epoch_seconds(reference), _epoch_seconds(current)
        ref_valid, cur_valid = _valid(reference), _valid(current)
        note = "datetime compared as epoch seconds (Evidently's drift preset does not test datetime columns)"
    elif column_type == "unknown" and cur_family == "bool":
        kind, feature_type = "boolean", "cat"
        note = "boolean column with nulls tested as categorical (Evidently's preset skips it as unknown)"
    elif column_type == "num":
        kind, feature_type = "numeric", "num"
    elif column_type == "cat":
        kind, feature_type = ("boolean" if cur_family == "bool" else "categorical"), "cat"
    elif column_type == "text":
        kind, feature_type = "text", "text"
    else:
        raise SkippedColumn(f"no drift test for its type ({column_type}, dtype {current.dtype})")

    numeric = feature_type == "num"
    ref_clean, ref_missing = _clean(reference, ref_valid, numeric=numeric)
    cur_clean, cur_missing = _clean(current, cur_valid, numeric=numeric)
    for label, clean in (("reference", ref_clean), ("current", cur_clean)):
        if clean.empty:
            raise CheckInputError(f"column {name!r} has no finite values in the {label} data")
    if numeric:
        import pandas as pd

        for label, clean in (("reference", ref_clean), ("current", cur_clean)):
            if not pd.api.types.is_numeric_dtype(clean):
                raise CheckInputError(f"column {name!r} in the {label} data should hold numbers only")
    column = PreparedColumn(
        name=name,
        feature_type=feature_type,
        kind=kind,
        reference=ref_clean,
        current=cur_clean,
        missing_reference=ref_missing,
        missing_current=cur_missing,
        note=note,
    )
    if feature_type == "cat":
        column.counts = (
            _value_counts(ref_clean, None),
            cur_counts if cur_counts is not None else _value_counts(cur_clean, None),
        )
    return column


def evidently_column_type(series: pd.Series, valid: np.ndarray, counts: pd.Series | None = None) -> str:
    """``evidently.core.datasets.infer_column_type`` (0.7), reusing a null mask and value counts.

    Returns Evidently's ColumnType value: num, cat, text, datetime, list or unknown.
    A unit test holds it equal to Evidently's own function.
    """
    dtype_name = series.dtype.name
    if dtype_name.startswith("float"):
        return "num"
    if dtype_name.startswith("int"):
        return "cat" if series.nunique() <= INTEGER_CARDINALITY_LIMIT else "num"
    n_valid = int(valid.sum())
    distinct = lambda: len(counts) if counts is not None else series.nunique()  # noqa: E731
    if dtype_name in ("string", "str"):
        return "text" if distinct() > n_valid * 0.5 else "cat"
    if dtype_name == "object":
        if n_valid == 0:
            return "unknown"
        positions = valid.nonzero()[0]
        first, last = series.iloc[positions[0]], series.iloc[positions[-1]]
        if isinstance(first, str) and isinstance(last, str):
            return "text" if distinct() > n_valid * 0.5 else "cat"
        if isinstance(first, (list, tuple)) and isinstance(last, (list, tuple)):
            return "list"
        return "unknown"
    if dtype_name in ("bool", "category"):
        return "cat"
    if dtype_name.startswith("datetime"):
        return "datetime"
    return "unknown"


def _hashed(series: pd.Series) -> bool:
    # Columns whose value counts the test needs anyway (and Evidently's typing uses).
    return series.dtype == object or series.dtype.name in ("string", "str", "category", "bool")


def _valid(series: pd.Series) -> np.ndarray:
    return series.notna().to_numpy()


def _value_counts(series: pd.Series, valid: np.ndarray | None) -> pd.Series:
    if valid is not None and not valid.all():
        series = series[valid]
    counts = series.value_counts(dropna=True, sort=False)
    return counts[counts > 0]  # a categorical dtype lists its unused categories with 0


def _plain_dtype(series: pd.Series) -> pd.Series:
    # Nullable pandas dtypes (Int64, Float64, boolean) have names Evidently's
    # typing does not know; turn them into the numpy dtypes it does know.
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(
        dtype, (pd.CategoricalDtype, pd.DatetimeTZDtype, pd.StringDtype)
    ):
        if pd.api.types.is_bool_dtype(dtype):
            return series.astype(bool) if not series.isna().any() else series.astype(object)
        if pd.api.types.is_integer_dtype(dtype) and not series.isna().any():
            return series.astype(np.int64)
        if pd.api.types.is_numeric_dtype(dtype):
            return series.astype(np.float64)
    return series


def _family(series: pd.Series, valid: np.ndarray) -> str:
    """A coarse value family used to catch a column whose type changed between frames."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        categories = pd.Series(dtype.categories)
        return _family(categories, categories.notna().to_numpy())
    if pd.api.types.is_object_dtype(dtype):
        # The family of an object column from its first and last 1,000 values: enough
        # to catch a changed type without scanning a million Python objects.
        positions = valid.nonzero()[0]
        sample = series.iloc[np.concatenate([positions[:1000], positions[-1000:]])]
        kinds = {_value_family(v) for v in sample.tolist()}
        return kinds.pop() if len(kinds) == 1 else "mixed"
    return "text"


def _value_family(value: Any) -> str:
    import datetime as dt
    import numbers

    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "bool"
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, (dt.date, dt.datetime)):
        return "datetime"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _epoch_seconds(series: pd.Series) -> pd.Series:
    import numpy as np
    import pandas as pd

    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = series.to_numpy(dtype="datetime64[ns]")
    seconds = values.astype(np.int64).astype(np.float64) / 1e9
    seconds[np.isnat(values)] = np.nan
    return pd.Series(seconds, index=series.index, name=series.name)


def _clean(series: pd.Series, valid: np.ndarray, *, numeric: bool) -> tuple[pd.Series, int]:
    """Drop nulls (and +-inf for numbers), as Evidently does before testing."""
    import numpy as np

    keep = valid
    if numeric and series.dtype.kind == "f":
        keep = np.isfinite(series.to_numpy())
    missing = int(len(keep) - keep.sum())
    return (series if missing == 0 else series[keep]), missing
