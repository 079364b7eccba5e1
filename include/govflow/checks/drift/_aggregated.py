"""The drift check decided from aggregates: categorical distances exact, numeric ones bounded.

Per column, both tables are profiled in one scan each (rows, valid values, range,
spread, exact distinct counts of text and integers) and typed as Evidently types
the in-memory frame (``drift._columns``): floats are numbers; integers are
categories up to ``INTEGER_CARDINALITY_LIMIT`` distinct current values (numbers
beyond, or when the current column has nulls: pandas reads it as floats); strings
are text above half their values distinct, else categories; booleans categories.

- Categorical (and numbers with at most 5 distinct values): Jensen-Shannon on the
  exact counts of each value (``GROUP BY``), the categories in the order they first
  appear in the table, as in memory: the same distance, bit for bit.
- Numeric, Evidently's normed Wasserstein distance: from fine histograms
  (``FINE_BINS`` equal bins over the common range, counted by the engine). Inside a
  bin both empirical CDFs may move anywhere between their values at its edges, so
  the integral of |F_ref - F_cur| over a bin lies between the smallest and largest
  |difference| the two bin masses allow: summed, a lower and upper bound on W1 that
  always holds (``score_bound``); the score is the CDFs taken linear inside bins.
  When the threshold lies inside the bound the column is recounted with
  ``REFINED_BINS``; a decision can differ from the exact one only if the exact
  score is within the bound of the threshold, and the evidence says when
  (``within_bound_of_threshold``). The normalising standard deviation is the
  engine's ``STDDEV_POP`` (equal to numpy's to ~1e-12 relative).

Evidently's small-sample tests (reference of 1,000 rows or fewer), its text tests,
datetime columns and a named test other than ``jensenshannon``/``wasserstein`` need
the rows: they are refused with one line naming ``--engine memory``.
"""

from __future__ import annotations

from typing import Any

from govflow.checks._result import CheckInputError, CheckResult
from govflow.checks.aggregates import AggregateTable, ColumnProfile, engine_provenance, open_table

FINE_BINS = 2**16
REFINED_BINS = 2**20
SMALL_SAMPLE_ROWS = 1000  # drift._stattests: Evidently switches to distances above this
INTEGER_CARDINALITY_LIMIT = 10  # drift._columns
DEFAULT_THRESHOLD = 0.1  # Evidently's wasserstein and jensenshannon StatTests


def aggregated_drift(
    reference: Any,
    current: Any,
    engine: str,
    *,
    columns: Any,
    max_share_drifted: float,
    key_columns: list[str],
    stattest: str | None,
    stattest_threshold: float | None,
) -> CheckResult:
    from govflow.checks.drift._verdict import CHECK, drift_verdict

    if stattest not in (None, "jensenshannon", "wasserstein"):
        raise CheckInputError(f"engine {engine}: stattest {stattest!r} needs the rows; use engine memory")
    with open_table(reference, engine) as ref, open_table(current, engine) as cur:
        ref_kinds, cur_kinds = ref.columns(), cur.columns()
        names = list(columns) if columns is not None else list(ref_kinds)
        if not names:
            raise CheckInputError("no columns to test")
        missing = [c for c in names if c not in cur_kinds]
        if missing:
            raise CheckInputError(f"column(s) missing from the current data: {', '.join(missing)}")
        extra = [c for c in (cur_kinds if columns is None else names) if c not in ref_kinds]
        if extra:
            raise CheckInputError(f"column(s) missing from the reference data: {', '.join(extra)}")
        unknown_keys = [k for k in key_columns if k not in names]
        if unknown_keys:
            raise CheckInputError(f"key column(s) not among the tested columns: {', '.join(unknown_keys)}")
        ref_profiles, cur_profiles = ref.profiles(names), cur.profiles(names)
        per_column = {
            name: _column(
                name, ref, cur, ref_profiles[name], cur_profiles[name], stattest, stattest_threshold
            )
            for name in names
        }
        rows = (ref.rows(), cur.rows())
        bounded = [n for n, e in per_column.items() if "score_bound" in e]
        provenance = engine_provenance(
            ref,
            "exact" if not bounded else "bounded",
            bounded_columns=bounded,
            histogram_bins=FINE_BINS,
        )
    status, summary = drift_verdict(
        per_column, {}, key_columns=key_columns, max_share_drifted=max_share_drifted, rows=rows
    )
    return CheckResult(
        check=CHECK, status=status, summary=summary, details={"columns": per_column, "provenance": provenance}
    )


