"""Evidently's per-column drift tests, chosen the way Evidently chooses them.

Mirrors Evidently 0.7.23 (``evidently==0.7.23`` in requirements.txt). Upgrade checklist:
1. diff ``evidently/legacy/calculations/stattests/registry.py`` (``_get_default_stattest``:
   thresholds on reference size and distinct values) and ``evidently/core/datasets.py``
   (``infer_column_type``, mirrored in ``_columns.evidently_column_type``) against this version;
2. diff ``wasserstein_distance_norm.py`` and ``jensenshannon.py`` in the same folder (statistic,
   normalisation, the binning of numbers, default threshold 0.1: ``FastTest``);
3. run ``pytest -m oracle`` (``tests/unit/test_drift_stattests.py`` compares every mirrored rule
   and statistic with Evidently's and the Jensen-Shannon distance with SciPy's ``==``);
4. update the version above and the drift oracle in ``checks/drift/__init__.py`` if a tolerance moved.

``choose_stattest`` mirrors ``evidently.legacy.calculations.stattests.registry.
_get_default_stattest`` (by column type, reference size and number of distinct
values) and returns Evidently's own ``StatTest`` object, so names and default
thresholds come from Evidently. ``run_stattest`` then computes the test:

- ``wasserstein`` and ``jensenshannon`` (Evidently's defaults above 1,000
  reference rows) are computed here from sorted values and value counts with
  numpy: the same statistic as Evidently's implementation, without its
  per-column pandas overhead (tested within a relative 1e-12 of Evidently's).
  The Wasserstein distance uses the quantile form of W1 (mathematically equal
  to scipy's CDF form for 1-D samples);
- every other test is Evidently's own implementation, called on the cleaned
  columns (the evidence names them: ``provenance.evidently_methods``).

The Jensen-Shannon distance is SciPy's ``scipy.spatial.distance.jensenshannon``
(which Evidently calls) written out here with the same float operations in the
same order, so it gives the same bits (a test asserts ``==`` with SciPy's):
importing ``scipy.spatial`` takes 0.2-0.3 s, as long as the tests of a dozen
million-row columns.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError
from govflow.checks.drift._columns import PreparedColumn

if TYPE_CHECKING:
    import numpy as np

# Evidently switches from small-sample tests to distances above this many reference rows.
SMALL_SAMPLE_ROWS = 1000
FAST_METHODS = frozenset({"wasserstein", "jensenshannon"})


@dataclass(frozen=True)
class ColumnDrift:
    drifted: bool
    method: str
    score: float
    threshold: float


@dataclass(frozen=True)
class FastTest:
    """Evidently's ``wasserstein`` / ``jensenshannon`` StatTest, by name and default threshold:
    choosing one needs no Evidently import (3 s of a CLI run); the values are Evidently's own
    (``wasserstein_stat_test``/``jensenshannon_stat_test``: 0.1), pinned by a unit test."""

    name: str
    default_threshold: float = 0.1


def _fast_choice(column: PreparedColumn, stattest: str | None) -> FastTest | None:
    """Evidently's default choice when it is one of the numpy distances, else None (ask Evidently)."""
    if column.feature_type == "text" or len(column.reference) <= SMALL_SAMPLE_ROWS:
        return None
    default = "wasserstein" if column.feature_type == "num" and _distinct_values(column, cap=5) > 5 else None
    if stattest is None:
        return FastTest(default or "jensenshannon")
    if stattest == "jensenshannon" or (stattest == "wasserstein" and column.feature_type == "num"):
        return FastTest(stattest)
    return None


