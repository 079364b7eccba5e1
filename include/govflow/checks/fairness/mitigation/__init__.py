"""Measuring fairness mitigations before anyone retrains, and writing the chosen one as data.

``mitigate`` takes a fitted scikit-learn model, its eval data (and, when
registered, its training data) and:

1. splits the eval rows in two, seeded and stratified by group and label:
   ``fit`` rows (post-processing is fitted there) and ``held_out`` rows
   (every candidate is scored there, never on rows it was fitted on);
2. fits candidates with Fairlearn's own API and the policy's constraint:
   ``threshold`` (``ThresholdOptimizer``, prefit on the model, on the fit rows),
   ``reductions`` (``ExponentiatedGradient`` for classifiers; ``GridSearch``
   with ``BoundedGroupLoss`` for regressors; on the training data, else the
   fit rows) and ``reweight`` (the training data reweighted so group and label
   are independent, Kamiran and Calders 2012, and the model refitted; only
   with training data);
3. scores the unmitigated model and each candidate on the held-out rows: the
   primary metric (accuracy; mean absolute error for regression) and the
   disparity the policy judges, with seeded bootstrap 95% intervals
   (``_frontier``), and recommends one with its cost;
4. keeps each candidate as data (``_predictor``): the base model plus
   per-group thresholds, or the reductions' predictors and their weights, so
   a challenger is a skops file the high tier accepts.

Only counts and rates leave this module, never a row.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError, library_versions
from govflow.checks.fairness.mitigation._frontier import (
    DISPARITY_OF,
    bootstrap_draws,
    intervals,
    point_metrics,
    recommend,
)
from govflow.checks.fairness.mitigation._predictor import (
    FORMAT,
    MitigatedModel,
    challenger_data,
    group_vector,
    is_mitigation,
    threshold_spec,
)
from govflow.checks.model_predictions import positive_class

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "CONSTRAINTS",
    "FORMAT",
    "LEGAL_NOTE",
    "METHODS",
    "MitigatedModel",
    "Mitigation",
    "fix_text",
    "is_mitigation",
    "mitigate",
]

METHODS = ("threshold", "reductions", "reweight")
CONSTRAINTS = tuple(DISPARITY_OF)
LIBRARIES = ("fairlearn", "scikit-learn", "numpy", "pandas")
ENGINE = "govflow.checks.fairness.mitigation"
LEGAL_NOTE = (
    "ThresholdOptimizer applies a different threshold to each group, so it reads every person's "
    "sensitive attribute when it predicts. Treating people differently because of a protected "
    "characteristic is direct discrimination under EU non-discrimination law (Directives 2000/43/EC, "
    "2000/78/EC, 2004/113/EC, 2006/54/EC; Charter Art. 21) and disparate treatment in US terms, unless "
    "a positive-action exception applies; processing race or ethnic origin also needs an Art. 9 GDPR "
    "ground. Take legal advice before deploying it. Reductions and reweighting use the attribute only "
    "to train."
)


@dataclass
class Mitigation:
    """The evidence (JSON-safe) and each candidate's challenger object (a data dict or an estimator)."""

    evidence: dict[str, Any]
    challengers: dict[str, Any] = field(default_factory=dict)


