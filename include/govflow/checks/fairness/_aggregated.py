"""The fairness check decided from aggregates an engine computed: exact, the same numbers as in memory.

Every fairness number depends on a row only through its (groups, label, prediction)
cell (classification) or through per-group sums (regression), so the engine runs one
``GROUP BY`` and govflow never sees a row:

1. The task: the one given, or detected as in memory from the label's distinct values
   (at most ``MAX_CLASSES + 2`` of them are fetched; beyond that, the exact distinct
   count and whether any value has a fraction).
2. Binary and multiclass: ``SELECT sensitive..., label, prediction, COUNT(*) ... GROUP BY``
   gives one row per cell with its rows. The cells go through the same validation as
   rows do (``outcomes``: classes, positive label, unknown predictions), each cell
   weighted by its rows; the confusion counts per group are the weighted ``np.bincount``
   of the cells, the integers the in-memory path counts. Rates, disparities and the
   bootstrap intervals (a multinomial draw per group over its cells) then run the same
   code as in memory: equal numbers, bit for bit.
3. Regression: per group, rows and the sums of prediction, |error| and error^2 in the
   engine (``SUM`` in float64: equal to the in-memory sums up to the order of addition,
   ~1e-15 relative). Bootstrap intervals of regression resample rows, so they need the
   memory engine; asking for them here is an error, not a silently different interval.
"""

from __future__ import annotations

from typing import Any

from govflow.checks._result import CheckInputError, CheckResult
from govflow.checks.aggregates import AggregateTable, aggregated_task, engine_provenance, open_table
from govflow.checks.outcomes import (
    Groups,
    TaskChoice,
    binary_outcomes,
    class_outcomes,
    intersection_groups,
)

ONE_GROUP = "the sensitive feature(s) have a single group among the evaluated rows: fairness compares groups"


def aggregated_fairness(
    data: Any,
    engine: str,
    *,
    label: str,
    prediction: str,
    sensitive: list[str],
    positive_label: Any,
    task: str | None,
    min_group_size: int,
    thresholds: dict[str, float | None],
    bootstrap: int,
    bootstrap_seed: int,
    small_groups: str,
) -> CheckResult:
    with open_table(data, engine) as table:
        table.require([label, prediction, *sensitive], what="the evaluation data")
        chosen = aggregated_task(table, label, task)
        nulls = table.null_counts(sensitive)
        for name in sensitive:
            if nulls[name] == table.rows():
                raise CheckInputError(f"sensitive column {name!r} has only null values")
        if chosen.task == "regression":
            return _regression(
                table,
                chosen,
                label,
                prediction,
                sensitive,
                min_group_size,
                thresholds,
                bootstrap,
                bootstrap_seed,
                small_groups,
            )
        return _classification(
            table,
            chosen,
            label,
            prediction,
            sensitive,
            positive_label,
            min_group_size,
            thresholds,
            bootstrap,
            bootstrap_seed,
            small_groups,
        )


def _groups_or_error(frame: Any, sensitive: list[str], keep: Any) -> Groups:
    groups = intersection_groups(frame, sensitive, keep)
    if len(groups.keys) < 2:
        raise CheckInputError(
            f"{ONE_GROUP} ({', '.join(sensitive)} = {', '.join(map(repr, groups.keys)) or 'none'})"
        )
    return groups


