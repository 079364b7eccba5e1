"""Per-group error analysis: where the worst-off group's error rate differs, not where its errors are.

For each fairness rate, the worst-off group (lowest selection rate, highest
false negative or false positive rate, lowest accuracy) gets the feature slices
ranked by how much they *differ*:

1. each slice's error rate against the rest of the group (``lift``) and
   against the same slice in the other groups (``lift_other_groups``);
2. the rank is the geometric mean of the two lifts (the first alone when the
   slice is too small in the other groups), each on counts with half an error
   added, so a rest without errors still ranks and a handful of rows does not win;
3. a slice holding more than half the group describes the group itself (the
   ``juv_fel_count <= 0`` of 941 of 966 rows): it is listed as ``context``,
   never as a finding;
4. each feature's best slice is a candidate; the best cell of two candidate
   features crossed is added when it differs ``PAIR_GAIN`` times more than
   either feature alone (an interaction a single feature misses).
Slices smaller than 2% of the group (or ``min_slice_rows``) are not reported.
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
# A slice holding more than this share of the group describes the group, not a part of it: context.
CONTEXT_SHARE = 0.5
# A two-feature slice is reported when it differs this many times more than either feature's best slice.
PAIR_GAIN = 1.25
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
            **slice_findings(
                slices, wrong, mine, theirs, max_slices=max_slices, min_slice_rows=min_slice_rows
            ),
        }
    return list(entries.values())


def slice_findings(
    slices: Sequence[Slices],
    wrong: np.ndarray,
    mine: np.ndarray,
    theirs: np.ndarray,
    *,
    max_slices: int,
    min_slice_rows: int,
    max_pairs_features: int = 6,
) -> dict[str, list[dict[str, Any]]]:
    """``slices``: where the group's error rate differs most, best first; ``context``: over half of it.

    Each feature's slice with the highest difference score is a candidate; then
    pairs of the candidates' features, crossed, whose best cell differs at least
    ``PAIR_GAIN`` times more than either feature's own best slice.
    """
    total_rows = int(mine.sum())
    total_errors = int(wrong[mine].sum())
    if not total_errors:
        return {"slices": [], "context": []}
    floor = _floor(total_rows, min_slice_rows)
    found: list[dict[str, Any]] = []
    context: list[dict[str, Any]] = []
    for feature in slices:
        best, big = _best_cell(
            feature.feature,
            feature.codes,
            feature.labels,
            wrong,
            mine,
            theirs,
            floor,
            total_rows,
            total_errors,
        )
        if best is not None:
            found.append(best)
        context.extend(big)
    found.sort(key=_order)
    singles = {c["feature"]: c for c in found}
    by_name = {s.feature: s for s in slices}
    names = [c["feature"] for c in found[:max_pairs_features]]
    pairs: list[dict[str, Any]] = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            fa, fb = by_name[a], by_name[b]
            codes = fa.codes * fb.count + fb.codes
            labels = tuple(f"{la} and {lb}" for la in fa.labels for lb in fb.labels)
            best, _ = _best_cell(
                f"{a} & {b}", codes, labels, wrong, mine, theirs, floor, total_rows, total_errors
            )
            if (
                best is not None
                and best["_score"] >= PAIR_GAIN * max(singles[a]["_score"], singles[b]["_score"])
                and _adds_to_both(best["_code"], codes, fa.codes, fb.codes, wrong, mine)
            ):
                pairs.append(best)
    ranked = sorted(found + pairs, key=_order)[:max_slices]
    context.sort(key=lambda c: (-c["share_of_group"], c["slice"]))
    for candidate in ranked + context:
        candidate.pop("_score", None)
        candidate.pop("_code", None)
    return {"slices": ranked, "context": context[:max_slices]}


def _floor(total_rows: int, min_slice_rows: int) -> int:
    import numpy as np

    # A slice must be big enough that its rate means something, relative to the group's size.
    return max(min_slice_rows, int(np.ceil(0.02 * total_rows)))


def _best_cell(
    feature: str,
    codes: np.ndarray,
    labels: Sequence[str],
    wrong: np.ndarray,
    mine: np.ndarray,
    theirs: np.ndarray,
    floor: int,
    total_rows: int,
    total_errors: int,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The cell of ``codes`` whose error rate differs most (over half the group: context instead)."""
    import numpy as np

    count = len(labels)
    n = np.bincount(codes[mine], minlength=count)
    e = np.bincount(codes[mine], weights=wrong[mine], minlength=count)
    n_other = np.bincount(codes[theirs], minlength=count)
    e_other = np.bincount(codes[theirs], weights=wrong[theirs], minlength=count)
    best: dict[str, Any] | None = None
    context: list[dict[str, Any]] = []
    for code in range(count):
        rest_rows = total_rows - int(n[code])
        if n[code] < floor or e[code] < 2:
            continue
        rate = e[code] / n[code]
        rest_errors = total_errors - e[code]
        rest_rate = rest_errors / rest_rows if rest_rows else None
        if rest_rate is not None and rate <= rest_rate:
            continue
        other_rate = e_other[code] / n_other[code] if n_other[code] >= floor else None
        cell = {
            "feature": feature,
            "slice": labels[code],
            "rows": int(n[code]),
            "share_of_group": _r(n[code] / total_rows),
            "errors": int(e[code]),
            "share_of_errors": _r(e[code] / total_errors),
            "error_rate": _r(rate),
            "error_rate_rest": _r(rest_rate),
            "error_rate_other_groups": _r(other_rate),
            "lift": _r(rate / rest_rate) if rest_rate else None,
            "lift_other_groups": _r(rate / other_rate) if other_rate else None,
            "excess_errors": round(float(e[code] - n[code] * (rest_rate or 0.0)), 1),
        }
        if n[code] > CONTEXT_SHARE * total_rows:
            context.append(cell)
            continue
        if rest_rows < floor:
            continue
        # Half an error added to each side: a rest without errors still ranks, and tiny counts rank lower.
        lift = (e[code] + 0.5) / (n[code] + 1) / ((rest_errors + 0.5) / (rest_rows + 1))
        if other_rate is not None:
            other = (e[code] + 0.5) / (n[code] + 1) / ((e_other[code] + 0.5) / (n_other[code] + 1))
            lift = float(np.sqrt(lift * max(other, 1e-9)))
        cell["_score"] = float(lift)
        cell["_code"] = code
        if best is None or cell["_score"] > best["_score"]:
            best = cell
    return best, context


def _adds_to_both(
    code: int, codes: np.ndarray, a: np.ndarray, b: np.ndarray, wrong: np.ndarray, mine: np.ndarray
) -> bool:
    """The crossed cell's error rate is ``PAIR_GAIN`` times, and significantly (z >= 2), above the rest
    of each of its two single-feature slices: the second feature says something the first does not."""
    import numpy as np

    cell = mine & (codes == code)
    rate = wrong[cell].mean()
    for parent in (a, b):
        rest = mine & (parent == parent[cell][0]) & ~cell
        if not rest.any():
            return False
        other = wrong[rest].mean()
        pooled = wrong[cell | rest].mean()
        spread = np.sqrt(pooled * (1 - pooled) * (1 / cell.sum() + 1 / rest.sum()))
        if rate < PAIR_GAIN * other or spread == 0 or (rate - other) / spread < 2:
            return False
    return True


def _order(cell: dict[str, Any]) -> tuple[float, float, str, str]:
    return (-cell["_score"], -cell["excess_errors"], cell["feature"], cell["slice"])


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
