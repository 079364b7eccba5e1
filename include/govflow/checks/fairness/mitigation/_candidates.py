"""Fitting the candidates with Fairlearn's own API, each kept as data a challenger file can hold.

- ``threshold``: ``ThresholdOptimizer`` (prefit on the model, ``predict_proba``),
  its interpolated thresholder's per-group rules copied out as plain numbers;
- ``reductions``: ``ExponentiatedGradient`` with the constraint's moment for
  classifiers (its predictors with non-zero weight, and the weights), or
  ``GridSearch`` with ``BoundedGroupLoss(AbsoluteLoss)`` for regressors (its best
  predictor, a plain estimator); ``sample_weight`` is routed to a pipeline's last step;
- ``reweight``: the model refitted with weights that make group and label
  independent in the training data (Kamiran and Calders 2012).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError
from govflow.checks.fairness.mitigation.predictor import challenger_data, threshold_spec

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def fit_threshold(
    model: Any,
    x: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    constraint: str,
    sensitive: Sequence[str],
    seed: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fairlearn's ThresholdOptimizer (prefit, predict_proba) and its interpolated thresholder as data."""
    from fairlearn.postprocessing import ThresholdOptimizer

    if constraint == "bounded_group_loss":
        raise CheckInputError(
            "bounded_group_loss is a regression constraint: ThresholdOptimizer cannot use it"
        )
    optimizer = ThresholdOptimizer(
        estimator=model, constraints=constraint, prefit=True, predict_method="predict_proba"
    )
    optimizer.fit(x, y, sensitive_features=groups)
    groups_spec = threshold_spec(optimizer.interpolated_thresholder_.interpolation_dict)
    data = challenger_data(
        method="threshold",
        constraint=constraint,
        sensitive=sensitive,
        random_state=seed,
        base=model,
        groups=groups_spec,
    )
    params = {
        "estimator": "fairlearn.postprocessing.ThresholdOptimizer",
        "constraints": constraint,
        "objective": "accuracy_score",
        "predict_method": "predict_proba",
        "prefit": True,
        "random_state": seed,
        "groups": {g: {k: _json_number(v) for k, v in r.items()} for g, r in groups_spec.items()},
    }
    return data, params


def fit_reductions(
    model: Any,
    x: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    constraint: str,
    sensitive: Sequence[str],
    seed: int,
    max_iter: int,
    limit: float | None,
) -> tuple[Any, dict[str, Any]]:
    """ExponentiatedGradient (classification) or GridSearch with BoundedGroupLoss (regression)."""
    from fairlearn import reductions as red
    from sklearn.base import clone

    weight_name = sample_weight_name(model)
    if constraint == "bounded_group_loss":
        bound = float(limit) if limit is not None else float(abs(y - y.mean()).mean())
        moment = red.BoundedGroupLoss(red.AbsoluteLoss(float(y.min()), float(y.max())), upper_bound=bound)
        search = red.GridSearch(
            clone(model), constraints=moment, grid_size=10, sample_weight_name=weight_name
        )
        search.fit(x, y, sensitive_features=groups)
        best = search.predictors_[search.best_idx_]
        return best, {
            "estimator": "fairlearn.reductions.GridSearch",
            "constraints": "BoundedGroupLoss(AbsoluteLoss)",
            "upper_bound": bound,
            "grid_size": 10,
            "sample_weight_name": weight_name,
        }
    moments = {
        "equalized_odds": red.EqualizedOdds,
        "demographic_parity": red.DemographicParity,
        "true_positive_rate_parity": red.TruePositiveRateParity,
    }
    gradient = red.ExponentiatedGradient(
        clone(model), constraints=moments[constraint](), max_iter=max_iter, sample_weight_name=weight_name
    )
    gradient.fit(x, y, sensitive_features=groups)
    used = [(gradient.predictors_[i], float(w)) for i, w in gradient.weights_.items() if w > 0]
    data = challenger_data(
        method="reductions",
        constraint=constraint,
        sensitive=sensitive,
        random_state=seed,
        predictors=[p for p, _ in used],
        weights=[w for _, w in used],
    )
    params = {
        "estimator": "fairlearn.reductions.ExponentiatedGradient",
        "constraints": type(gradient.constraints).__name__,
        "eps": gradient.eps,
        "max_iter": max_iter,
        "sample_weight_name": weight_name,
        "predictors": len(used),
        "weights": [round(w, 6) for _, w in used],
        "random_state": seed,
    }
    return data, params


def fit_reweighted(
    model: Any, x: pd.DataFrame, y: np.ndarray, groups: np.ndarray, *, regression: bool
) -> tuple[Any, dict[str, Any]]:
    """The model refitted with weights that make group and label independent in the training data."""
    from sklearn.base import clone

    weights = reweighing_weights(y, groups, regression=regression)
    name = sample_weight_name(model)
    refit = clone(model).fit(x, y, **{name: weights})
    return refit, {
        "estimator": "reweighing (Kamiran and Calders 2012)" if not regression else "group-balanced weights",
        "sample_weight_name": name,
        "weight_range": [round(float(weights.min()), 4), round(float(weights.max()), 4)],
    }


def reweighing_weights(y: np.ndarray, groups: np.ndarray, *, regression: bool) -> np.ndarray:
    """``P(group) P(label) / P(group, label)`` per row; regression: ``1 / (k P(group))``."""
    import numpy as np

    g_keys, g_codes = np.unique(groups, return_inverse=True)
    n = len(y)
    p_group = np.bincount(g_codes) / n
    if regression:
        return 1.0 / (len(g_keys) * p_group[g_codes])
    y_codes = np.asarray(y, dtype=np.int64)
    joint = np.bincount(g_codes * 2 + y_codes, minlength=2 * len(g_keys)) / n
    p_label = np.bincount(y_codes, minlength=2) / n
    return p_group[g_codes] * p_label[y_codes] / joint[g_codes * 2 + y_codes]


def sample_weight_name(model: Any) -> str:
    """Where ``sample_weight`` goes: a pipeline's last step (``step__sample_weight``) or the estimator."""
    steps = getattr(model, "steps", None)
    return f"{steps[-1][0]}__sample_weight" if steps else "sample_weight"


def _json_number(value: Any) -> Any:
    import math

    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value
