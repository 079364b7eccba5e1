"""Which of Evidently's column types each column is, and its cleaned values.

Evidently's ``Report([DataDriftPreset()])`` infers column types from the
*current* data with ``evidently.core.datasets.infer_column_type`` and drops
nulls before testing; this module does the same, column by column, so that
memory stays bounded by one column pair. Two govflow extensions, both stated
in the evidence: datetime columns (which the preset skips) are tested as
numbers of epoch seconds, and object columns holding only booleans and nulls
(which the preset skips as "unknown") are tested as categorical.
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
    # Numeric columns only: the cleaned values as sorted float64 arrays (filled lazily).
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
    from evidently.core.datasets import infer_column_type
    from evidently.legacy.core import ColumnType

    reference = _plain_dtype(reference)
    current = _plain_dtype(current)
    for label, series in (("reference", reference), ("current", current)):
        if series.notna().sum() == 0:
            raise CheckInputError(f"column {name!r} has only null values in the {label} data")
    ref_family, cur_family = _family(reference), _family(current)
    if ref_family != cur_family and {ref_family, cur_family} != {"number", "bool"}:
        raise CheckInputError(
            f"column {name!r} holds {ref_family} values in the reference data but {cur_family} values "
            f"in the current data"
        )

    column_type = infer_column_type(current)  # Evidently types columns from the current data
    note = None
    if column_type == ColumnType.Datetime:
        kind: Kind = "datetime"
        feature_type: FeatureType = "num"
        reference, current = _epoch_seconds(reference), _epoch_seconds(current)
        note = "datetime compared as epoch seconds (Evidently's drift preset does not test datetime columns)"
    elif column_type == ColumnType.Unknown and cur_family == "bool":
        kind, feature_type = "boolean", "cat"
        note = "boolean column with nulls tested as categorical (Evidently's preset skips it as unknown)"
    elif column_type == ColumnType.Numerical:
        kind, feature_type = "numeric", "num"
    elif column_type == ColumnType.Categorical:
        kind, feature_type = ("boolean" if cur_family == "bool" else "categorical"), "cat"
    elif column_type == ColumnType.Text:
        kind, feature_type = "text", "text"
    else:
        raise SkippedColumn(f"no drift test for its type ({column_type.value}, dtype {current.dtype})")

    ref_clean, ref_missing = _clean(reference, numeric=feature_type == "num")
    cur_clean, cur_missing = _clean(current, numeric=feature_type == "num")
    for label, clean in (("reference", ref_clean), ("current", cur_clean)):
        if clean.empty:
            raise CheckInputError(f"column {name!r} has no finite values in the {label} data")
    if feature_type == "num":
        import pandas as pd

        for label, clean in (("reference", ref_clean), ("current", cur_clean)):
            if not pd.api.types.is_numeric_dtype(clean):
                raise CheckInputError(f"column {name!r} in the {label} data should hold numbers only")
    return PreparedColumn(
        name=name, feature_type=feature_type, kind=kind, reference=ref_clean, current=cur_clean,
        missing_reference=ref_missing, missing_current=cur_missing, note=note,
    )


def _plain_dtype(series: pd.Series) -> pd.Series:
    # Nullable pandas dtypes (Int64, Float64, boolean) have names Evidently's
    # inference does not know; turn them into the numpy dtypes it does know.
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


def _family(series: pd.Series) -> str:
    """A coarse value family used to catch a column whose type changed between frames."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return _family(pd.Series(dtype.categories))
    if dtype == object:
        values = series.dropna()
        if values.empty:
            return "null"
        kinds = {_value_family(v) for v in _sample(values)}
        return kinds.pop() if len(kinds) == 1 else "mixed"
    return "text"


def _sample(values: pd.Series, n: int = 1000) -> Any:
    # The family of an object column from its first and last values: enough to
    # catch a changed type without scanning a million Python objects.
    if len(values) <= 2 * n:
        return values.tolist()
    return values.iloc[:n].tolist() + values.iloc[-n:].tolist()


def _value_family(value: Any) -> str:
    import datetime as dt
    import numbers

    if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
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


def _clean(series: pd.Series, *, numeric: bool) -> tuple[pd.Series, int]:
    """Drop nulls (and +-inf for numbers), as Evidently does before testing."""
    import numpy as np

    if numeric and series.dtype.kind == "f":
        values = series.to_numpy()
        keep = np.isfinite(values)
        missing = int(len(values) - keep.sum())
        return (series if missing == 0 else series[keep]), missing
    keep = series.notna()
    missing = int(len(series) - keep.sum())
    return (series if missing == 0 else series[keep]), missing
