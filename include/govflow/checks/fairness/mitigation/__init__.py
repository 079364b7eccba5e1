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
4. keeps each candidate as data (``predictor``): the base model plus
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
from govflow.checks.fairness.mitigation._candidates import (
    fit_reductions,
    fit_reweighted,
    fit_threshold,
    reweighing_weights,
    sample_weight_name,
)
from govflow.checks.fairness.mitigation._data import base_predictions, split_rows, target
from govflow.checks.fairness.mitigation._frontier import (
    DISPARITY_OF,
    bootstrap_draws,
    intervals,
    point_metrics,
    recommend,
)
from govflow.checks.fairness.mitigation.predictor import (
    FORMAT,
    MitigatedModel,
    group_vector,
    is_mitigation,
)

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
    "fit_reductions",
    "fit_reweighted",
    "fit_threshold",
    "fix_text",
    "is_mitigation",
    "mitigate",
    "reweighing_weights",
    "sample_weight_name",
    "split_rows",
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
