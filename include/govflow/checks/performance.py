"""Model performance check: metrics on labeled data against the metrics registered with the version.

For a binary classifier: accuracy, precision, recall, F1 from the prediction
column, and ROC AUC when a score column is given. Each metric that was also
registered with the version is compared with it; the check fails when any
falls more than ``max_drop`` (absolute) below its registered value, and warns
when a registered metric cannot be computed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._io import read_table, require_columns
from govflow.checks._result import CheckInputError, CheckResult, CheckStatus, timed_check

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METRICS", "evaluate_performance"]

CHECK = "performance"
METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


@timed_check(CHECK, ("scikit-learn", "pandas"))
def evaluate_performance(
    data: pd.DataFrame | str | Path,
    *,
    label: str | None,
    prediction: str | None,
    score: str | None = None,
    positive_label: Any = None,
    baseline: Mapping[str, Any] | None = None,
    max_drop: float = 0.05,
) -> CheckResult:
    """Compute binary classification metrics and compare them with ``baseline``.

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
    frame = read_table(data) if isinstance(data, (str, Path)) else data
    require_columns(frame, [label, prediction, *([score] if score else [])], source="the labeled data")
    frame = frame.dropna(subset=[label, prediction])
    if len(frame) == 0:
        raise CheckInputError("the labeled data has no rows with both a label and a prediction")
    positive = _positive(frame[label], positive_label)
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

    comparisons = {}
    problems, unknown = [], []
    for name, registered in (baseline or {}).items():
        if name not in METRICS or not isinstance(registered, (int, float)):
            continue
        now = metrics.get(name)
        if now is None:
            unknown.append(name)
            continue
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
        summary={"rows": len(frame), "metrics": metrics, "dropped": problems, "max_drop": max_drop},
        details={
            "comparisons": comparisons,
            "not_computable": unknown,
            "positive_label": str(positive),
            "compared": sorted(comparisons),
        },
    )


def _positive(labels: pd.Series, positive_label: Any) -> Any:
    if positive_label is not None:
        return positive_label
    values = {str(v) for v in labels.unique()}
    for candidate in ("1", "True", "true", "yes"):
        if candidate in values:
            return candidate
    raise CheckInputError(f"cannot tell the positive label among {sorted(values)[:5]}: give positive_label")
