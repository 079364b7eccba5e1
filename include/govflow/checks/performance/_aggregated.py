"""The performance check's metrics from aggregates an engine computed (DuckDB, or SQL in the warehouse).

The in-memory path drops the rows without a label or a prediction, then asks scikit-learn.
Every metric it reports depends on the rows only through small aggregates, so the engine
computes those and scikit-learn (or the same formula) runs on them:

1. The task: given, or detected from the label's distinct values as the fairness check does
   (``aggregates.aggregated_task``).
2. Binary and multiclass: ``GROUP BY label, prediction`` gives one row per cell with its rows;
   scikit-learn's metrics take the cells with their rows as ``sample_weight``: the confusion
   counts are the same integers, so accuracy, precision, recall, F1 and macro F1 are the
   same numbers (rounded to 6 places, as in memory).
3. ROC AUC (binary, with a score column): exact, as the Mann-Whitney statistic with ties
   counted half. Per distinct score the engine counts positives and negatives and, with a
   window sum, the negatives below each score; the numerator ``sum(pos * (2 * below + neg))``
   is an exact integer, divided by ``2 * P * N`` here. scikit-learn's trapezoid over the ROC
   curve is the same number (up to float rounding, under the 6 places reported).
4. Regression: rows, the sums of |error| and error^2 and the label's population variance in
   float64 in the engine: MAE, RMSE and R^2 equal to scikit-learn's up to the order of
   addition (~1e-12 relative), under the 6 places reported.
"""

from __future__ import annotations

import math
from typing import Any

from govflow.checks._result import CheckInputError
from govflow.checks.aggregates import (
    AggregateTable,
    aggregated_task,
    engine_provenance,
    open_table,
    sql_literal,
)
from govflow.checks.performance._positive import positive_value


def aggregated_performance(
    data: Any,
    engine: str,
    *,
    label: str,
    prediction: str,
    score: str | None,
    positive_label: Any,
    task: str | None,
) -> tuple[str, dict[str, float | None], int, str | None, dict[str, Any]]:
    """(task, metrics, rows, positive label, provenance) of ``data`` through ``engine``."""
    with open_table(data, engine) as table:
        table.require([label, prediction, *([score] if score else [])], what="the labeled data")
        kept = f"{table.value_key(label)} IS NOT NULL AND {table.value_key(prediction)} IS NOT NULL"
        chosen = aggregated_task(table, label, task, where=kept)
        if chosen.task == "regression":
            metrics, rows = _regression(table, label, prediction, kept)
            provenance = engine_provenance(table, "sums in float64 (equal up to the order of addition)")
            return "regression", metrics, rows, None, provenance
        metrics, rows, positive = _classes(table, chosen.task, label, prediction, score, positive_label, kept)
        provenance = engine_provenance(
            table, "exact", aggregates="confusion counts (GROUP BY label, prediction)"
        )
        return chosen.task, metrics, rows, positive, provenance


def _classes(
    table: AggregateTable,
    task: str,
    label: str,
    prediction: str,
    score: str | None,
    positive_label: Any,
    kept: str,
) -> tuple[dict[str, float | None], int, str | None]:
    import numpy as np
    import pandas as pd
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    from govflow.checks.outcomes import class_outcomes

    cells = table.group_counts([label, prediction], where=kept)
    if not cells:
        raise CheckInputError("the labeled data has no rows with both a label and a prediction")
    frame = pd.DataFrame([row[:2] for row in cells], columns=[label, prediction])
    weights = np.array([row[2] for row in cells], dtype=np.int64)
    rows = int(weights.sum())
    if task != "binary":
        classes = class_outcomes(
            frame[label], frame[prediction], label_name=label, prediction_name=prediction
        )
        values: dict[str, float | None] = {
            "accuracy": float(accuracy_score(classes.y_true, classes.y_pred, sample_weight=weights)),
            "macro_f1": float(
                f1_score(
                    classes.y_true, classes.y_pred, average="macro", zero_division=0, sample_weight=weights
                )
            ),
        }
        return {k: round(v, 6) if v is not None else None for k, v in values.items()}, rows, None
    positive = positive_value(frame[label], positive_label)
    y_true = (frame[label].astype(str) == str(positive)).astype(int)
    y_pred = (frame[prediction].astype(str) == str(positive)).astype(int)
    metrics: dict[str, float | None] = {
        "accuracy": float(accuracy_score(y_true, y_pred, sample_weight=weights)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0, sample_weight=weights)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0, sample_weight=weights)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0, sample_weight=weights)),
        "roc_auc": None,
    }
    if score and y_true.nunique() == 2:
        positives = sorted({v for v, t in zip(frame[label], y_true, strict=True) if t}, key=str)
        metrics["roc_auc"] = _roc_auc(table, label, score, positives, kept)
    return {k: round(v, 6) if v is not None else None for k, v in metrics.items()}, rows, str(positive)


def _roc_auc(table: AggregateTable, label: str, score: str, positives: list[Any], kept: str) -> float:
    """ROC AUC as the Mann-Whitney statistic, its numerator an exact integer from the engine."""
    if table.columns()[score] not in ("int", "float"):
        raise CheckInputError(f"score column {score!r} is not numeric")
    is_positive = f"{table.value_key(label)} IN ({', '.join(sql_literal(v) for v in positives)})"
    s = f"CAST({table.value_key(score)} AS DOUBLE PRECISION)"
    counted = (
        f"SELECT {s} AS s, SUM(CASE WHEN {is_positive} THEN 1 ELSE 0 END) AS pos, "
        f"SUM(CASE WHEN {is_positive} THEN 0 ELSE 1 END) AS neg "
        f"FROM {table.source} WHERE {kept} AND {s} IS NOT NULL GROUP BY 1"
    )
    below = "SUM(neg) OVER (ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    numerator, pos, neg = table.query(
        f"SELECT SUM(pos * (2 * COALESCE(below, 0) + neg)), SUM(pos), SUM(neg) "
        f"FROM (SELECT pos, neg, {below} AS below FROM ({counted}) c) w"
    )[0]
    if not pos or not neg:
        raise CheckInputError(f"score column {score!r} is missing on every row of one class")
    return int(numerator) / (2 * int(pos) * int(neg))


def _regression(
    table: AggregateTable, label: str, prediction: str, kept: str
) -> tuple[dict[str, float | None], int]:
    kinds = table.columns()
    for name in (label, prediction):
        if kinds[name] not in ("int", "float"):
            raise CheckInputError(f"column {name!r} is not numeric ({kinds[name]}): regression needs numbers")
    y = f"CAST({table.value_key(label)} AS DOUBLE PRECISION)"
    p = f"CAST({table.value_key(prediction)} AS DOUBLE PRECISION)"
    rows, absolute, squared, variance = table.query(
        f"SELECT COUNT(*), SUM(ABS({p} - {y})), SUM(({p} - {y}) * ({p} - {y})), VAR_POP({y}) "
        f"FROM {table.source} WHERE {kept}"
    )[0]
    n = int(rows)
    if n == 0:
        raise CheckInputError("the labeled data has no rows with both a label and a prediction")
    total = float(variance or 0.0) * n
    r2: float | None = None
    if n > 1:  # scikit-learn's r2_score with force_finite: a constant label gives 1.0 or 0.0
        r2 = (1.0 if float(squared) == 0 else 0.0) if total == 0 else 1.0 - float(squared) / total
    values = {
        "mean_absolute_error": float(absolute) / n,
        "root_mean_squared_error": math.sqrt(float(squared) / n),
        "r2": r2,
    }
    return {k: round(v, 6) if v is not None else None for k, v in values.items()}, n