def mitigate(
    eval_data: pd.DataFrame,
    *,
    model: Any,
    label: str,
    sensitive: Sequence[str],
    positive_label: Any = None,
    task: str = "binary",
    training_data: pd.DataFrame | None = None,
    methods: Sequence[str] = METHODS,
    constraint: str | None = None,
    limits: Mapping[str, float | None] | None = None,
    held_out_share: float = 0.5,
    bootstrap: int = 200,
    random_state: int = 0,
    max_iter: int = 50,
) -> Mitigation:
    """Fit and score the candidate mitigations of ``model`` (see the module docstring).

    ``limits`` maps a disparity name (``equalized_odds_difference``...) to the
    policy's limit; ``constraint`` None picks the one the unmitigated model
    exceeds most (relative to its limit). Raises ``CheckInputError`` (one line).
    """
    from threadpoolctl import threadpool_limits

    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise CheckInputError(
            f"unknown mitigation method {unknown[0] if unknown else ''!r}: use {', '.join(METHODS)}"
        )
    if constraint is not None and constraint not in CONSTRAINTS:
        raise CheckInputError(f"unknown constraint {constraint!r}: use {', '.join(CONSTRAINTS)}")
    if task not in ("binary", "regression"):
        raise CheckInputError(f"mitigation supports binary classifiers and regressors, not {task} models")
    if not 0.1 <= held_out_share <= 0.9:
        raise CheckInputError("held_out_share must be between 0.1 and 0.9")
    with threadpool_limits(limits=1):
        return _mitigate(
            eval_data,
            model=model,
            label=label,
            sensitive=list(sensitive),
            positive_label=positive_label,
            task=task,
            training_data=training_data,
            methods=list(methods),
            constraint=constraint,
            limits=dict(limits or {}),
            held_out_share=held_out_share,
            bootstrap=bootstrap,
            random_state=random_state,
            max_iter=max_iter,
        )


def _mitigate(
    frame: pd.DataFrame,
    *,
    model: Any,
    label: str,
    sensitive: list[str],
    positive_label: Any,
    task: str,
    training_data: pd.DataFrame | None,
    methods: list[str],
    constraint: str | None,
    limits: dict[str, float | None],
    held_out_share: float,
    bootstrap: int,
    random_state: int,
    max_iter: int,
) -> Mitigation:
    import numpy as np

    features = _features(model)
    _require(frame, [*features, label, *sensitive], "eval data")
    frame = frame[frame[label].notna()].reset_index(drop=True)
    regression = task == "regression"
    y = target(frame[label], model=model, positive_label=positive_label, regression=regression)
    groups = group_vector(frame[sensitive])
    fit_idx, test_idx = split_rows(
        y, groups, regression=regression, held_out=held_out_share, seed=random_state
    )
    x_fit, x_test = frame.iloc[fit_idx][features], frame.iloc[test_idx][features]
    y_fit, y_test, g_fit, g_test = y[fit_idx], y[test_idx], groups[fit_idx], groups[test_idx]
    codes = np.unique(g_test, return_inverse=True)[1]
    draws = bootstrap_draws(len(test_idx), replicates=bootstrap, seed=random_state)

    base_pred = base_predictions(model, x_test, positive_label=positive_label, regression=regression)
    if constraint is None:
        constraint = _worst_constraint(y_test, base_pred, g_test, limits, regression)
    disparity_name = DISPARITY_OF[constraint]
    limit = limits.get(disparity_name)

    def score(name: str, method: str, pred: Any, seconds: float, **extra: Any) -> dict[str, Any]:
        primary, disparity = point_metrics(y_test, pred, g_test, constraint=constraint)
        return {
            "name": name,
            "method": method,
            "primary_metric": round(primary, 4),
            "disparity": round(disparity, 4),
            "intervals": intervals(y_test, pred, codes, draws, constraint=constraint),
            "fit_seconds": round(seconds, 3),
            **extra,
        }

    baseline = score("unmitigated", "none", base_pred, 0.0, needs_sensitive_feature_at_prediction=False)
    train = _training(training_data, features, label, sensitive, model, positive_label, regression)
    candidates: list[dict[str, Any]] = []
    challengers: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for method in methods:
        started = time.perf_counter()
        if method == "threshold":
            if regression:
                skipped[method] = "ThresholdOptimizer post-processes binary classifiers only"
                continue
            obj, params = fit_threshold(
                model, x_fit, y_fit, g_fit, constraint=constraint, sensitive=sensitive, seed=random_state
            )
            pred = MitigatedModel(obj).predict(x_test, sensitive_features=g_test)
        elif method == "reductions":
            x_r, y_r, g_r, source = (
                train if train is not None else (x_fit, y_fit, g_fit, "the fit split of the eval data")
            )
            obj, params = fit_reductions(
                model,
                x_r,
                y_r,
                g_r,
                constraint=constraint,
                sensitive=sensitive,
                seed=random_state,
                max_iter=max_iter,
                limit=limit,
            )
            params["fitted_on"] = source
            pred = obj.predict(x_test) if not is_mitigation(obj) else MitigatedModel(obj).predict(x_test)
        else:
            if train is None:
                skipped[method] = (
                    "reweighting refits the model on its training data: "
                    "register it with the label and sensitive columns"
                )
                continue
            obj, params = fit_reweighted(model, *train[:3], regression=regression)
            params["fitted_on"] = train[3]
            pred = obj.predict(x_test)
            if not regression:
                pred = base_predictions(
                    obj, x_test, positive_label=positive_label, regression=False, predicted=pred
                )
        seconds = time.perf_counter() - started
        name = f"{method}:{constraint}"
        candidates.append(
            score(
                name,
                method,
                np.asarray(pred, dtype=np.float64 if regression else np.int64),
                seconds,
                parameters=params,
                needs_sensitive_feature_at_prediction=method == "threshold",
            )
        )
        challengers[name] = obj
    primary_name = "mean_absolute_error" if regression else "accuracy"
    recommendation = recommend(
        candidates, baseline=baseline, limit=limit, lower_is_better=regression, primary_name=primary_name
    )
    evidence: dict[str, Any] = {
        "status": "ok" if candidates else "error",
        "task": task,
        "constraint": constraint,
        "disparity_metric": disparity_name,
        "primary_metric": primary_name,
        "limit": limit,
        "sensitive": sensitive,
        "split": {
            "rows": len(frame),
            "fit_rows": len(fit_idx),
            "held_out_rows": len(test_idx),
            "held_out_share": held_out_share,
            "stratified_by": "group and label" if not regression else "group",
            "random_state": random_state,
            "note": "every candidate is scored on the held-out rows; none was fitted on them",
        },
        "bootstrap": {"replicates": bootstrap, "seed": random_state, "interval": "95% percentile"},
        "baseline": baseline,
        "candidates": candidates,
        "frontier": sorted(
            (
                {"name": c["name"], "disparity": c["disparity"], "primary_metric": c["primary_metric"]}
                for c in [baseline, *candidates]
            ),
            key=lambda c: c["disparity"],
        ),
        "skipped": skipped,
        "recommendation": recommendation,
        "legal_note": LEGAL_NOTE
        if any(c["needs_sensitive_feature_at_prediction"] for c in candidates)
        else None,
        "provenance": {"engine": ENGINE, "format": FORMAT, "library_versions": library_versions(*LIBRARIES)},
    }
    evidence["findings"] = _findings(evidence)
    return Mitigation(evidence=evidence, challengers=challengers)


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


