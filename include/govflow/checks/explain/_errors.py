"""Per-group error analysis: where the worst-off group's errors concentrate.

For each fairness rate, the worst-off group (lowest selection rate, highest
false negative or false positive rate, lowest accuracy) gets a small table of
the feature slices that hold more of its errors than the rest of the group:
the slice, its share of the group's errors, its error rate against the rest of
the group, and the same slice's error rate in the other groups (so a reviewer
sees whether a slice is hard for everyone or only for this group).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from govflow.checks.explain._bins import Slices

if TYPE_CHECKING:
    import numpy as np

# (rate, fairness metric it feeds, which end is worse, rows it is measured on, what an error is there)
RATES: tuple[tuple[str, str, str, str, str], ...] = (
    ("selection_rate", "demographic_parity_difference", "low", "positives", "false negatives"),
    ("false_negative_rate", "equalized_odds_difference", "high", "positives", "false negatives"),
    ("false_positive_rate", "equalized_odds_difference", "high", "negatives", "false positives"),
    ("accuracy", "accuracy_difference", "low", "all", "errors"),
)
POPULATIONS = {
    "positives": "rows whose true label is positive",
    "negatives": "rows whose true label is negative",
    "all": "all rows",
}


def error_analysis(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    slices: Sequence[Slices],
    *,
    eligible: Sequence[str],
    max_slices: int = 5,
    min_slice_rows: int = 10,
    min_gap: float = 0.01,
) -> list[dict[str, Any]]:
    """One entry per (worst-off group, kind of error), each with its top slices.

    A rate on which the worst-off group is within ``min_gap`` of the other groups is skipped.
    """

    entries: dict[tuple[str, str], dict[str, Any]] = {}
    wrong = y_true != y_pred
    for rate, fairness_metric, worse, population, error_kind in RATES:
        rates = {g: _rate(rate, y_true[groups == g], y_pred[groups == g]) for g in eligible}
        values = {g: v for g, v in rates.items() if v is not None}
        if len(values) < 2 or len(set(values.values())) < 2:
            continue
        pick = min if worse == "low" else max
        group = pick(sorted(values), key=lambda g: values[g])
        others = groups != group
        rest = _rate(rate, y_true[others], y_pred[others])
        if rest is None or abs(values[group] - rest) < min_gap:
            continue  # no group is worse off on this rate: nothing to explain
        metric = {
            "metric": rate,
            "fairness_metric": fairness_metric,
            "value": _r(values[group]),
            "other_groups": _r(rest),
        }
        key = (group, population)
        if key in entries:
            entries[key]["metrics"].append(metric)
            continue
        in_population = _population(population, y_true)
        mine = (groups == group) & in_population
        theirs = others & in_population
        errors = int(wrong[mine].sum())
        entries[key] = {
            "group": group,
            "errors": error_kind,
            "population": POPULATIONS[population],
            "metrics": [metric],
            "rows": int(mine.sum()),
            "error_count": errors,
            "error_rate": _r(errors / max(1, int(mine.sum()))),
            "error_rate_other_groups": _r(wrong[theirs].sum() / theirs.sum()) if theirs.any() else None,
            "slices": _top_slices(
                slices, wrong, mine, theirs, max_slices=max_slices, min_slice_rows=min_slice_rows
            )
            if errors
            else [],
        }
    return list(entries.values())


def _top_slices(
    slices: Sequence[Slices],
    wrong: np.ndarray,
    mine: np.ndarray,
    theirs: np.ndarray,
    *,
    max_slices: int,
    min_slice_rows: int,
) -> list[dict[str, Any]]:
    """The best slice of each feature by excess errors (beyond the rest of the group's rate), best first."""
    import numpy as np

    total_rows = int(mine.sum())
    total_errors = int(wrong[mine].sum())
    # A slice must be big enough that its rate means something, relative to the group's size.
    floor = max(min_slice_rows, int(np.ceil(0.02 * total_rows)))
    best: list[dict[str, Any]] = []
    for feature in slices:
        n = np.bincount(feature.codes[mine], minlength=feature.count)
        e = np.bincount(feature.codes[mine], weights=wrong[mine], minlength=feature.count)
        n_other = np.bincount(feature.codes[theirs], minlength=feature.count)
        e_other = np.bincount(feature.codes[theirs], weights=wrong[theirs], minlength=feature.count)
        candidate: dict[str, Any] | None = None
        for code in range(feature.count):
            rest_rows = total_rows - n[code]
            if n[code] < floor or rest_rows < floor or e[code] < 2:
                continue
            rate = e[code] / n[code]
            rest_rate = (total_errors - e[code]) / rest_rows
            excess = e[code] - n[code] * rest_rate
            if rate <= rest_rate or (candidate is not None and excess <= candidate["_excess"]):
                continue
            candidate = {
                "feature": feature.feature,
                "slice": feature.labels[code],
                "rows": int(n[code]),
                "errors": int(e[code]),
                "share_of_errors": _r(e[code] / total_errors),
                "error_rate": _r(rate),
                "error_rate_rest": _r(rest_rate),
                "error_rate_other_groups": _r(e_other[code] / n_other[code])
                if n_other[code] >= floor
                else None,
                "_excess": float(excess),
            }
        if candidate is not None:
            best.append(candidate)
    best.sort(key=lambda c: (-c["_excess"], c["feature"]))
    for candidate in best:
        candidate["excess_errors"] = round(candidate.pop("_excess"), 1)
    return best[:max_slices]


def _population(population: str, y_true: np.ndarray) -> np.ndarray:
    import numpy as np

    if population == "positives":
        return y_true.astype(bool)
    if population == "negatives":
        return ~y_true.astype(bool)
    return np.ones(len(y_true), dtype=bool)


def _rate(rate: str, y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    import numpy as np

    if rate == "selection_rate":
        return float(np.mean(y_pred)) if len(y_pred) else None
    if rate == "accuracy":
        return float(np.mean(y_true == y_pred)) if len(y_pred) else None
    if rate == "false_negative_rate":
        positives = y_true.astype(bool)
        return float(np.mean(~y_pred[positives])) if positives.any() else None
    negatives = ~y_true.astype(bool)
    return float(np.mean(y_pred[negatives])) if negatives.any() else None


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