def _evidently_type(name: str, ref: ColumnProfile, cur: ColumnProfile) -> tuple[str, str]:
    """(kind, feature_type) as ``drift._columns.prepare_column`` types the in-memory column."""
    families = {"int": "number", "float": "number", "bool": "bool", "string": "text"}
    ref_family, cur_family = families.get(ref.kind, ref.kind), families.get(cur.kind, cur.kind)
    if ref_family != cur_family and {ref_family, cur_family} != {"number", "bool"}:
        raise CheckInputError(
            f"column {name!r} holds {ref_family} values in the reference data but {cur_family} values "
            f"in the current data"
        )
    if cur.kind == "float" or (cur.kind == "int" and cur.valid < cur.rows):
        return "numeric", "num"
    if cur.kind == "int":
        return (
            ("categorical", "cat") if (cur.distinct or 0) <= INTEGER_CARDINALITY_LIMIT else ("numeric", "num")
        )
    if cur.kind == "string":
        return ("text", "text") if (cur.distinct or 0) > cur.valid * 0.5 else ("categorical", "cat")
    if cur.kind == "bool":
        return "boolean", "cat"
    raise CheckInputError(f"column {name!r} ({cur.kind}) needs the rows to test for drift: use engine memory")


def _column(
    name: str,
    ref: AggregateTable,
    cur: AggregateTable,
    ref_profile: ColumnProfile,
    cur_profile: ColumnProfile,
    stattest: str | None,
    stattest_threshold: float | None,
) -> dict[str, Any]:
    from govflow.checks.drift._verdict import mostly_missing

    for label, profile in (("reference", ref_profile), ("current", cur_profile)):
        if profile.valid == 0:
            raise CheckInputError(f"column {name!r} has only null values in the {label} data")
    kind, feature_type = _evidently_type(name, ref_profile, cur_profile)
    if feature_type == "text" or ref_profile.valid <= SMALL_SAMPLE_ROWS:
        raise CheckInputError(
            f"column {name!r}: Evidently's test for a {kind} column of {ref_profile.valid} reference values "
            f"needs the rows; use engine memory"
        )
    threshold = DEFAULT_THRESHOLD if stattest_threshold is None else float(stattest_threshold)
    entry: dict[str, Any]
    if feature_type == "cat":
        score = _categorical_js(ref.value_counts(name), cur.value_counts(name))
        entry = {"method": "jensenshannon", "score": score}
    else:
        entry = _numeric(name, ref, cur, ref_profile, cur_profile, stattest, threshold)
    entry["drifted"] = bool(entry["score"] >= threshold)
    entry["threshold"] = threshold
    missing_ref, missing_cur = ref_profile.rows - ref_profile.valid, cur_profile.rows - cur_profile.valid
    out = {
        "drifted": entry.pop("drifted"),
        "method": entry.pop("method"),
        "score": entry.pop("score"),
        "threshold": entry.pop("threshold"),
        "type": kind,
        "missing_reference": missing_ref,
        "missing_current": missing_cur,
        **entry,
    }
    if kind == "boolean" and cur_profile.valid < cur_profile.rows:
        out["note"] = (
            "boolean column with nulls tested as categorical (Evidently's preset skips it as unknown)"
        )
    out["mostly_missing"] = mostly_missing(
        missing_ref / max(ref_profile.rows, 1), missing_cur / max(cur_profile.rows, 1)
    )
    return out


def _categorical_js(ref_counts: list[tuple[Any, int]], cur_counts: list[tuple[Any, int]]) -> float:
    """``drift._stattests._jensenshannon``'s categorical branch on counts in first-appearance order."""
    import numpy as np

    from govflow.checks.drift._stattests import jensenshannon_distance

    ref_freq, cur_freq = dict(ref_counts), dict(cur_counts)
    categories = list(dict.fromkeys([*ref_freq, *cur_freq]))
    n_ref, n_cur = sum(ref_freq.values()), sum(cur_freq.values())
    ref_pct = np.array([ref_freq.get(k, 0) / n_ref for k in categories])
    cur_pct = np.array([cur_freq.get(k, 0) / n_cur for k in categories])
    return jensenshannon_distance(ref_pct, cur_pct)