def target(values: pd.Series, *, model: Any, positive_label: Any, regression: bool) -> np.ndarray:
    """The label as numbers (regression) or 0/1 with 1 for ``positive_label`` (binary)."""
    import numpy as np

    if regression:
        return values.to_numpy(dtype=np.float64)
    text = values.astype(str).str.replace(r"\.0$", "", regex=True)
    distinct = sorted(text.unique())
    if len(distinct) > 2:
        raise CheckInputError(
            f"label column {values.name!r} has {len(distinct)} values; mitigation needs a binary label"
        )
    if positive_label is None:
        if not set(distinct) <= {"0", "1", "False", "True"}:
            raise CheckInputError(
                f"label column {values.name!r} has values {', '.join(distinct)}: name the positive one"
            )
        positive = "True" if "True" in distinct else "1"
    else:
        positive = str(positive_label)
    if positive not in distinct:
        raise CheckInputError(
            f"positive label {positive_label!r} does not occur in label column {values.name!r}"
        )
    return (text == positive).to_numpy(dtype=np.int64)


def base_predictions(
    model: Any, x: pd.DataFrame, *, positive_label: Any, regression: bool, predicted: Any = None
) -> np.ndarray:
    """The model's predictions as numbers (regression) or 0/1 (binary)."""
    import numpy as np

    raw = np.asarray(model.predict(x) if predicted is None else predicted)
    if regression:
        return raw.astype(np.float64)
    positive = positive_class(model, positive_label)
    if isinstance(positive, str) and raw.dtype.kind not in "OUS":
        return (raw.astype(str) == positive).astype(np.int64)
    return (raw == positive).astype(np.int64)


