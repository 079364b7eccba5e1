"""Per-group base rates and score calibration, and which fairness criteria can hold together.

1. Base rate per group: the share of positive labels (binary), the share of
   each class (multiclass, one-vs-rest), or the mean label (regression).
2. Calibration per group, when a score (the positive class's probability) is
   registered or the model gives one: the mean score against the base rate and
   the expected calibration error over ten equal-width score bins
   (sum over bins of ``rows/n * |mean score - positive rate|``).
3. When the base rates of the analysed groups differ by ``min_gap`` or more
   (binary and multiclass: absolute share; regression: a tenth of the label's
   standard deviation), a sentence says which criteria cannot all hold: with
   unequal base rates an imperfect classifier cannot be calibrated within
   groups and have equal error rates (equalized odds) at once (Kleinberg,
   Mullainathan and Raghavan 2016; Chouldechova 2017), and equal selection rates
   (demographic parity) rule out calibration, and equalized odds unless the
   classifier is useless (Barocas, Hardt and Narayanan, *Fairness and Machine
   Learning*, ch. 3: independence, separation and sufficiency are pairwise
   incompatible when the label depends on the group). Regression is the same
   statement over equal mean predictions, equal errors and calibration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

CALIBRATION_BINS = 10
MIN_GAP = 0.02
REGRESSION_GAP_STD = 0.1


def base_rates(
    y_true: np.ndarray,
    groups: np.ndarray,
    *,
    eligible: Sequence[str],
    task: str,
    scores: np.ndarray | None = None,
    min_gap: float = MIN_GAP,
) -> dict[str, Any]:
    """Base rates (and calibration with ``scores``) per eligible group, the largest gap and its meaning.

    ``y_true`` is boolean (binary: the label is the positive one), the class labels
    (multiclass) or numbers (regression).
    """
    import numpy as np

    by_group: dict[str, dict[str, Any]] = {}
    gap: dict[str, Any] | None = None
    if task == "regression":
        values = y_true.astype(np.float64)
        for g in eligible:
            mine = values[groups == g]
            by_group[g] = {"rows": len(mine), "mean_label": _r(float(mine.mean()))}
        means = {g: by_group[g]["mean_label"] for g in by_group}
        gap = _gap(means, "mean label")
        scale = float(values.std())
        differ = gap is not None and gap["difference"] >= REGRESSION_GAP_STD * scale > 0
    elif task == "multiclass":
        classes = sorted(set(y_true.astype(str).tolist()))
        labels = y_true.astype(str)
        for g in eligible:
            mine = labels[groups == g]
            by_group[g] = {
                "rows": len(mine),
                "class_shares": {c: _r(float(np.mean(mine == c))) for c in classes},
            }
        for c in classes:
            shares = {g: by_group[g]["class_shares"][c] for g in by_group}
            candidate = _gap(shares, f"share of class {c}")
            if candidate is not None and (gap is None or candidate["difference"] > gap["difference"]):
                gap = candidate
        differ = gap is not None and gap["difference"] >= min_gap
    else:
        positive = y_true.astype(bool)
        for g in eligible:
            mine = groups == g
            entry: dict[str, Any] = {"rows": int(mine.sum()), "base_rate": _r(float(positive[mine].mean()))}
            if scores is not None:
                entry["calibration"] = calibration(positive[mine], scores[mine])
            by_group[g] = entry
        gap = _gap({g: by_group[g]["base_rate"] for g in by_group}, "positive label rate")
        differ = gap is not None and gap["difference"] >= min_gap
    out: dict[str, Any] = {
        "task": task,
        "by_group": by_group,
        "largest_gap": gap,
        "differ": bool(differ),
        "calibration_bins": CALIBRATION_BINS if scores is not None and task == "binary" else None,
    }
    out["criteria"] = criteria_sentence(out) if differ else None
    return out


def calibration(positive: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """Mean score, positive rate and expected calibration error (ten equal-width bins) of one group."""
    import numpy as np

    scores = np.clip(scores.astype(np.float64), 0.0, 1.0)
    bins = np.minimum((scores * CALIBRATION_BINS).astype(np.int64), CALIBRATION_BINS - 1)
    n = np.bincount(bins, minlength=CALIBRATION_BINS)
    score_sum = np.bincount(bins, weights=scores, minlength=CALIBRATION_BINS)
    hits = np.bincount(bins, weights=positive.astype(np.float64), minlength=CALIBRATION_BINS)
    used = n > 0
    ece = float(np.sum(np.abs(score_sum[used] - hits[used])) / max(1, len(scores)))
    return {
        "mean_score": _r(float(scores.mean())) if len(scores) else None,
        "positive_rate": _r(float(positive.mean())) if len(scores) else None,
        "expected_calibration_error": _r(ece),
    }


def criteria_sentence(rates: dict[str, Any]) -> str:
    """The plain statement of which fairness criteria cannot all hold for these base rates."""
    gap = rates["largest_gap"]
    numbers = (
        f"{gap['what']} {gap['high']:.2f} for {gap['high_group']} vs {gap['low']:.2f} for {gap['low_group']}"
    )
    if rates["task"] == "regression":
        return (
            f"Base rates differ ({numbers}): equal mean predictions across groups, equal errors across "
            "groups and calibration within each group cannot all hold at once; "
            "pick the one the policy judges."
        )
    return (
        f"Base rates differ ({numbers}): unless the model is perfect, equalized odds (equal error rates) "
        "and calibration within each group cannot both hold, and demographic parity (equal selection "
        "rates) rules out calibration, and equalized odds too for any useful model; "
        "pick the criterion the policy judges and expect the others to move."
    )


def _gap(values: dict[str, Any], what: str) -> dict[str, Any] | None:
    present = {g: v for g, v in values.items() if v is not None}
    if len(present) < 2:
        return None
    high = max(sorted(present), key=present.__getitem__)
    low = min(sorted(present), key=present.__getitem__)
    return {
        "what": what,
        "high_group": high,
        "high": present[high],
        "low_group": low,
        "low": present[low],
        "difference": _r(present[high] - present[low]),
    }


def _r(value: float) -> float:
    return round(float(value), 4)
