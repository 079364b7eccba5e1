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

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._io import as_frame, require_columns
from govflow.checks._result import CheckInputError, CheckResult, timed_check
from govflow.checks.aggregates import choose_engine
from govflow.checks.fairness._bootstrap import normal_groups
from govflow.checks.fairness._impact import DEFAULT_MIN_SHARE
from govflow.checks.fairness._judge import (
    DISPARITIES,
    SMALL_GROUP_RULES,
    SmallGroupRule,
    TaskStats,
    task_stats,
)
from govflow.checks.fairness._metrics import cell_table
from govflow.checks.fairness._task_metrics import BINARY_METRICS, REGRESSION_METRICS
from govflow.checks.fairness._verdict import CHECK, binary_result, task_result
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
    "DISPARITIES",
    "MODEL_TASKS",
    "REGRESSION_METRICS",
    "SMALL_GROUP_RULES",
    "ModelTask",
    "SmallGroupRule",
    "TaskStats",
    "binary_result",
    "evaluate_fairness",
    "task_result",
]

ONE_GROUP = "the sensitive feature(s) have a single group among the evaluated rows: fairness compares groups"
# What runs: numpy and pandas compute, scikit-learn runs the model when one is given. Fairlearn
# does not run: it is the oracle the numbers are tested against (pytest -m oracle).
LIBRARIES = ("scikit-learn", "numpy", "pandas")
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
        from govflow.checks.fairness._aggregated import aggregated_fairness

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
