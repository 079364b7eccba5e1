"""Group metrics and disparities of every task, in numpy, over per-group sufficient statistics.

Each metric is a function of small per-group arrays, so one pass over the rows
(``np.bincount``) is all the row-level work, and the same functions run on
bootstrap replicates (extra leading axes) for the intervals:

- binary and multiclass: confusion counts ``(..., groups, K, K)`` [true, predicted];
  rates are ratios of integer counts, the same ratios Fairlearn's ``MetricFrame``
  computes (an empty denominator gives 0, as Fairlearn's confusion-matrix rates do);
- regression: ``(..., groups, 4)`` = rows, sum of predictions, sum of absolute
  errors, sum of squared errors (Fairlearn's ``mean_prediction``, scikit-learn's
  MAE and RMSE, per group).

A disparity is the largest minus the smallest value over the groups kept
(``between_groups``); multiclass takes the largest over the classes, one-vs-rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

REGRESSION_METRICS = ("mean_prediction", "mean_absolute_error", "root_mean_squared_error")
BINARY_METRICS = (
    "selection_rate",
    "accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
)


def class_counts(codes: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_groups: int, k: int) -> Any:
    """Rows per (group, true class, predicted class): shape (groups, k, k)."""
    import numpy as np

    cell = (codes * k + y_true) * k + y_pred
    return np.bincount(cell, minlength=n_groups * k * k).reshape(n_groups, k, k)


def regression_sums(codes: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_groups: int) -> Any:
    """Per group: rows, sum of predictions, sum of |error|, sum of error^2: shape (groups, 4)."""
    import numpy as np

    error = y_pred - y_true
    return np.stack(
        [
            np.bincount(codes, minlength=n_groups).astype(np.float64),
            np.bincount(codes, weights=y_pred, minlength=n_groups),
            np.bincount(codes, weights=np.abs(error), minlength=n_groups),
            np.bincount(codes, weights=error * error, minlength=n_groups),
        ],
        axis=-1,
    )


def _ratio(num: Any, den: Any) -> Any:
    import numpy as np

    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def binary_metrics(counts: Any) -> dict[str, Any]:
    """counts (..., groups, 2, 2) -> {metric: (..., groups)}."""
    tn, fp, fn, tp = counts[..., 0, 0], counts[..., 0, 1], counts[..., 1, 0], counts[..., 1, 1]
    n = tn + fp + fn + tp
    return {
        "selection_rate": _ratio(fp + tp, n),
        "accuracy": _ratio(tp + tn, n),
        "true_positive_rate": _ratio(tp, tp + fn),
        "false_positive_rate": _ratio(fp, fp + tn),
        "false_negative_rate": _ratio(fn, tp + fn),
    }


def binary_disparities(metrics: dict[str, Any], keep: Any) -> dict[str, Any]:
    import numpy as np

    rate = metrics["selection_rate"][..., keep]
    low, high = rate.min(axis=-1), rate.max(axis=-1)
    return {
        "demographic_parity_difference": high - low,
        "demographic_parity_ratio": np.divide(low, high, out=np.zeros_like(high), where=high > 0),
        "equalized_odds_difference": np.maximum(
            _spread(metrics["true_positive_rate"], keep), _spread(metrics["false_positive_rate"], keep)
        ),
    }


def multiclass_metrics(counts: Any, classes: list[Any]) -> dict[str, Any]:
    """counts (..., groups, K, K) -> accuracy and one-vs-rest rates per class: {metric: (..., groups)}."""
    import numpy as np

    n = counts.sum(axis=(-1, -2))
    tp = np.diagonal(counts, axis1=-2, axis2=-1)  # (..., groups, K)
    actual = counts.sum(axis=-1)
    predicted = counts.sum(axis=-2)
    negatives = n[..., None] - actual
    out = {"accuracy": _ratio(tp.sum(axis=-1), n)}
    selection = _ratio(predicted, n[..., None])
    tpr = _ratio(tp, actual)
    fpr = _ratio(predicted - tp, negatives)
    for i, name in enumerate(classes):
        out[f"selection_rate.{name}"] = selection[..., i]
    for i, name in enumerate(classes):
        out[f"true_positive_rate.{name}"] = tpr[..., i]
    for i, name in enumerate(classes):
        out[f"false_positive_rate.{name}"] = fpr[..., i]
    return out


def multiclass_disparities(metrics: dict[str, Any], classes: list[Any], keep: Any) -> dict[str, Any]:
    import numpy as np

    dpd = np.max([_spread(metrics[f"selection_rate.{c}"], keep) for c in classes], axis=0)
    eod = np.max(
        [
            np.maximum(
                _spread(metrics[f"true_positive_rate.{c}"], keep),
                _spread(metrics[f"false_positive_rate.{c}"], keep),
            )
            for c in classes
        ],
        axis=0,
    )
    return {
        "demographic_parity_difference": dpd,
        "equalized_odds_difference": eod,
        "accuracy_difference": _spread(metrics["accuracy"], keep),
    }


def regression_metrics(sums: Any) -> dict[str, Any]:
    """sums (..., groups, 4) -> {metric: (..., groups)}."""
    import numpy as np

    n = sums[..., 0]
    return {
        "mean_prediction": _ratio(sums[..., 1], n),
        "mean_absolute_error": _ratio(sums[..., 2], n),
        "root_mean_squared_error": np.sqrt(_ratio(sums[..., 3], n)),
    }


def regression_disparities(metrics: dict[str, Any], keep: Any) -> dict[str, Any]:
    """Differences between groups, and the bounded-group-loss view (the worst group's loss)."""
    return {
        "mean_prediction_difference": _spread(metrics["mean_prediction"], keep),
        "mean_absolute_error_difference": _spread(metrics["mean_absolute_error"], keep),
        "root_mean_squared_error_difference": _spread(metrics["root_mean_squared_error"], keep),
        "worst_group_mean_absolute_error": metrics["mean_absolute_error"][..., keep].max(axis=-1),
    }


def _spread(values: Any, keep: Any) -> Any:
    kept = values[..., keep]
    return kept.max(axis=-1) - kept.min(axis=-1)