def _numeric_js(ref_counts: list[tuple[Any, int]], cur_counts: list[tuple[Any, int]]) -> float:
    """The numeric branch with few distinct values: counts on the sorted union of the values."""
    import numpy as np

    from govflow.checks.drift._stattests import _counts_on, jensenshannon_distance

    ref_values = np.array([float(v) for v, _ in ref_counts])
    cur_values = np.array([float(v) for v, _ in cur_counts])
    ref_n = np.array([n for _, n in ref_counts], dtype=np.int64)
    cur_n = np.array([n for _, n in cur_counts], dtype=np.int64)
    keys = np.union1d(ref_values, cur_values)
    ref_pct = _counts_on(keys, ref_values, ref_n) / int(ref_n.sum())
    cur_pct = _counts_on(keys, cur_values, cur_n) / int(cur_n.sum())
    return jensenshannon_distance(ref_pct, cur_pct)


def _numeric(
    name: str,
    ref: AggregateTable,
    cur: AggregateTable,
    ref_profile: ColumnProfile,
    cur_profile: ColumnProfile,
    stattest: str | None,
    threshold: float,
) -> dict[str, Any]:
    """Wasserstein from fine histograms; Jensen-Shannon on exact counts when at most 5 values occur.

    More than 5 non-empty bins prove more than 5 distinct values without a ``GROUP BY`` over
    every distinct float (which on 100M rows would be a hash table of 100M entries)."""
    import numpy as np

    assert ref_profile.minimum is not None and cur_profile.minimum is not None
    assert ref_profile.maximum is not None and cur_profile.maximum is not None
    low = min(ref_profile.minimum, cur_profile.minimum)
    high = max(ref_profile.maximum, cur_profile.maximum)
    bins = FINE_BINS
    ref_hist, cur_hist = ref.histogram(name, low, high, bins), cur.histogram(name, low, high, bins)
    few = False
    if np.count_nonzero((ref_hist > 0) | (cur_hist > 0)) <= 5:
        ref_values = ref.value_counts(name, numeric=True, limit=6)
        cur_values = cur.value_counts(name, numeric=True, limit=6)
        union = {v for v, _ in [*ref_values, *cur_values]}
        few = len(ref_values) <= 5 and len(cur_values) <= 5 and len(union) <= 5
        if few and stattest != "wasserstein":
            return {"method": "jensenshannon", "score": _numeric_js(ref_values, cur_values)}
    if stattest == "jensenshannon":
        raise CheckInputError(
            f"column {name!r}: jensenshannon on a numeric column bins its rows (Sturges); use engine memory"
        )
    norm = max(float(ref_profile.std or 0.0), 0.001)
    while True:
        estimate, lower, upper = w1_bounds(ref_hist, cur_hist, (high - low) / bins)
        score, bound = estimate / norm, [lower / norm, upper / norm]
        inside = bound[0] < threshold <= bound[1]
        if not inside or bins >= REFINED_BINS:
            break
        bins = REFINED_BINS
        ref_hist, cur_hist = ref.histogram(name, low, high, bins), cur.histogram(name, low, high, bins)
    return {
        "method": "wasserstein",
        "score": score,
        "score_bound": bound,
        "histogram_bins": bins,
        "within_bound_of_threshold": inside,
    }


def w1_bounds(ref_counts: Any, cur_counts: Any, width: float) -> tuple[float, float, float]:
    """W1 between two samples known by their counts on equal bins: (estimate, lower, upper).

    At a bin's left edge the CDF difference ``D`` is exact; inside the bin each CDF rises by
    at most its bin mass (``r``, ``c``), so the difference stays in [D - c, D + r]: its
    absolute value is at least the distance of that interval from 0 and at most its larger
    end. The estimate takes both CDFs linear inside the bin (the integral of a linear |D|).
    """
    import numpy as np

    r = ref_counts / ref_counts.sum()
    c = cur_counts / cur_counts.sum()
    step = r - c
    left = np.concatenate([[0.0], np.cumsum(step)[:-1]])
    right = left + step
    low_end, high_end = left - c, left + r
    upper = np.maximum(np.abs(low_end), np.abs(high_end))
    lower = np.where((low_end <= 0) & (high_end >= 0), 0.0, np.minimum(np.abs(low_end), np.abs(high_end)))
    same_sign = left * right >= 0
    span = np.abs(left) + np.abs(right)
    crossing = np.divide(left * left + right * right, 2 * span, out=np.zeros_like(span), where=span > 0)
    linear = np.where(same_sign, span / 2, crossing)
    return float(width * linear.sum()), float(width * lower.sum()), float(width * upper.sum())
