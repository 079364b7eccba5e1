"""Scoring candidates on held-out rows: the primary metric, the judged disparity, bootstrap intervals.

Point values come from Fairlearn's and scikit-learn's own metric functions
(``equalized_odds_difference``, ``demographic_parity_difference``,
``true_positive_rate_difference``, ``accuracy_score``, ``mean_absolute_error``).
The 95% intervals resample the held-out rows ``bootstrap`` times (seeded, the
same resamples for every candidate, so their intervals compare) and recompute
both numbers from per-group counts (``np.bincount``: the same definitions, at
a fraction of the cost of calling the metric functions per replicate).
The recommendation is the candidate whose disparity is within the policy's
limit with the best primary metric, those whose whole interval is within it
first; when none is, the lowest disparity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# The disparity each constraint controls (the policy judges these by name).
DISPARITY_OF = {
    "equalized_odds": "equalized_odds_difference",
    "demographic_parity": "demographic_parity_difference",
    "true_positive_rate_parity": "true_positive_rate_difference",
    "bounded_group_loss": "worst_group_mean_absolute_error",
}


def point_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, *, constraint: str
) -> tuple[float, float]:
    """(primary metric, disparity) with Fairlearn's and scikit-learn's own functions."""
    import fairlearn.metrics as fm
    from sklearn.metrics import accuracy_score, mean_absolute_error

    if constraint == "bounded_group_loss":
        frame = fm.MetricFrame(
            metrics=mean_absolute_error, y_true=y_true, y_pred=y_pred, sensitive_features=groups
        )
        return float(mean_absolute_error(y_true, y_pred)), float(frame.group_max())
    disparity = getattr(fm, DISPARITY_OF[constraint])(y_true, y_pred, sensitive_features=groups)
    return float(accuracy_score(y_true, y_pred)), float(disparity)


def bootstrap_draws(rows: int, *, replicates: int, seed: int) -> list[np.ndarray]:
    """Row indices of each replicate (resampled with replacement, seeded)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [rng.integers(0, rows, rows) for _ in range(replicates)]


def intervals(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: np.ndarray,
    draws: Sequence[np.ndarray],
    *,
    constraint: str,
) -> dict[str, list[float] | None]:
    """95% percentile intervals of the primary metric and the disparity over ``draws``."""
    import numpy as np

    if not draws:
        return {"primary": None, "disparity": None}
    values = np.array([_fast(y_true[d], y_pred[d], codes[d], constraint) for d in draws])
    low, high = np.nanpercentile(values, [2.5, 97.5], axis=0)
    return {
        "primary": [round(float(low[0]), 4), round(float(high[0]), 4)],
        "disparity": [round(float(low[1]), 4), round(float(high[1]), 4)],
    }


def _fast(y_true: np.ndarray, y_pred: np.ndarray, codes: np.ndarray, constraint: str) -> tuple[float, float]:
    import numpy as np

    k = int(codes.max()) + 1
    if constraint == "bounded_group_loss":
        err = np.abs(y_true - y_pred)
        n = np.bincount(codes, minlength=k)
        per = np.bincount(codes, weights=err, minlength=k)[n > 0] / n[n > 0]
        return float(err.mean()), float(per.max())
    accuracy = float(np.mean(y_true == y_pred))
    pos, pred = y_true.astype(bool), y_pred.astype(bool)
    if constraint == "demographic_parity":
        rate = _group_rates(codes, pred, np.ones(len(pred), dtype=bool), k)
        return accuracy, _spread(rate)
    tpr = _spread(_group_rates(codes, pred, pos, k))
    if constraint == "true_positive_rate_parity":
        return accuracy, tpr
    return accuracy, max(tpr, _spread(_group_rates(codes, pred, ~pos, k)))


def _group_rates(codes: np.ndarray, hits: np.ndarray, within: np.ndarray, k: int) -> np.ndarray:
    import numpy as np

    n = np.bincount(codes[within], minlength=k)
    h = np.bincount(codes[within], weights=hits[within], minlength=k)
    return h[n > 0] / n[n > 0]


def _spread(rates: np.ndarray) -> float:
    return float(rates.max() - rates.min()) if len(rates) else float("nan")


def recommend(
    candidates: list[dict[str, Any]],
    *,
    baseline: dict[str, Any],
    limit: float | None,
    lower_is_better: bool,
    primary_name: str,
) -> dict[str, Any]:
    """The candidate to adopt and its cost against the unmitigated model."""
    fit = [c for c in candidates if limit is not None and c["disparity"] <= limit]
    # A candidate whose whole 95% interval is within the limit beats one that is only on average.
    sure = [c for c in fit if (c["intervals"]["disparity"] or [0, c["disparity"]])[1] <= (limit or 0)]
    fit = sure or fit
    if fit:
        sign = -1 if lower_is_better else 1
        best = max(fit, key=lambda c: (sign * c["primary_metric"], -c["disparity"]))
        why = f"the best {primary_name} among the candidates within the policy's limit ({limit})"
    elif candidates:
        best = min(candidates, key=lambda c: (c["disparity"], -c["primary_metric"]))
        why = "no candidate is within the policy's limit: the lowest disparity"
    else:
        return {"candidate": None, "why": "no candidate could be evaluated"}
    cost = best["primary_metric"] - baseline["primary_metric"]
    cost = -cost if not lower_is_better else cost
    return {
        "candidate": best["name"],
        "method": best["method"],
        "why": why,
        "within_limit": bool(fit),
        "disparity": best["disparity"],
        "disparity_before": baseline["disparity"],
        "primary_metric": best["primary_metric"],
        "primary_metric_before": baseline["primary_metric"],
        # Positive: the primary metric gets worse by this much (accuracy points lost, MAE gained).
        "cost": round(cost, 4),
        "needs_sensitive_feature_at_prediction": best["needs_sensitive_feature_at_prediction"],
    }
