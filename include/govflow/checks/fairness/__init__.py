"""Fairness check: predictions vs. labels per sensitive group, with Fairlearn.

Per group (each sensitive feature's values, or their intersections joined
with ``|`` when several features are given): count, selection rate, accuracy,
TPR, FPR, FNR (Fairlearn's ``MetricFrame``); and Fairlearn's demographic
parity difference and ratio and equalized odds difference between groups.

Groups with fewer than ``min_group_size`` rows are reported with their numbers
and flagged ``insufficient`` (status ``warn``), never hidden; the disparities
the check judges are computed over the sufficient groups, because a handful
of rows gives rates that are noise. ``details["disparities"]`` also holds
them over all groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._io import as_frame, require_columns
from govflow.checks._result import CheckInputError, CheckResult, CheckStatus, timed_check
from govflow.checks.fairness._inputs import binary_outcomes, intersection_groups
from govflow.checks.fairness._metrics import cell_table, disparities, metrics_by_group
from govflow.checks.model_predictions import (
    ModelArtifact,
    as_artifact,
    load_model,
    model_type_is_sandboxed,
    positive_class,
    predict,
)
from govflow.progress import Progress, resolve

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["evaluate_fairness"]

CHECK = "fairness"
ONE_GROUP = "the sensitive feature(s) have a single group among the evaluated rows: fairness compares groups"
LIBRARIES = ("fairlearn", "scikit-learn", "numpy", "pandas")


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
    progress: Progress | None = None,
) -> CheckResult:
    """Evaluate group fairness of binary predictions.

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
    progress : hears the table read and the model's predictions (``govflow.progress``)

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
    report = resolve(progress)
    frame = as_frame(data, what="the evaluation data", progress=report)
    require_columns(
        frame, [label, *sensitive, *([prediction] if prediction else [])], source="the evaluation data"
    )

    model_info: dict[str, Any] | None = None
    if model_path is not None:
        artifact = as_artifact(model_path)  # read and hashed once; the model loads from these bytes
        report("fairness: predicting with the model", 0, len(frame))
        model = load_model(artifact, trusted=trusted_types)
        predicted = _as_label_classes(
            model, predict(model, frame, exclude=[label]), frame[label], positive_label
        )
        report("fairness: predicting with the model", len(frame), len(frame))
        prediction_name = f"model {Path(artifact.name).name}"
        model_info = {
            "path": artifact.name,
            "sha256": artifact.sha256,
            "type": getattr(model, "model_type", type(model).__name__),
            "sandboxed": model_type_is_sandboxed(model),
        }
        outcomes = binary_outcomes(
            frame[label],
            predicted,
            label_name=label,
            prediction_name=prediction_name,
            positive_label=positive_label,
        )
    else:
        assert prediction  # _check_options: without a model there is a prediction column
        outcomes = binary_outcomes(
            frame[label],
            frame[prediction],
            label_name=label,
            prediction_name=prediction,
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
    table = cell_table(groups, outcomes.y_true, outcomes.y_pred)
    rates = metrics_by_group(table, groups, sensitive)

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
    overall = disparities(table, groups, sensitive)
    judged = (
        overall
        if len(sufficient) == len(groups.keys)
        else disparities(table, groups, sensitive, keep_groups=sufficient)
    )
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

    summary = {
        **judged,
        "groups": len(by_group),
        "sufficient_groups": len(sufficient),
        "insufficient_groups": insufficient,
        "exceeded": failed,
        "max_demographic_parity_difference": max_demographic_parity_difference,
        "max_equalized_odds_difference": max_equalized_odds_difference,
        "min_group_size": min_group_size,
        "sensitive_features": sensitive,
        "positive_label": outcomes.positive_label,
        "rows": len(outcomes.y_true),
        "rows_excluded": outcomes.rows_excluded,
        "prediction_source": "model" if model_info else "column",
    }
    details: dict[str, Any] = {
        "by_group": by_group,
        "disparities": {"sufficient_groups": judged, "all_groups": overall},
    }
    if model_info:
        details["model"] = model_info
    return CheckResult(check=CHECK, status=status, summary=summary, details=details)


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