def choose_stattest(column: PreparedColumn, stattest: str | None) -> Any:
    """Evidently's StatTest for this column: the named one, or Evidently's default choice."""
    fast = _fast_choice(column, stattest)
    if fast is not None:
        return fast
    from evidently.legacy.calculations import stattests
    from evidently.legacy.calculations.stattests.registry import get_registered_stattest
    from evidently.legacy.core import ColumnType

    feature_type = ColumnType(column.feature_type)
    if stattest is not None:
        try:
            return get_registered_stattest(stattest, feature_type)
        except ValueError as err:
            raise CheckInputError(
                f"stattest {stattest!r} cannot test {column.kind} column {column.name!r}: "
                f"{str(err).splitlines()[0]}"
            ) from err

    n_reference = len(column.reference)
    if feature_type == ColumnType.Text:
        if n_reference > SMALL_SAMPLE_ROWS:
            return stattests.abs_text_content_drift_stat_test
        return stattests.perc_text_content_drift_stat_test
    n_values = _distinct_values(column, cap=5)
    if n_reference <= SMALL_SAMPLE_ROWS:
        if feature_type == ColumnType.Numerical and n_values > 5:
            return stattests.ks_stat_test
        return stattests.chi_stat_test if n_values > 2 else stattests.z_stat_test
    if feature_type == ColumnType.Numerical and n_values > 5:
        return stattests.wasserstein_stat_test
    return stattests.jensenshannon_stat_test


def run_stattest(column: PreparedColumn, test: Any, threshold: float | None) -> ColumnDrift:
    """Run ``test`` (an Evidently StatTest) on one prepared column."""
    actual = test.default_threshold if threshold is None else float(threshold)
    if test.name == "wasserstein":
        score = wasserstein_distance_norm(*column.sorted_values())
        return ColumnDrift(drifted=bool(score >= actual), method=test.name, score=score, threshold=actual)
    if test.name == "jensenshannon":
        score = _jensenshannon(column)
        return ColumnDrift(drifted=bool(score >= actual), method=test.name, score=score, threshold=actual)

    from evidently.legacy.core import ColumnType

    try:
        result = test(*column.plain_values(), ColumnType(column.feature_type), threshold)
    except (ValueError, TypeError) as err:
        raise CheckInputError(
            f"{test.name} cannot test column {column.name!r}: {str(err).splitlines()[0]}"
        ) from err
    return ColumnDrift(
        drifted=bool(result.drifted),
        method=test.name or test.display_name,
        score=float(result.drift_score),
        threshold=float(result.actual_threshold),
    )


