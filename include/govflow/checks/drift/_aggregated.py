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

Scans: one per table for the profiles, one for every categorical column's counts (with
each value's first row), one for every numeric column's histogram (``GROUPING SETS``:
one hash table per column, a single read of the table), and one more only if some
column needs ``REFINED_BINS``; the few columns with at most 5 non-empty bins are
counted value by value. The number of scans does not grow with the number of columns.

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
        per_column = _columns(names, ref, cur, ref_profiles, cur_profiles, stattest, stattest_threshold)
        rows = (ref_profiles[names[0]].rows, cur_profiles[names[0]].rows)
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


def _columns(
    names: list[str],
    ref: AggregateTable,
    cur: AggregateTable,
    ref_profiles: dict[str, ColumnProfile],
    cur_profiles: dict[str, ColumnProfile],
    stattest: str | None,
    stattest_threshold: float | None,
) -> dict[str, dict[str, Any]]:
    """Every column's entry from one counting scan of each table (category counts and fine
    histograms together), plus one more of each for the numeric columns that need finer bins."""
    from govflow.checks.drift._verdict import mostly_missing

    kinds: dict[str, tuple[str, str]] = {}
    for name in names:
        ref_profile, cur_profile = ref_profiles[name], cur_profiles[name]
        for label, profile in (("reference", ref_profile), ("current", cur_profile)):
            if profile.valid == 0:
                raise CheckInputError(f"column {name!r} has only null values in the {label} data")
        kind, feature_type = _evidently_type(name, ref_profile, cur_profile)
        if feature_type == "text" or ref_profile.valid <= SMALL_SAMPLE_ROWS:
            raise CheckInputError(
                f"column {name!r}: Evidently's test for a {kind} column of {ref_profile.valid} reference "
                f"values needs the rows; use engine memory"
            )
        kinds[name] = (kind, feature_type)
    threshold = DEFAULT_THRESHOLD if stattest_threshold is None else float(stattest_threshold)
    categorical = [n for n in names if kinds[n][1] == "cat"]
    ranges = {n: _common_range(ref_profiles[n], cur_profiles[n]) for n in names if kinds[n][1] != "cat"}
    ref_counts = _count(ref, categorical, ranges, FINE_BINS)
    cur_counts = _count(cur, categorical, ranges, FINE_BINS)
    entries: dict[str, dict[str, Any]] = {}
    for name in categorical:
        entries[name] = {
            "method": "jensenshannon",
            "score": _categorical_js(_first_seen(ref_counts[name]), _first_seen(cur_counts[name])),
        }
    coarse: dict[str, tuple[Any, Any]] = {}
    for name in ranges:
        ref_hist, cur_hist = _dense(ref_counts[name], FINE_BINS), _dense(cur_counts[name], FINE_BINS)
        few = _few_values(name, ref, cur, ref_hist, cur_hist, stattest)
        if few is not None:
            entries[name] = few
        else:
            coarse[name] = (ref_hist, cur_hist)
    norms = {name: max(float(ref_profiles[name].std or 0.0), 0.001) for name in coarse}
    for name, (ref_hist, cur_hist) in coarse.items():
        entries[name] = _wasserstein(ref_hist, cur_hist, ranges[name], FINE_BINS, norms[name], threshold)
    refine = {n: ranges[n] for n in coarse if entries[n]["within_bound_of_threshold"]}
    if refine:
        ref_fine, cur_fine = _count(ref, [], refine, REFINED_BINS), _count(cur, [], refine, REFINED_BINS)
        for name in refine:
            ref_hist, cur_hist = _dense(ref_fine[name], REFINED_BINS), _dense(cur_fine[name], REFINED_BINS)
            entries[name] = _wasserstein(
                ref_hist, cur_hist, ranges[name], REFINED_BINS, norms[name], threshold
            )
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        entry, (kind, _) = entries[name], kinds[name]
        ref_profile, cur_profile = ref_profiles[name], cur_profiles[name]
        missing_ref, missing_cur = ref_profile.rows - ref_profile.valid, cur_profile.rows - cur_profile.valid
        out[name] = {
            "drifted": bool(entry["score"] >= threshold),
            "method": entry.pop("method"),
            "score": entry.pop("score"),
            "threshold": threshold,
            "type": kind,
            "missing_reference": missing_ref,
            "missing_current": missing_cur,
            **entry,
        }
        if kind == "boolean" and cur_profile.valid < cur_profile.rows:
            out[name]["note"] = (
                "boolean column with nulls tested as categorical (Evidently's preset skips it as unknown)"
            )
        out[name]["mostly_missing"] = mostly_missing(
            missing_ref / max(ref_profile.rows, 1), missing_cur / max(cur_profile.rows, 1)
        )
    return out


def _common_range(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float]:
    assert ref.minimum is not None and cur.minimum is not None
    assert ref.maximum is not None and cur.maximum is not None
    return min(ref.minimum, cur.minimum), max(ref.maximum, cur.maximum)


def _count(
    table: AggregateTable, categorical: list[str], ranges: dict[str, tuple[float, float]], bins: int
) -> dict[str, list[tuple[Any, int, Any]]]:
    """Exact counts per category (with each value's first row) in one scan, and per histogram
    bin of all numeric columns in another: the first-row ``MIN`` would otherwise be kept for
    every bin of every column too (measured 20% slower as one scan on 1M rows)."""
    out = table.counts_per_key({name: table.value_key(name) for name in categorical}, first_seen=True)
    bins_of = {name: table.bin_key(name, low, high, bins) for name, (low, high) in ranges.items()}
    out.update(table.counts_per_key(bins_of))
    return out


def _first_seen(counts: list[tuple[Any, int, Any]]) -> list[tuple[Any, int]]:
    """(value, count) in the order the values first appear in the table (as in memory)."""
    return [(value, n) for value, n, _ in sorted(counts, key=lambda c: c[2])]


def _dense(counts: list[tuple[Any, int, Any]], bins: int) -> Any:
    import numpy as np

    out = np.zeros(bins, dtype=np.int64)
    for b, n, _ in counts:
        out[int(b)] += n
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


def _few_values(
    name: str, ref: AggregateTable, cur: AggregateTable, ref_hist: Any, cur_hist: Any, stattest: str | None
) -> dict[str, Any] | None:
    """Jensen-Shannon on exact counts when at most 5 values occur (Evidently's numeric rule), else None.

    More than 5 non-empty bins prove more than 5 distinct values without a ``GROUP BY`` over
    every distinct float (which on 100M rows would be a hash table of 100M entries); only a
    column with at most 5 non-empty bins is counted value by value (at most 6 values)."""
    import numpy as np

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
    return None


def _wasserstein(
    ref_hist: Any, cur_hist: Any, span: tuple[float, float], bins: int, norm: float, threshold: float
) -> dict[str, Any]:
    """Evidently's normed Wasserstein distance from two histograms, with its guaranteed bound."""
    low, high = span
    estimate, lower, upper = w1_bounds(ref_hist, cur_hist, (high - low) / bins)
    bound = [lower / norm, upper / norm]
    return {
        "method": "wasserstein",
        "score": estimate / norm,
        "score_bound": bound,
        "histogram_bins": bins,
        "within_bound_of_threshold": bound[0] < threshold <= bound[1],
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