def _classification(
    table: AggregateTable,
    chosen: TaskChoice,
    label: str,
    prediction: str,
    sensitive: list[str],
    positive_label: Any,
    min_group_size: int,
    thresholds: dict[str, float | None],
    bootstrap: int,
    bootstrap_seed: int,
    small_groups: str,
) -> CheckResult:
    import numpy as np
    import pandas as pd

    from govflow.checks.fairness._judge import count_stats
    from govflow.checks.fairness._metrics import cell_table_from_counts
    from govflow.checks.fairness._verdict import binary_result, task_result

    cells = table.group_counts([*sensitive, label, prediction])
    frame = pd.DataFrame([row[:-1] for row in cells], columns=[*sensitive, label, prediction])
    weights = np.array([row[-1] for row in cells], dtype=np.int64)
    provenance = engine_provenance(table, "exact", aggregates="confusion counts per group (GROUP BY)")
    if chosen.task == "binary":
        outcomes = binary_outcomes(
            frame[label],
            frame[prediction],
            label_name=label,
            prediction_name=prediction,
            positive_label=positive_label,
        )
        keep, k = outcomes.keep, 2
        y_true, y_pred = outcomes.y_true.astype(np.int64), outcomes.y_pred.astype(np.int64)
        classes: list[Any] | None = None
    else:
        multi = class_outcomes(frame[label], frame[prediction], label_name=label, prediction_name=prediction)
        keep, k, y_true, y_pred, classes = (
            multi.keep,
            len(multi.classes),
            multi.y_true,
            multi.y_pred,
            multi.classes,
        )
    kept = weights if keep is None else weights[keep]
    rows, excluded = int(kept.sum()), int(weights.sum() - kept.sum())
    groups = _groups_or_error(frame, sensitive, keep)
    n_groups = len(groups.keys)
    cell = (groups.codes * k + y_true) * k + y_pred
    # Weighted bincount in float64 is exact below 2**53 rows per cell.
    counts = np.rint(np.bincount(cell, weights=kept, minlength=n_groups * k * k)).astype(np.int64)
    counts = counts.reshape(n_groups, k, k)
    if chosen.task == "binary":
        return binary_result(
            cell_table_from_counts(counts),
            groups,
            lambda: count_stats("binary", counts),
            chosen=chosen,
            positive_label=outcomes.positive_label,
            rows=rows,
            rows_excluded=excluded,
            sensitive=sensitive,
            min_group_size=min_group_size,
            max_demographic_parity_difference=thresholds["max_demographic_parity_difference"] or 0.0,
            max_equalized_odds_difference=thresholds["max_equalized_odds_difference"] or 0.0,
            bootstrap=bootstrap,
            bootstrap_seed=bootstrap_seed,
            small_groups=small_groups,
            engine=provenance,
        )
    return task_result(
        count_stats("multiclass", counts, classes),
        groups,
        chosen,
        classes=classes,
        rows=rows,
        rows_excluded=excluded,
        sensitive=sensitive,
        min_group_size=min_group_size,
        thresholds=thresholds,
        bootstrap=bootstrap,
        bootstrap_seed=bootstrap_seed,
        small_groups=small_groups,
        engine=provenance,
    )


def _regression(
    table: AggregateTable,
    chosen: TaskChoice,
    label: str,
    prediction: str,
    sensitive: list[str],
    min_group_size: int,
    thresholds: dict[str, float | None],
    bootstrap: int,
    bootstrap_seed: int,
    small_groups: str,
) -> CheckResult:
    import numpy as np
    import pandas as pd

    from govflow.checks.fairness._judge import TaskStats
    from govflow.checks.fairness._task_metrics import regression_disparities, regression_metrics
    from govflow.checks.fairness._verdict import task_result

    if bootstrap:
        raise CheckInputError(
            f"engine {table.backend}: regression intervals resample rows; use engine memory or bootstrap 0"
        )
    kinds = table.columns()
    for name, what in ((label, f"label column {label!r}"), (prediction, f"prediction {prediction!r}")):
        if kinds[name] not in ("int", "float"):
            raise CheckInputError(f"{what} is not numeric ({kinds[name]}): regression needs numbers")
    total = table.rows()
    nulls = table.null_counts([label, prediction])
    if nulls[prediction]:
        raise CheckInputError(
            f"prediction {prediction!r} is missing (NaN) on {nulls[prediction]} of {total} rows: "
            "a model must predict every row"
        )
    if nulls[label] == total:
        raise CheckInputError(f"label column {label!r} has only null values")
    found = table.regression_sums(sensitive, label, prediction)
    n = len(sensitive)
    frame = pd.DataFrame([row[:n] for row in found], columns=sensitive)
    groups = _groups_or_error(frame, sensitive, None)
    sums = np.zeros((len(groups.keys), 4))
    np.add.at(sums, groups.codes, np.array([[float(v) for v in row[n:]] for row in found]))
    stats = TaskStats(
        "regression",
        sums,
        sums[:, 0].astype(int),
        regression_metrics,
        regression_disparities,
        lambda _n, _seed: None,
    )
    return task_result(
        stats,
        groups,
        chosen,
        classes=None,
        rows=int(sums[:, 0].sum()),
        rows_excluded=nulls[label],
        sensitive=sensitive,
        min_group_size=min_group_size,
        thresholds=thresholds,
        bootstrap=0,
        bootstrap_seed=bootstrap_seed,
        small_groups=small_groups,
        engine=engine_provenance(
            table, "sums per group in float64 (equal up to the order of addition, ~1e-15 relative)"
        ),
    )