def split_rows(
    y: np.ndarray, groups: np.ndarray, *, regression: bool, held_out: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit and held-out row indices, seeded, stratified by group (and label), each sorted."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    strata = groups if regression else np.char.add(groups.astype(str), "/" + np.asarray(y).astype(str))
    try:
        fit, test = train_test_split(rows, test_size=held_out, random_state=seed, stratify=strata)
    except ValueError:  # a stratum of one row: an unstratified split is still held out
        fit, test = train_test_split(rows, test_size=held_out, random_state=seed)
    return np.sort(fit), np.sort(test)


def _training(
    data: pd.DataFrame | None,
    features: list[str],
    label: str,
    sensitive: list[str],
    model: Any,
    positive_label: Any,
    regression: bool,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str] | None:
    if data is None or any(c not in data.columns for c in [*features, label, *sensitive]):
        return None
    data = data[data[label].notna()].reset_index(drop=True)
    y = target(data[label], model=model, positive_label=positive_label, regression=regression)
    return data[features], y, group_vector(data[sensitive]), "the registered training data"


def _worst_constraint(
    y: np.ndarray, pred: np.ndarray, groups: np.ndarray, limits: dict[str, float | None], regression: bool
) -> str:
    if regression:
        return "bounded_group_loss"
    ratios = {}
    for constraint in ("equalized_odds", "demographic_parity"):
        limit = limits.get(DISPARITY_OF[constraint])
        value = point_metrics(y, pred, groups, constraint=constraint)[1]
        ratios[constraint] = value / limit if limit else value
    return max(ratios, key=ratios.__getitem__)


def _features(model: Any) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise CheckInputError("the model does not record its input columns (fit it on a pandas DataFrame)")
    return [str(n) for n in names]


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise CheckInputError(f"{what} is missing column(s): {', '.join(missing)}")


def _json_number(value: Any) -> Any:
    import math

    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _findings(evidence: dict[str, Any]) -> list[str]:
    base = evidence["baseline"]
    rec = evidence["recommendation"]
    name, disparity = (
        evidence["primary_metric"].replace("_", " "),
        evidence["disparity_metric"].replace("_", " "),
    )
    out = [
        f"Unmitigated on {evidence['split']['held_out_rows']} held-out rows: "
        f"{name} {base['primary_metric']:.4f}, "
        f"{disparity} {base['disparity']:.4f}"
        + (f" (policy limit {evidence['limit']})." if evidence["limit"] is not None else ".")
    ]
    for c in evidence["candidates"]:
        low, high = c["intervals"]["disparity"] or [None, None]
        interval = f" [95% {low:.3f}-{high:.3f}]" if low is not None else ""
        out.append(
            f"{c['name']}: {disparity} {c['disparity']:.4f}{interval}, {name} {c['primary_metric']:.4f} "
            f"({c['primary_metric'] - base['primary_metric']:+.4f}), fitted in {c['fit_seconds']:.2f} s."
        )
    if rec.get("candidate"):
        out.append(
            f"Recommended: {rec['candidate']} ({rec['why']}): {disparity} {rec['disparity_before']:.4f} -> "
            f"{rec['disparity']:.4f} for a cost of {rec['cost']:.4f} in {name}."
        )
    if evidence["legal_note"]:
        out.append(evidence["legal_note"])
    return out


def fix_text(model: str, version: str, best: Mapping[str, Any] | None = None) -> str:
    """What to do about a failed fairness check: the command, and the best option already measured."""
    text = (
        f"measure mitigations with govflow mitigate --model {model} --version {version} (Fairlearn's "
        "threshold, reductions and reweighting on held-out rows, each with its accuracy cost) and register "
        "the recommended challenger with --register NEW_VERSION"
    )
    if best and best.get("candidate"):
        text += (
            f"; best option found: {best['candidate']} ({best.get('disparity_metric', 'disparity')} "
            f"{best.get('disparity_before')} -> {best.get('disparity')}, costing {best.get('cost')} "
            f"{best.get('primary_metric_name', 'accuracy')})"
        )
    return text