def wasserstein_distance_norm(reference: np.ndarray, current: np.ndarray) -> float:
    """Evidently's "wasserstein" score: W1(reference, current) / max(std(reference), 0.001).

    Both arrays must be sorted. W1 is the integral of the distance between the
    two quantile functions, which for empirical samples is a sum over the merged
    grid of quantile breakpoints i/n and j/m.
    """
    import numpy as np

    norm = max(float(np.std(reference)), 0.001)
    n, m = len(reference), len(current)
    if n == m:
        distance = float(np.mean(np.abs(reference - current)))
    else:
        # Breakpoints in units of 1/(n*m): reference's at multiples of m, current's at multiples of n.
        breaks = np.union1d(np.arange(n + 1, dtype=np.int64) * m, np.arange(m + 1, dtype=np.int64) * n)
        lower = breaks[:-1]
        gaps = np.abs(reference[lower // m] - current[lower // n])
        distance = float(np.dot(np.diff(breaks).astype(np.float64), gaps) / (float(n) * float(m)))
    return distance / norm


def _jensenshannon(column: PreparedColumn) -> float:
    """Evidently's "jensenshannon" score (its ``get_binned_data`` without zero filling)."""
    import numpy as np

    if column.feature_type == "num":
        reference, current = column.sorted_values()
        ref_values, ref_counts = _sorted_counts(reference)
        if len(ref_values) > 20:
            # Evidently bins numbers with many values on Sturges edges of both samples together.
            edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
            ref_pct = np.histogram(reference, edges)[0] / len(reference)
            cur_pct = np.histogram(current, edges)[0] / len(current)
            return jensenshannon_distance(ref_pct, cur_pct)
        cur_values, cur_counts = _sorted_counts(current)
        keys = np.union1d(ref_values, cur_values)
        ref_pct = _counts_on(keys, ref_values, ref_counts) / len(reference)
        cur_pct = _counts_on(keys, cur_values, cur_counts) / len(current)
        return jensenshannon_distance(ref_pct, cur_pct)

    ref_freq, cur_freq = _category_counts(column)
    categories = list(dict.fromkeys([*ref_freq, *cur_freq]))
    n_ref, n_cur = len(column.reference), len(column.current)
    ref_pct = np.array([ref_freq.get(k, 0) / n_ref for k in categories])
    cur_pct = np.array([cur_freq.get(k, 0) / n_cur for k in categories])
    return jensenshannon_distance(ref_pct, cur_pct)


def jensenshannon_distance(p: np.ndarray, q: np.ndarray) -> float:
    """``scipy.spatial.distance.jensenshannon(p, q)`` of two 1-D arrays, computed as SciPy does."""
    import numpy as np

    p = np.asarray(p)
    q = np.asarray(q)
    p = p / np.sum(p, axis=0, keepdims=True)
    q = q / np.sum(q, axis=0, keepdims=True)
    m = (p + q) / 2.0
    left = np.array([_rel_entr(x, y) for x, y in zip(p.tolist(), m.tolist(), strict=True)], dtype=np.float64)
    right = np.array([_rel_entr(x, y) for x, y in zip(q.tolist(), m.tolist(), strict=True)], dtype=np.float64)
    js = np.sum(left, axis=0) + np.sum(right, axis=0)
    return float(np.sqrt(js / 2.0))


def _rel_entr(x: float, y: float) -> float:
    """``scipy.special.rel_entr(x, y)``, branch for branch (SciPy's ``xsf::rel_entr``)."""
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if x <= 0 or y <= 0:
        return 0.0 if x == 0 and y >= 0 else math.inf
    ratio = x / y
    if 0.5 < ratio < 2:  # x and y close: log1p is the more accurate
        return x * math.log1p((x - y) / y)
    if sys.float_info.min < ratio < math.inf:
        return x * math.log(ratio)
    return x * (math.log(x) - math.log(y))  # x / y under- or overflows: logarithms first


def _category_counts(column: PreparedColumn) -> tuple[dict, dict]:
    if column.counts is None:  # a categorical column always has them; this is a guard
        column.counts = (column.reference.value_counts(), column.current.value_counts())
    return tuple({key: int(n) for key, n in counts.items() if n > 0} for counts in column.counts)  # type: ignore[return-value]


def _sorted_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts of a sorted array, in one pass."""
    import numpy as np

    if len(values) == 0:
        return values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    counts = np.diff(np.append(starts, len(values)))
    return values[starts], counts


def _first_distinct(values: np.ndarray, cap: int) -> np.ndarray:
    """The smallest distinct values of a sorted array, at most ``cap + 1`` of them: one binary
    search per value (a pass over a million values only to learn there are more than 5 is waste)."""
    import numpy as np

    found: list[float] = []
    position = 0
    while position < len(values) and len(found) <= cap:
        found.append(values[position])
        position = int(np.searchsorted(values, values[position], side="right"))
    return np.asarray(found, dtype=values.dtype)


def _counts_on(keys: np.ndarray, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    import numpy as np

    out = np.zeros(len(keys), dtype=np.float64)
    out[np.searchsorted(keys, values)] = counts
    return out


def _distinct_values(column: PreparedColumn, *, cap: int) -> int:
    """Distinct non-null values of both samples together, exact up to ``cap`` (then cap + 1).

    Evidently only compares this number with 2 and 5, so counting past ``cap``
    is wasted work on a million rows.
    """
    import numpy as np

    if column.feature_type == "num":
        reference, current = column.sorted_values()
        ref_values = _first_distinct(reference, cap)
        if len(ref_values) > cap:
            return cap + 1
        cur_values = _first_distinct(current, cap)
        if len(cur_values) > cap:
            return cap + 1
        return len(np.union1d(ref_values, cur_values))
    if column.feature_type == "text":
        return cap + 1  # not used: text columns are chosen by size alone
    ref_counts, cur_counts = _category_counts(column)
    if len(ref_counts) > cap or len(cur_counts) > cap:
        return cap + 1
    import pandas as pd

    return int(pd.Series([*ref_counts, *cur_counts], dtype=object).nunique())
