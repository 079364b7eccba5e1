"""Per-group numbers, disparities, intervals and the verdict, for every task, from validated outcomes.

1. One ``np.bincount`` pass turns the rows into per-group statistics
   (confusion counts, or regression sums: ``_task_metrics``).
2. Group metrics and disparities come from those statistics; disparities are
   judged over the groups with at least ``min_group_size`` rows, and also
   reported over all groups.
3. With ``bootstrap`` replicates, every group metric and every disparity gets
   its 95% interval ``<name>_ci`` (``_bootstrap``).
4. ``small_groups="interval"`` judges the disparities over all groups (small
   ones included) by the upper end of their interval: a small group cannot
   hide, and its noise cannot fail a model on its own when the interval
   allows the threshold. Otherwise a disparity is judged by its point value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from govflow.checks._result import CheckInputError, CheckStatus
from govflow.checks.fairness import _task_metrics as tm
from govflow.checks.fairness._bootstrap import cell_replicates, interval, regression_replicates
from govflow.checks.outcomes import Groups

SmallGroupRule = Literal["exclude", "interval"]
SMALL_GROUP_RULES: tuple[str, ...] = ("exclude", "interval")

# The summary's disparity names per task; a threshold ``max_<name>`` judges each.
DISPARITIES: dict[str, tuple[str, ...]] = {
    "binary": ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference"),
    "multiclass": ("demographic_parity_difference", "equalized_odds_difference", "accuracy_difference"),
    "regression": (
        "mean_prediction_difference",
        "mean_absolute_error_difference",
        "root_mean_squared_error_difference",
        "worst_group_mean_absolute_error",
    ),
}


@dataclass(frozen=True)
class TaskStats:
    """What the metric functions need: the per-group statistics and how to resample them."""

    task: str
    stats: Any  # (groups, K, K) counts or (groups, 4) sums
    counts: Any  # rows per group
    metrics: Callable[[Any], dict[str, Any]]
    disparities: Callable[[dict[str, Any], Any], dict[str, Any]]
    replicates: Callable[[int, int], Any]


def task_stats(
    task: str, groups: Groups, y_true: Any, y_pred: Any, classes: list[Any] | None = None
) -> TaskStats:
    n_groups = len(groups.keys)
    if task == "regression":
        sums = tm.regression_sums(groups.codes, y_true, y_pred, n_groups)
        return TaskStats(
            task,
            sums,
            sums[:, 0].astype(int),
            tm.regression_metrics,
            tm.regression_disparities,
            lambda n, seed: regression_replicates(groups.codes, y_true, y_pred, n_groups, n, seed),
        )
    if task == "binary":
        counts = tm.class_counts(groups.codes, y_true.astype("int64"), y_pred.astype("int64"), n_groups, 2)
        return count_stats(task, counts)
    assert classes is not None
    return count_stats(task, tm.class_counts(groups.codes, y_true, y_pred, n_groups, len(classes)), classes)


def count_stats(task: str, counts: Any, classes: list[Any] | None = None) -> TaskStats:
    """Classification statistics from confusion counts ``(groups, K, K)`` (however they were counted)."""
    if task == "binary":
        return TaskStats(
            task,
            counts,
            counts.sum(axis=(1, 2)),
            tm.binary_metrics,
            tm.binary_disparities,
            lambda n, seed: cell_replicates(counts, n, seed),
        )
    assert classes is not None
    names = [str(c) for c in classes]
    return TaskStats(
        task,
        counts,
        counts.sum(axis=(1, 2)),
        lambda c: tm.multiclass_metrics(c, names),
        lambda m, keep: tm.multiclass_disparities(m, names, keep),
        lambda n, seed: cell_replicates(counts, n, seed),
    )


@dataclass(frozen=True)
class Judged:
    by_group: dict[str, dict[str, Any]]
    judged: dict[str, Any]  # disparities over sufficient groups (or all, under the interval rule)
    overall: dict[str, Any]
    insufficient: list[str]
    exceeded: list[str]
    status: CheckStatus
    note: str | None


def judge_groups(
    stats: TaskStats,
    groups: Groups,
    *,
    min_group_size: int,
    thresholds: Mapping[str, float | None],
    bootstrap: int = 0,
    seed: int = 0,
    small_groups: str = "exclude",
    point_metrics: dict[str, dict[str, float]] | None = None,
) -> Judged:
    """``thresholds`` maps ``max_<disparity>`` to its maximum (None: reported, not judged).

    ``point_metrics`` (binary: Fairlearn's own numbers) replaces the numpy point values.
    """
    import numpy as np

    if small_groups not in SMALL_GROUP_RULES:
        raise CheckInputError(
            f"small_groups must be one of {', '.join(SMALL_GROUP_RULES)}, got {small_groups!r}"
        )
    if small_groups == "interval" and bootstrap < 1:
        raise CheckInputError("small_groups 'interval' needs bootstrap replicates (bootstrap > 0)")
    metrics = stats.metrics(stats.stats)
    sufficient = stats.counts >= min_group_size
    everyone = np.ones(len(groups.keys), dtype=bool)
    use_all = small_groups == "interval" or bool(sufficient.all())
    judged_keep = everyone if use_all else sufficient
    overall = _plain(stats.disparities(metrics, everyone))
    judged = overall if use_all else _none_or(stats, metrics, judged_keep)

    by_group: dict[str, dict[str, Any]] = {}
    for g, key in enumerate(groups.keys):
        values = point_metrics[key] if point_metrics else {m: float(v[g]) for m, v in metrics.items()}
        by_group[key] = {"count": int(stats.counts[g]), **values}
    if bootstrap:
        replicates = stats.metrics(stats.replicates(bootstrap, seed))
        for name, values in replicates.items():
            bounds = interval(values)
            for g, key in enumerate(groups.keys):
                by_group[key][f"{name}_ci"] = [float(bounds[0, g]), float(bounds[1, g])]
        overall = _with_intervals(overall, stats.disparities(replicates, everyone))
        if use_all:
            judged = overall
        elif judged_keep.sum() >= 2:
            judged = _with_intervals(judged, stats.disparities(replicates, judged_keep))
    for g, key in enumerate(groups.keys):
        by_group[key]["insufficient"] = not bool(sufficient[g])
    insufficient = [key for key, entry in by_group.items() if entry["insufficient"]]

    exceeded, unjudged = [], True
    for name in DISPARITIES[stats.task]:
        limit = thresholds.get(f"max_{name}")
        value = judged.get(name)
        if limit is None or value is None:
            continue
        unjudged = False
        if small_groups == "interval":
            value = judged[f"{name}_ci"][1]  # the interval's upper end must be within the threshold
        if value > limit:
            exceeded.append(name)
    note = None
    if unjudged:
        note = (
            "no disparity was judged: no threshold is set for this task, "
            "or fewer than two groups are large enough"
        )
    status: CheckStatus = "fail" if exceeded else ("warn" if insufficient or unjudged else "pass")
    return Judged(by_group, judged, overall, insufficient, exceeded, status, note)


def _none_or(stats: TaskStats, metrics: dict[str, Any], keep: Any) -> dict[str, Any]:
    if keep.sum() < 2:
        return {name: None for name in DISPARITIES[stats.task]}
    return _plain(stats.disparities(metrics, keep))


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {name: float(value) for name, value in values.items()}


def _with_intervals(point: dict[str, Any], replicates: dict[str, Any]) -> dict[str, Any]:
    out = dict(point)
    for name, values in replicates.items():
        bounds = interval(values)
        out[f"{name}_ci"] = [float(bounds[0]), float(bounds[1])]
    return out
