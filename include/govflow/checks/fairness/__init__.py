"""Fairness check: predictions vs. labels per sensitive group, with Fairlearn.

Per group (each sensitive feature's values, or their intersections joined
with ``|`` when several features are given): count, selection rate, accuracy,
TPR, FPR, FNR (Fairlearn's ``MetricFrame``); and Fairlearn's demographic
parity difference and ratio and equalized odds difference between groups.

Groups with fewer than ``min_group_size`` rows are reported with their numbers
and flagged ``insufficient`` (status ``warn``), never hidden; the disparities
the check judges are computed over the sufficient groups, because a handful
of rows gives rates that are noise. ``details["disparities"]`` also holds
them over all groups. Binary predictions also get impact ratios per group
(and per feature's own categories with several features): ``_impact``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._io import as_frame, require_columns
from govflow.checks._result import CheckInputError, CheckResult, CheckStatus, Oracle, provenance, timed_check
from govflow.checks.aggregates import choose_engine
from govflow.checks.fairness._bootstrap import CONFIDENCE, NORMAL_ABOVE, normal_groups
from govflow.checks.fairness._impact import DEFAULT_MIN_SHARE, impact_ratios
from govflow.checks.fairness._judge import (
    DISPARITIES,
    SMALL_GROUP_RULES,
    SmallGroupRule,
    TaskStats,
    judge_groups,
    task_stats,
)
from govflow.checks.fairness._metrics import CellTable, cell_table, disparities, metrics_by_group
from govflow.checks.fairness._task_metrics import BINARY_METRICS, REGRESSION_METRICS
from govflow.checks.model_predictions import (
    ModelArtifact,
    as_artifact,
    load_model,
    model_type_is_sandboxed,
    positive_class,
    predict,
)
from govflow.checks.outcomes import (
    MODEL_TASKS,
    ClassOutcomes,
    Groups,
    ModelTask,
    NumericOutcomes,
    TaskChoice,
    binary_outcomes,
    choose_task,
    class_outcomes,
    intersection_groups,
    numeric_outcomes,
)
from govflow.progress import Progress, resolve

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BINARY_METRICS",
    "MODEL_TASKS",
    "REGRESSION_METRICS",
    "SMALL_GROUP_RULES",
    "ModelTask",
    "SmallGroupRule",
    "evaluate_fairness",
]

CHECK = "fairness"
ONE_GROUP = "the sensitive feature(s) have a single group among the evaluated rows: fairness compares groups"
# What runs: numpy and pandas compute, scikit-learn runs the model when one is given. Fairlearn
# does not run: it is the oracle the numbers are tested against (pytest -m oracle).
LIBRARIES = ("scikit-learn", "numpy", "pandas")
BINARY_CELLS_TOLERANCE = 0.0  # the binary metrics are Fairlearn's bits (==)
TASK_TOLERANCE = 1e-12  # multiclass and regression: within 1e-12 of MetricFrame
MAX_BOOTSTRAP = 10_000


@timed_check(CHECK, LIBRARIES)
def evaluate_fairness(
    data: pd.DataFrame | str | Path,
    *,
    label: str,
    prediction: str | None = None,
    sensitive: Sequence[str],
    positive_label: Any = None,
    model_path: str | Path | ModelArtifact | None = None,
    trusted_types: Sequence[str] = (),
    min_group_size: int = 30,
    max_demographic_parity_difference: float = 0.1,
    max_equalized_odds_difference: float = 0.1,
    max_accuracy_difference: float | None = None,
    max_mean_prediction_difference: float | None = None,
    max_mean_absolute_error_difference: float | None = None,
    max_worst_group_mean_absolute_error: float | None = None,
    task: ModelTask | None = None,
    bootstrap: int = 0,
    bootstrap_seed: int = 0,
    small_groups: SmallGroupRule = "exclude",
    impact_ratio_min_share: float = DEFAULT_MIN_SHARE,
    progress: Progress | None = None,
    engine: str | None = None,
) -> CheckResult:
    """Evaluate group fairness of binary, multiclass or regression predictions.

    Parameters
    ----------
    data : DataFrame or path of a CSV/Parquet file (the evaluation data)
    label : column with the true binary outcome
    prediction : column with the model's predictions; or give ``model_path``
    sensitive : one or more sensitive feature columns (several: intersectional groups)
    positive_label : the favourable outcome; default 1 when the label is 0/1, -1/1 or boolean
    model_path : a scikit-learn model (joblib or skops) to predict on ``data`` instead of ``prediction``
    trusted_types : for a skops model, reviewed types to trust beyond skops' defaults
    min_group_size : groups with fewer rows are flagged insufficient (status warn)
    max_demographic_parity_difference, max_equalized_odds_difference : the check fails above these
        (multiclass: the largest over the classes, one-vs-rest)
    max_accuracy_difference : multiclass; None: reported, not judged
    max_mean_prediction_difference, max_mean_absolute_error_difference, max_worst_group_mean_absolute_error :
        regression, in the label's units; None: reported, not judged
    task : binary, multiclass or regression; None: detected from the label (stated in the summary)
    bootstrap, bootstrap_seed : replicates for 95% intervals (``<metric>_ci``); 0: none
    small_groups : ``exclude`` (judge the groups of at least ``min_group_size`` rows) or ``interval``
        (judge all groups by the upper end of each disparity's interval; needs ``bootstrap``)
    impact_ratio_min_share : categories below this share of the rows are reported but excluded from
        the impact ratios (``_impact``: a bias audit's 2% rule)
    progress : hears the table read and the model's predictions (``govflow.progress``)
    engine : ``memory`` (pandas), ``duckdb`` (a file, aggregated by DuckDB) or ``sql`` (a
        ``SqlTable``, aggregated in the warehouse); None: chosen from the table's size
        (``govflow.checks.aggregates``). The numbers are the same: they come from exact counts.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1, 0, 1, 0], "p": [1, 0, 0, 0], "g": ["a", "a", "b", "b"]})
    >>> evaluate_fairness(df, label="y", prediction="p", sensitive=["g"],
    ...                   min_group_size=1).summary["demographic_parity_difference"]
    0.5
    """

    sensitive = list(sensitive)
    _check_options(
        label,
        prediction,
        sensitive,
        model_path,
        min_group_size,
        max_demographic_parity_difference,
        max_equalized_odds_difference,
    )
    _check_task_options(
        bootstrap,
        small_groups,
        max_accuracy_difference=max_accuracy_difference,
        max_mean_prediction_difference=max_mean_prediction_difference,
        max_mean_absolute_error_difference=max_mean_absolute_error_difference,
        max_worst_group_mean_absolute_error=max_worst_group_mean_absolute_error,
    )
    chosen_engine = choose_engine(data, engine)
    if chosen_engine != "memory":
        from govflow.checks.aggregates._fairness import aggregated_fairness

        if model_path is not None:
            raise CheckInputError(
                f"engine {chosen_engine} checks a prediction column; a model predicts in memory"
            )
        assert prediction  # _check_options: without a model there is a prediction column
        return aggregated_fairness(
            data,
            chosen_engine,
            label=label,
            prediction=prediction,
            sensitive=sensitive,
            positive_label=positive_label,
            task=task,
            min_group_size=min_group_size,
            thresholds={
                "max_demographic_parity_difference": max_demographic_parity_difference,
                "max_equalized_odds_difference": max_equalized_odds_difference,
                "max_accuracy_difference": max_accuracy_difference,
                "max_mean_prediction_difference": max_mean_prediction_difference,
                "max_mean_absolute_error_difference": max_mean_absolute_error_difference,
                "max_worst_group_mean_absolute_error": max_worst_group_mean_absolute_error,
            },
            bootstrap=bootstrap,
            bootstrap_seed=bootstrap_seed,
            small_groups=small_groups,
        )
    report = resolve(progress)
    frame = as_frame(data, what="the evaluation data", progress=report)
    require_columns(
        frame, [label, *sensitive, *([prediction] if prediction else [])], source="the evaluation data"
    )

    chosen = choose_task(frame[label], task, label_name=label)
    model_info: dict[str, Any] | None = None
    if model_path is not None:
        artifact = as_artifact(model_path)  # read and hashed once; the model loads from these bytes
        report("fairness: predicting with the model", 0, len(frame))
        model = load_model(artifact, trusted=trusted_types)
        predicted = predict(model, frame, exclude=[label])
        if chosen.task == "binary":
            predicted = _as_label_classes(model, predicted, frame[label], positive_label)
        report("fairness: predicting with the model", len(frame), len(frame))
        prediction_name = f"model {Path(artifact.name).name}"
        model_info = {
            "path": artifact.name,
            "sha256": artifact.sha256,
            "type": getattr(model, "model_type", type(model).__name__),
            "sandboxed": model_type_is_sandboxed(model),
        }
    else:
        assert prediction  # _check_options: without a model there is a prediction column
        predicted, prediction_name = frame[prediction], prediction
    if chosen.task != "binary":
        for name in sensitive:
            if frame[name].isna().all():
                raise CheckInputError(f"sensitive column {name!r} has only null values")
        return _evaluate_other_task(
            frame,
            predicted,
            chosen,
            label=label,
            prediction_name=prediction_name,
            sensitive=sensitive,
            min_group_size=min_group_size,
            thresholds={
                "max_demographic_parity_difference": max_demographic_parity_difference,
                "max_equalized_odds_difference": max_equalized_odds_difference,
                "max_accuracy_difference": max_accuracy_difference,
                "max_mean_prediction_difference": max_mean_prediction_difference,
                "max_mean_absolute_error_difference": max_mean_absolute_error_difference,
                "max_worst_group_mean_absolute_error": max_worst_group_mean_absolute_error,
            },
            bootstrap=bootstrap,
            bootstrap_seed=bootstrap_seed,
            small_groups=small_groups,
            model_info=model_info,
        )
    outcomes = binary_outcomes(
        frame[label],
        predicted,
        label_name=label,
        prediction_name=prediction_name,
        positive_label=positive_label,
    )

    for name in sensitive:
        if frame[name].isna().all():
            raise CheckInputError(f"sensitive column {name!r} has only null values")
    report("fairness: rates per group", 0, unit="groups")
    groups = intersection_groups(frame, sensitive, outcomes.keep)
    if len(groups.keys) < 2:
        # A disparity needs two groups: one group "passes" only because nothing was compared.
        raise CheckInputError(
            f"{ONE_GROUP} ({', '.join(sensitive)} = {', '.join(map(repr, groups.keys)) or 'none'})"
        )
    return binary_result(
        cell_table(groups, outcomes.y_true, outcomes.y_pred),
        groups,
        lambda: task_stats("binary", groups, outcomes.y_true, outcomes.y_pred),
        chosen=chosen,
        positive_label=outcomes.positive_label,
        rows=len(outcomes.y_true),
        rows_excluded=outcomes.rows_excluded,
        sensitive=sensitive,
        min_group_size=min_group_size,
        max_demographic_parity_difference=max_demographic_parity_difference,
        max_equalized_odds_difference=max_equalized_odds_difference,
        bootstrap=bootstrap,
        bootstrap_seed=bootstrap_seed,
        small_groups=small_groups,
        model_info=model_info,
        impact_ratio_min_share=impact_ratio_min_share,
    )


def binary_result(
    table: CellTable,
    groups: Groups,
    bootstrap_stats: Callable[[], TaskStats],
    *,
    chosen: TaskChoice,
    positive_label: Any,
    rows: int,
    rows_excluded: int,
    sensitive: list[str],
    min_group_size: int,
    max_demographic_parity_difference: float,
    max_equalized_odds_difference: float,
    bootstrap: int,
    bootstrap_seed: int,
    small_groups: str,
    model_info: dict[str, Any] | None = None,
    engine: dict[str, Any] | None = None,
    impact_ratio_min_share: float = DEFAULT_MIN_SHARE,
) -> CheckResult:
    """The binary verdict from the confusion counts per group (rows counted in memory or by an engine)."""
    rates = metrics_by_group(table, groups)

    by_group: dict[str, dict[str, Any]] = {}
    sufficient: set[int] = set()
    for code, key in enumerate(groups.keys):
        cells = table.counts[code]
        count = int(cells.sum())
        if count >= min_group_size:
            sufficient.add(code)
        by_group[key] = {
            "count": count,
            **rates[key],
            "positives": int(cells[1].sum()),
            "negatives": int(cells[0].sum()),
            "insufficient": count < min_group_size,
        }
    ratios, ratio_summary = impact_ratios(_selections(table, groups), min_share=impact_ratio_min_share)
    for key, entry in ratios.items():
        by_group[key].update({k: entry[k] for k in ("share", "impact_ratio", "impact_ratio_excluded")})
    per_feature: dict[str, Any] = {}
    if len(sensitive) > 1:  # each feature's own categories too, summed from their intersections
        for name, selections in _feature_selections(_selections(table, groups), sensitive).items():
            per_feature[name] = dict(
                zip(
                    ("by_group", "summary"),
                    impact_ratios(selections, min_share=impact_ratio_min_share),
                    strict=True,
                )
            )
    overall = disparities(table)
    judged = overall if len(sufficient) == len(groups.keys) else disparities(table, keep_groups=sufficient)
    insufficient = [key for key, entry in by_group.items() if entry["insufficient"]]

    dpd, eod = judged["demographic_parity_difference"], judged["equalized_odds_difference"]
    failed = []
    if dpd is not None and dpd > max_demographic_parity_difference:
        failed.append("demographic_parity_difference")
    if eod is not None and eod > max_equalized_odds_difference:
        failed.append("equalized_odds_difference")
    status: CheckStatus
    if failed:
        status = "fail"
    elif insufficient or dpd is None:
        status = "warn"
    else:
        status = "pass"
    if bootstrap or small_groups != "exclude":
        # Intervals from the confusion counts; the point values stay Fairlearn's own.
        boot = judge_groups(
            bootstrap_stats(),
            groups,
            min_group_size=min_group_size,
            thresholds={
                "max_demographic_parity_difference": max_demographic_parity_difference,
                "max_equalized_odds_difference": max_equalized_odds_difference,
            },
            bootstrap=bootstrap,
            seed=bootstrap_seed,
            small_groups=small_groups,
        )
        for key, entry in boot.by_group.items():
            by_group[key].update({k: v for k, v in entry.items() if k.endswith("_ci")})
        ci = lambda d: {k: v for k, v in d.items() if k.endswith("_ci")}  # noqa: E731
        overall = {**overall, **ci(boot.overall)}
        judged = boot.judged if small_groups == "interval" else {**judged, **ci(boot.judged)}
        if small_groups == "interval":
            failed, status = boot.exceeded, boot.status

    summary = {
        **judged,
        **_task_summary(chosen, bootstrap, bootstrap_seed, small_groups),
        "groups": len(by_group),
        "sufficient_groups": len(sufficient),
        "insufficient_groups": insufficient,
        "exceeded": failed,
        "max_demographic_parity_difference": max_demographic_parity_difference,
        "max_equalized_odds_difference": max_equalized_odds_difference,
        "min_group_size": min_group_size,
        "sensitive_features": sensitive,
        "positive_label": positive_label,
        "rows": rows,
        "rows_excluded": rows_excluded,
        "prediction_source": "model" if model_info else "column",
        **ratio_summary,
    }
    if per_feature:
        summary["impact_ratio_by_feature"] = {k: v["summary"]["impact_ratio"] for k, v in per_feature.items()}
    details: dict[str, Any] = {
        "by_group": by_group,
        **({"impact_ratios_by_feature": per_feature} if per_feature else {}),
        "disparities": {"sufficient_groups": judged, "all_groups": overall},
        # govflow's numpy computes the numbers; tests assert they are Fairlearn's bits (oracle).
        "provenance": {**provenance(oracles=[Oracle("fairlearn", BINARY_CELLS_TOLERANCE)]), **(engine or {})},
    }
    if model_info:
        details["model"] = model_info
    return CheckResult(check=CHECK, status=status, summary=summary, details=details)


def _feature_selections(
    selections: Mapping[str, tuple[int, int]], sensitive: Sequence[str]
) -> dict[str, dict[str, tuple[int, int]]]:
    """Each feature's own categories: the intersections' (rows, favourable) summed per value.

    An intersection's key joins its values with ``|``; a value holding ``|`` makes the split
    ambiguous, and then no per-feature ratio is reported rather than a wrong one.
    """
    per: dict[str, dict[str, tuple[int, int]]] = {name: {} for name in sensitive}
    for key, (rows, favourable) in selections.items():
        values = key.split("|")
        if len(values) != len(sensitive):
            return {}
        for name, value in zip(sensitive, values, strict=True):
            seen_rows, seen_favourable = per[name].get(value, (0, 0))
            per[name][value] = (seen_rows + rows, seen_favourable + favourable)
    return per


def _selections(table: CellTable, groups: Groups) -> dict[str, tuple[int, int]]:
    """(rows, rows predicted favourable) per group, from the confusion counts."""
    return {
        key: (int(table.counts[code].sum()), int(table.counts[code][:, 1].sum()))
        for code, key in enumerate(groups.keys)
    }


def _task_summary(chosen: TaskChoice, bootstrap: int, seed: int, small_groups: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task": chosen.task,
        "task_detected": chosen.reason if chosen.detected else None,
        "small_groups": small_groups,
    }
    if bootstrap:
        out["bootstrap"] = {"replicates": bootstrap, "seed": seed, "confidence": CONFIDENCE}
    return out


def _evaluate_other_task(
    frame: pd.DataFrame,
    predicted: Any,
    chosen: TaskChoice,
    *,
    label: str,
    prediction_name: str,
    sensitive: list[str],
    min_group_size: int,
    thresholds: dict[str, float | None],
    bootstrap: int,
    bootstrap_seed: int,
    small_groups: str,
    model_info: dict[str, Any] | None,
) -> CheckResult:
    """Multiclass and regression: validated outcomes, then the shared per-group judgement."""
    import numpy as np

    classes: list[Any] | None = None
    outcomes: ClassOutcomes | NumericOutcomes
    if chosen.task == "multiclass":
        outcomes = class_outcomes(frame[label], predicted, label_name=label, prediction_name=prediction_name)
        classes = outcomes.classes
    else:
        outcomes = numeric_outcomes(
            frame[label], predicted, label_name=label, prediction_name=prediction_name
        )
    groups = intersection_groups(frame, sensitive, outcomes.keep)
    if len(groups.keys) < 2:
        raise CheckInputError(
            f"{ONE_GROUP} ({', '.join(sensitive)} = {', '.join(map(repr, groups.keys)) or 'none'})"
        )
    large = None
    if bootstrap and chosen.task == "regression":
        large = [groups.keys[g] for g in normal_groups(np.bincount(groups.codes, minlength=len(groups.keys)))]
    return task_result(
        task_stats(chosen.task, groups, outcomes.y_true, outcomes.y_pred, classes),
        groups,
        chosen,
        classes=classes,
        rows=len(outcomes.y_true),
        rows_excluded=outcomes.rows_excluded,
        sensitive=sensitive,
        min_group_size=min_group_size,
        thresholds=thresholds,
        bootstrap=bootstrap,
        bootstrap_seed=bootstrap_seed,
        small_groups=small_groups,
        model_info=model_info,
        normal_limit_groups=large,
    )


def task_result(
    stats: TaskStats,
    groups: Groups,
    chosen: TaskChoice,
    *,
    classes: list[Any] | None,
    rows: int,
    rows_excluded: int,
    sensitive: list[str],
    min_group_size: int,
    thresholds: dict[str, float | None],
    bootstrap: int,
    bootstrap_seed: int,
    small_groups: str,
    model_info: dict[str, Any] | None = None,
    normal_limit_groups: list[str] | None = None,
    engine: dict[str, Any] | None = None,
) -> CheckResult:
    """The multiclass or regression verdict from per-group statistics (from rows or from an engine)."""
    limits = {
        name: value
        for name, value in thresholds.items()
        if name.removeprefix("max_") in DISPARITIES[chosen.task]
    }
    verdict = judge_groups(
        stats,
        groups,
        min_group_size=min_group_size,
        thresholds=limits,
        bootstrap=bootstrap,
        seed=bootstrap_seed,
        small_groups=small_groups,
    )
    summary: dict[str, Any] = {
        **verdict.judged,
        **_task_summary(chosen, bootstrap, bootstrap_seed, small_groups),
        "groups": len(verdict.by_group),
        "sufficient_groups": len(verdict.by_group) - len(verdict.insufficient),
        "insufficient_groups": verdict.insufficient,
        "exceeded": verdict.exceeded,
        **limits,
        "min_group_size": min_group_size,
        "sensitive_features": sensitive,
        "rows": rows,
        "rows_excluded": rows_excluded,
        "prediction_source": "model" if model_info else "column",
    }
    if classes is not None:
        summary["classes"] = [str(c) for c in classes]
    if bootstrap and chosen.task == "regression":
        summary["bootstrap"]["normal_limit_groups"] = (
            normal_limit_groups  # see _bootstrap: resampled sums' normal limit
        )
        summary["bootstrap"]["normal_limit_above_rows"] = NORMAL_ABOVE
    if chosen.task == "regression":
        worst = max(
            (k for k, e in verdict.by_group.items() if not e["insufficient"] or small_groups == "interval"),
            key=lambda k: verdict.by_group[k]["mean_absolute_error"],
            default=None,
        )
        # Fairlearn's bounded group loss: the worst-off group's loss is what a bound would cap.
        summary["bounded_group_loss"] = {"metric": "mean_absolute_error", "worst_group": worst}
    if verdict.note:
        summary["note"] = verdict.note
    details: dict[str, Any] = {
        "by_group": verdict.by_group,
        "disparities": {"sufficient_groups": verdict.judged, "all_groups": verdict.overall},
        "provenance": {**provenance(oracles=[Oracle("fairlearn", TASK_TOLERANCE)]), **(engine or {})},
    }
    if model_info:
        details["model"] = model_info
    return CheckResult(check=CHECK, status=verdict.status, summary=summary, details=details)


def _check_options(
    label: str,
    prediction: str | None,
    sensitive: list[str],
    model_path: Any,
    min_group_size: int,
    max_dpd: float,
    max_eod: float,
) -> None:
    if not sensitive:
        raise CheckInputError("give at least one sensitive feature column")
    if len(set(sensitive)) != len(sensitive):
        raise CheckInputError(f"a sensitive feature is listed twice: {', '.join(sensitive)}")
    if label in sensitive or (prediction and prediction in sensitive):
        raise CheckInputError("the label and prediction columns cannot also be sensitive features")
    if prediction and model_path is not None:
        raise CheckInputError("give either a prediction column or a model, not both")
    if not prediction and model_path is None:
        raise CheckInputError("give a prediction column or a model to predict with")
    if prediction == label:
        raise CheckInputError("the prediction column cannot be the label column")
    if int(min_group_size) < 1:
        raise CheckInputError(f"min_group_size must be at least 1, got {min_group_size}")
    for name, value in (
        ("max_demographic_parity_difference", max_dpd),
        ("max_equalized_odds_difference", max_eod),
    ):
        if not 0 <= value <= 1:
            raise CheckInputError(f"{name} must be between 0 and 1, got {value}")


def _check_task_options(bootstrap: int, small_groups: str, **limits: float | None) -> None:
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or not 0 <= bootstrap <= MAX_BOOTSTRAP:
        raise CheckInputError(f"bootstrap must be an integer from 0 to {MAX_BOOTSTRAP}, got {bootstrap!r}")
    if small_groups not in SMALL_GROUP_RULES:
        raise CheckInputError(
            f"small_groups must be one of {', '.join(SMALL_GROUP_RULES)}, got {small_groups!r}"
        )
    if small_groups == "interval" and not bootstrap:
        raise CheckInputError("small_groups 'interval' judges bootstrap intervals: give bootstrap > 0")
    for name, value in limits.items():
        if value is None:
            continue
        if value != value or value < 0 or (name == "max_accuracy_difference" and value > 1):
            raise CheckInputError(
                f"{name} must be {'between 0 and 1' if 'accuracy' in name else 'at least 0'}, got {value}"
            )


def _as_label_classes(model: Any, predicted: Any, label: Any, positive_label: Any) -> Any:
    """Map a 0/1 (or boolean) model's output onto the label classes of the eval data.

    Models are usually trained on ``y == positive_label`` and so predict 0/1 while the
    eval data keeps its original labels (``>50K``/``<=50K``): the model's positive class
    (``model_predictions.positive_class``, as the explanation reads it) is the positive label.
    """
    import numpy as np

    classes = [c for c in label.dropna().unique()]
    if (
        positive_label is None
        or len(classes) != 2
        or any(isinstance(c, (int, float, np.number, bool)) for c in classes)
    ):
        return predicted
    positive = next((c for c in classes if str(c) == str(positive_label)), None)
    if positive is None:
        return predicted  # binary_outcomes names the unknown positive label
    try:
        encoded = positive_class(model, positive_label)
    except CheckInputError:
        return predicted  # binary_outcomes names the predictions that are no label class
    if str(encoded) == str(positive):
        return predicted  # the model predicts the labels themselves
    negative = next(c for c in classes if c is not positive)
    return np.where(np.asarray(predicted) == encoded, positive, negative)
