"""Model performance check: metrics on labeled data against the metrics registered with the version.

For a binary classifier: accuracy, precision, recall, F1 from the prediction
column, and ROC AUC when a score column is given; for a multiclass one:
accuracy and macro F1; for a regressor: mean absolute error, root mean squared
error and R². The task is given or detected from the label (as the fairness
check does). Each metric that was also registered with the version is
compared with it; the check fails when any falls more than ``max_drop`` below
its registered value (absolute for scores; for an error, its increase relative
to the registered value), and warns when a registered metric cannot be
computed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._io import read_table, require_columns
from govflow.checks._result import CheckInputError, CheckResult, CheckStatus, timed_check
from govflow.checks.aggregates import choose_engine
from govflow.checks.outcomes import choose_task, class_outcomes, numeric_outcomes
from govflow.checks.performance._positive import positive_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METRICS", "evaluate_performance"]

CHECK = "performance"
METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
TASK_METRICS = {
    "binary": METRICS,
    "multiclass": ("accuracy", "macro_f1"),
    "regression": ("mean_absolute_error", "root_mean_squared_error", "r2"),
}
ERRORS = ("mean_absolute_error", "root_mean_squared_error")  # lower is better


@timed_check(CHECK, ("scikit-learn", "pandas"), engine="scikit-learn")
def evaluate_performance(
    data: pd.DataFrame | str | Path,
    *,
    label: str | None,
    prediction: str | None,
    score: str | None = None,
    positive_label: Any = None,
    baseline: Mapping[str, Any] | None = None,
    max_drop: float = 0.05,
    task: str | None = None,
    engine: str | None = None,
) -> CheckResult:
    """Compute binary classification metrics and compare them with ``baseline``.

    ``engine``: ``memory`` (pandas), ``duckdb`` (a file, aggregated by DuckDB) or ``sql`` (a
    ``SqlTable``, in the warehouse); None: chosen from the table's size
    (``govflow.checks.aggregates``; the metrics come from confusion counts or error sums).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1, 0, 1, 0], "p": [1, 0, 0, 0]})
    >>> r = evaluate_performance(df, label="y", prediction="p", baseline={"accuracy": 0.9}, max_drop=0.1)
    >>> r.status, r.summary["metrics"]["accuracy"]
    ('fail', 0.75)
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    if not label or not prediction:
        raise CheckInputError("performance needs a label column and a prediction column")
    if not 0 <= max_drop <= 1:
        raise CheckInputError(f"max_drop must be between 0 and 1, got {max_drop}")
    chosen_engine = choose_engine(data, engine)
    if chosen_engine != "memory":
        from govflow.checks.performance._aggregated import aggregated_performance

        found, numbers, rows, positive, provenance = aggregated_performance(
            data,
            chosen_engine,
            label=label,
            prediction=prediction,
            score=score,
            positive_label=positive_label,
            task=task,
        )
        result = _compare(rows, found, numbers, baseline, max_drop, positive_label=positive)
        return replace(result, details={**result.details, "provenance": provenance})
    frame = read_table(data) if isinstance(data, (str, Path)) else data
    require_columns(frame, [label, prediction, *([score] if score else [])], source="the labeled data")
    frame = frame.dropna(subset=[label, prediction])
    if len(frame) == 0:
        raise CheckInputError("the labeled data has no rows with both a label and a prediction")
    chosen = choose_task(frame[label], task, label_name=label)
    if chosen.task != "binary":
        return _compare(
            len(frame), chosen.task, _task_metrics(frame, chosen.task, label, prediction), baseline, max_drop
        )
    positive = positive_value(frame[label], positive_label)
    y_true = (frame[label].astype(str) == str(positive)).astype(int)
    y_pred = (frame[prediction].astype(str) == str(positive)).astype(int)
    metrics: dict[str, float | None] = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "roc_auc": None,
    }
    if score and y_true.nunique() == 2:
        metrics["roc_auc"] = float(roc_auc_score(y_true, frame[score].astype(float)))
    metrics = {k: (round(v, 6) if v is not None else None) for k, v in metrics.items()}
    return _compare(len(frame), "binary", metrics, baseline, max_drop, positive_label=str(positive))


def _task_metrics(frame: pd.DataFrame, task: str, label: str, prediction: str) -> dict[str, float | None]:
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        mean_absolute_error,
        r2_score,
        root_mean_squared_error,
    )

    if task == "regression":
        outcomes = numeric_outcomes(
            frame[label], frame[prediction], label_name=label, prediction_name=prediction
        )
        y_true, y_pred = outcomes.y_true, outcomes.y_pred
        values = {
            "mean_absolute_error": float(mean_absolute_error(y_true, y_pred)),
            "root_mean_squared_error": float(root_mean_squared_error(y_true, y_pred)),
            "r2": float(r2_score(y_true, y_pred)) if len(y_true) > 1 else None,
        }
    else:
        classes = class_outcomes(
            frame[label], frame[prediction], label_name=label, prediction_name=prediction
        )
        values = {
            "accuracy": float(accuracy_score(classes.y_true, classes.y_pred)),
            "macro_f1": float(f1_score(classes.y_true, classes.y_pred, average="macro", zero_division=0)),
        }
    return {k: (round(v, 6) if v is not None else None) for k, v in values.items()}


def _compare(
    rows: int,
    task: str,
    metrics: dict[str, float | None],
    baseline: Mapping[str, Any] | None,
    max_drop: float,
    *,
    positive_label: str | None = None,
) -> CheckResult:
    comparisons = {}
    problems, unknown = [], []
    for name, registered in (baseline or {}).items():
        if name not in TASK_METRICS[task] or not isinstance(registered, (int, float)):
            continue
        now = metrics.get(name)
        if now is None:
            unknown.append(name)
            continue
        if name in ERRORS:  # an error that grows: relative to the registered error
            drop = round((now - float(registered)) / float(registered), 6) if registered else float(now > 0)
        else:
            drop = round(float(registered) - now, 6)
        comparisons[name] = {
            "registered": float(registered),
            "now": now,
            "drop": drop,
            "ok": drop <= max_drop,
        }
        if drop > max_drop:
            problems.append(name)
    status: CheckStatus = "fail" if problems else ("warn" if unknown or not comparisons else "pass")
    return CheckResult(
        check=CHECK,
        status=status,
        summary={
            "rows": rows,
            "task": task,
            "metrics": metrics,
            "dropped": problems,
            "max_drop": max_drop,
        },
        details={
            "comparisons": comparisons,
            "not_computable": unknown,
            "positive_label": positive_label,
            "compared": sorted(comparisons),
        },
    )
