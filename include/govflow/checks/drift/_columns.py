"""Which of Evidently's column types each column is, and its cleaned values.

Evidently's ``Report([DataDriftPreset()])`` types columns from the *current*
data (``evidently.core.datasets.infer_column_type``) and drops nulls before
testing; this module does the same, column by column, so that memory stays
bounded by one column pair. Two govflow extensions, both stated in the
evidence: datetime columns (which the preset skips) are tested as numbers of
epoch seconds, and object columns holding only booleans and nulls (which the
preset skips as "unknown") are tested as categorical.

A Parquet file's string columns may come read as categoricals (``read_table``'s
``dictionary_strings``: the codes and the distinct strings, no Python str per
value). Such a column is typed, counted and tested exactly as the plain strings it
holds (its null mask and value counts come from the codes, the counts in the
order the values first appear, as ``value_counts(sort=False)`` gives them for
strings); Evidently's own tests and report get the plain strings.
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
    # Whether the (reference, current) values are strings held as a categorical (``strings``).
    string_codes: tuple[bool, bool] = (False, False)

    def sorted_values(self) -> tuple[np.ndarray, np.ndarray]:
        if self._sorted is None:
            self._sorted = (_sorted_float64(self.reference), _sorted_float64(self.current))
        return self._sorted

    def plain_values(self) -> tuple[pd.Series, pd.Series]:
        """The cleaned values, a string column read as a categorical turned back into its strings
        (what Evidently's own tests are given)."""
        ref_codes, cur_codes = self.string_codes
        return (
            _plain_strings(self.reference) if ref_codes else self.reference,
            _plain_strings(self.current) if cur_codes else self.current,
        )


class SkippedColumn(Exception):
    """A column no drift test applies to (lists, mixed objects); reported, not counted."""


def prepare_column(
    name: str, reference: pd.Series, current: pd.Series, *, strings: tuple[bool, bool] = (False, False)
) -> PreparedColumn:
    """Type one column pair like Evidently does and return its cleaned values.

    ``strings``: whether the (reference, current) side is a string column read as a categorical
    (``read_table``'s ``dictionary_strings``); it is then typed and tested as those strings.
    Raises CheckInputError for an all-null column or a column whose type differs
    between the two frames; SkippedColumn for a type no drift test applies to.
    """
    ref_codes = strings[0] and _is_categorical(reference)
    cur_codes = strings[1] and _is_categorical(current)
    reference = reference if ref_codes else _plain_dtype(reference)
    current = current if cur_codes else _plain_dtype(current)
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

    cur_counts = _value_counts(current, cur_valid, codes=cur_codes) if _hashed(current) else None
    column_type = evidently_column_type(current, cur_valid, cur_counts, strings=cur_codes)
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
        # Many distinct values: Evidently's text test works on the strings themselves.
        reference = _plain_strings(reference) if ref_codes else reference
        current = _plain_strings(current) if cur_codes else current
        ref_codes = cur_codes = False
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
        string_codes=(ref_codes, cur_codes),
    )
    if feature_type == "cat":
        column.counts = (
            _value_counts(ref_clean, None, codes=ref_codes),
            cur_counts if cur_counts is not None else _value_counts(cur_clean, None, codes=cur_codes),
        )
    return column


def evidently_column_type(
    series: pd.Series, valid: np.ndarray, counts: pd.Series | None = None, *, strings: bool = False
) -> str:
    """``evidently.core.datasets.infer_column_type`` (0.7), reusing a null mask and value counts.

    Returns Evidently's ColumnType value: num, cat, text, datetime, list or unknown.
    A unit test holds it equal to Evidently's own function. ``strings``: ``series`` is a
    categorical holding a string column's values, typed as those strings would be.
    """
    dtype_name = "string" if strings else series.dtype.name
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


def _value_counts(series: pd.Series, valid: np.ndarray | None, *, codes: bool = False) -> pd.Series:
    if codes:
        return _string_counts(series)
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


def _sorted_float64(series: pd.Series) -> np.ndarray:
    """The values as a sorted float64 array: one copy (an integer column's conversion is that copy),
    sorted in place."""
    import numpy as np

    values = series.to_numpy(dtype=np.float64, copy=True)
    values.sort()
    return values


def _is_categorical(series: pd.Series) -> bool:
    import pandas as pd

    return isinstance(series.dtype, pd.CategoricalDtype)


def _plain_strings(series: pd.Series) -> pd.Series:
    """A categorical's values as an object column (its strings; nulls as None, as Parquet gives them)."""
    import numpy as np
    import pandas as pd

    codes = series.cat.codes.to_numpy()
    categories = series.cat.categories.to_numpy(dtype=object)
    values = np.append(categories, np.array([None], dtype=object))[codes]  # code -1: None
    return pd.Series(values, index=series.index, name=series.name, dtype=object)


def _string_counts(series: pd.Series) -> pd.Series:
    """Value counts of strings held as a categorical, from its codes: nulls left out, unused
    categories too, in the order the values first appear (``value_counts(sort=False)`` of the
    plain strings: the order a Jensen-Shannon sum adds them in)."""
    import numpy as np
    import pandas as pd

    codes = series.cat.codes.to_numpy()
    categories = series.cat.categories
    counts = np.bincount(codes.astype(np.intp) + 1, minlength=len(categories) + 1)[1:]
    order = _first_seen(codes, int(np.count_nonzero(counts)))
    return pd.Series(counts[order], index=categories[order], name="count")


def _first_seen(codes: np.ndarray, wanted: int) -> np.ndarray:
    """The first ``wanted`` distinct non-negative codes in order of first appearance.

    Reads growing prefixes of ``codes``: a column's values usually all appear early.
    """
    import numpy as np

    order: list[int] = []
    seen: set[int] = set()
    start, step = 0, 4096
    while len(order) < wanted and start < len(codes):
        chunk = codes[start : start + step]
        distinct, first = np.unique(chunk, return_index=True)
        for code in distinct[np.argsort(first, kind="stable")].tolist():
            if code >= 0 and code not in seen:
                seen.add(code)
                order.append(code)
        start, step = start + step, step * 2
    return np.asarray(order, dtype=np.intp)


def as_plain_strings(frame: pd.DataFrame, names: frozenset[str]) -> pd.DataFrame:
    """``frame`` with its string columns held as categoricals (``names``) turned back into strings."""
    held = [c for c in frame.columns if c in names and _is_categorical(frame[c])]
    if not held:
        return frame
    frame = frame.copy(deep=False)
    for name in held:
        frame[name] = _plain_strings(frame[name])
    return frame
