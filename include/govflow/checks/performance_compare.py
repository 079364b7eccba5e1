"""Champion vs. challenger: the candidate model against the production model, on the candidate's eval data.

1. Both artifacts (already read and hash-checked by the caller, loaded the
   safe way ``model_predictions.load_model`` provides) predict the same rows.
2. Per task, the metrics of both models overall and per sensitive group
   (intersections joined with ``|``): classification ``accuracy`` and
   ``macro_f1``; regression ``mean_absolute_error`` and ``root_mean_squared_error``.
3. The drop is how much worse the candidate is: for a rate, the production
   value minus the candidate's (absolute); for an error, the candidate's
   increase relative to production (``(candidate - production) / production``).
4. With ``max_drop`` the check fails when the drop of any metric, overall or
   in a group of at least ``min_group_size`` rows, exceeds it; without it the
   comparison is reported (``warn``: nothing judged). Smaller groups are shown
   and flagged, never judged: a few rows give noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError, CheckResult, CheckStatus, timed_check
from govflow.checks.explain import find_positive_label, view_model
from govflow.checks.model_predictions import ModelArtifact, load_model, predict
from govflow.checks.outcomes import choose_task, class_outcomes, intersection_groups, numeric_outcomes

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HIGHER_IS_BETTER", "compare_with_production", "comparison_metrics"]

CHECK = "performance"
HIGHER_IS_BETTER = {
    "accuracy": True,
    "macro_f1": True,
    "mean_absolute_error": False,
    "root_mean_squared_error": False,
}


def comparison_metrics(task: str, y_true: Any, y_pred: Any) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, root_mean_squared_error

    if task == "regression":
        return {
            "mean_absolute_error": float(mean_absolute_error(y_true, y_pred)),
            "root_mean_squared_error": float(root_mean_squared_error(y_true, y_pred)),
        }
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }


def _drop(name: str, production: float, candidate: float) -> float:
    if HIGHER_IS_BETTER[name]:
        return production - candidate
    return (candidate - production) / production if production else float(candidate > production)


@timed_check(CHECK, ("scikit-learn", "numpy", "pandas"), engine="scikit-learn")
def compare_with_production(
    data: pd.DataFrame,
    *,
    label: str,
    candidate: ModelArtifact,
    production: ModelArtifact,
    production_version: str,
    sensitive: Sequence[str] = (),
    task: str | None = None,
    trusted_types: Sequence[str] = (),
    positive_label: Any = None,
    max_drop: float | None = None,
    min_group_size: int = 30,
) -> CheckResult:
    """Score both models on ``data`` and compare them per metric and per group.

    Examples
    --------
    ``compare_with_production(frame, label="y", candidate=a, production=b, production_version="1.0",
    sensitive=["sex"], max_drop=0.02)`` fails when the candidate's accuracy is more than 0.02 below
    production's, overall or in a sex group of at least 30 rows.
    """

    if max_drop is not None and not 0 <= max_drop <= 1:
        raise CheckInputError(f"max_metric_drop_vs_production must be between 0 and 1, got {max_drop}")
    if label not in data.columns:
        raise CheckInputError(f"column(s) missing from the eval data: {label}")
    data = data[data[label].notna()].reset_index(drop=True)
    if data.empty:
        raise CheckInputError(f"label column {label!r} has only null values")
    chosen = choose_task(data[label], task, label_name=label)
    models = {
        role: load_model(artifact, trusted=trusted_types)
        for role, artifact in (("candidate", candidate), ("production", production))
    }
    predicted: dict[str, Any] = {}
    if chosen.task == "binary":
        # As the explanation reads a binary model: its positive class, sensitive pass-through
        # for post-processing wrappers (ThresholdOptimizer), 0/1 or label-valued outputs alike.
        positive = find_positive_label(data[label], label, positive_label)
        y_true = (data[label] == positive).to_numpy()
        for role, model in models.items():
            view = view_model(model, data.columns, sensitive=list(sensitive), positive_label=positive)
            predicted[role] = view.predict_positive(data)
    else:
        for role, model in models.items():
            name = f"the {role} model"
            raw = predict(model, data, exclude=[label])
            if chosen.task == "regression":
                found: Any = numeric_outcomes(data[label], raw, label_name=label, prediction_name=name)
            else:
                found = class_outcomes(data[label], raw, label_name=label, prediction_name=name)
            y_true, predicted[role] = found.y_true, found.y_pred
    keep = None
    overall = _compare(chosen.task, y_true, predicted["candidate"], predicted["production"])
    by_group: dict[str, dict[str, Any]] = {}
    if sensitive:
        groups = intersection_groups(data, list(sensitive), keep)
        for code, key in enumerate(groups.keys):
            rows = groups.codes == code
            entry = _compare(
                chosen.task,
                y_true[rows],
                predicted["candidate"][rows],
                predicted["production"][rows],
            )
            by_group[key] = {
                "count": int(rows.sum()),
                "insufficient": int(rows.sum()) < min_group_size,
                **entry,
            }
    exceeded = []
    if max_drop is not None:
        exceeded = [m for m, e in overall.items() if e["drop"] > max_drop]
        for key, entry in by_group.items():
            if not entry["insufficient"]:
                exceeded += [
                    f"{m}@{key}" for m in HIGHER_IS_BETTER if m in entry and entry[m]["drop"] > max_drop
                ]
    status: CheckStatus = "fail" if exceeded else ("warn" if max_drop is None else "pass")
    summary = {
        "task": chosen.task,
        "production_version": production_version,
        "metrics": {m: e["candidate"] for m, e in overall.items()},
        "production_metrics": {m: e["production"] for m, e in overall.items()},
        "drops": {m: e["drop"] for m, e in overall.items()},
        "worst_group_drop": max(
            (e[m]["drop"] for e in by_group.values() if not e["insufficient"] for m in overall), default=None
        ),
        "exceeded": exceeded,
        "max_metric_drop_vs_production": max_drop,
        "rows": len(y_true),
    }
    if max_drop is None:
        summary["note"] = (
            "compared with production, not judged: the policy sets no max_metric_drop_vs_production"
        )
    details = {
        "comparison": {"overall": overall, "by_group": by_group},
        "drop_definition": "rates: production - candidate; errors: (candidate - production) / production",
        "models": {
            "candidate": {"path": candidate.name, "sha256": candidate.sha256},
            "production": {
                "path": production.name,
                "sha256": production.sha256,
                "version": production_version,
            },
        },
    }
    return CheckResult(check=CHECK, status=status, summary=summary, details=details)


def _compare(task: str, y_true: Any, candidate: Any, production: Any) -> dict[str, dict[str, float]]:
    ours = comparison_metrics(task, y_true, candidate)
    theirs = comparison_metrics(task, y_true, production)
    return {
        name: {
            "candidate": ours[name],
            "production": theirs[name],
            "drop": _drop(name, theirs[name], ours[name]),
        }
        for name in ours
    }
