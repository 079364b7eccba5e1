"""Which kind of model the fairness check judges (binary, multiclass, regression), and its validated outcomes.

1. The task is given (``--task``, ``params.governance.task``) or detected from
   the label: two distinct values are ``binary``; numbers with a fraction, or
   more than ``MAX_CLASSES`` distinct integers, are ``regression``; anything
   else (text, a few integers) is ``multiclass``. The detection and its reason
   are stated in the evidence.
2. Multiclass label and prediction are coded over the label's classes (a
   prediction that is no label class is an error); regression label and
   prediction must be numbers. Rows without a label are excluded and counted;
   a missing prediction is an error (a model that predicts nothing is broken).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from govflow.checks._result import CheckInputError
from govflow.checks.fairness._inputs import _same, _show

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ModelTask = Literal["binary", "multiclass", "regression"]
MODEL_TASKS: tuple[ModelTask, ...] = get_args(ModelTask)
# More distinct integer labels than this are read as a quantity (regression), not classes.
MAX_CLASSES = 20


@dataclass(frozen=True)
class TaskChoice:
    task: ModelTask
    detected: bool
    reason: str


@dataclass(frozen=True)
class ClassOutcomes:
    """Label and prediction as codes into ``classes`` (the label's classes, sorted as text)."""

    y_true: np.ndarray
    y_pred: np.ndarray
    classes: list[Any]
    keep: np.ndarray | None
    rows_excluded: int


@dataclass(frozen=True)
class NumericOutcomes:
    y_true: np.ndarray  # float64
    y_pred: np.ndarray  # float64
    keep: np.ndarray | None
    rows_excluded: int


def choose_task(label: pd.Series, task: str | None, *, label_name: str) -> TaskChoice:
    """The given task (validated) or the one the label's values say, with the reason."""
    import numpy as np
    import pandas as pd

    if task is not None:
        if task not in MODEL_TASKS:
            raise CheckInputError(f"unknown task {task!r}: choose one of {', '.join(MODEL_TASKS)}")
        return TaskChoice(task, detected=False, reason="given")
    values = label.dropna()
    distinct = values.nunique()
    if distinct == 0:
        raise CheckInputError(f"label column {label_name!r} has only null values")
    if distinct <= 2:
        return TaskChoice("binary", True, f"label {label_name!r} has {distinct} distinct values")
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        as_float = values.to_numpy(dtype=np.float64)
        if not np.all(np.mod(as_float, 1) == 0):
            return TaskChoice("regression", True, f"label {label_name!r} has non-integer numbers")
        if distinct > MAX_CLASSES:
            return TaskChoice(
                "regression", True, f"label {label_name!r} has {distinct} distinct integers (> {MAX_CLASSES})"
            )
    return TaskChoice("multiclass", True, f"label {label_name!r} has {distinct} distinct classes")


def class_outcomes(
    label: pd.Series, prediction: pd.Series | np.ndarray, *, label_name: str, prediction_name: str
) -> ClassOutcomes:
    """Code label and prediction over the label's classes (at least two, among the kept rows)."""
    import numpy as np
    import pandas as pd

    prediction = _series(prediction, label.index)
    _no_missing_prediction(prediction, prediction_name)
    classes = sorted(label.dropna().unique().tolist(), key=str)
    if not classes:
        raise CheckInputError(f"label column {label_name!r} has only null values")
    if len(classes) < 2:
        raise CheckInputError(
            f"label column {label_name!r} has a single class ({_show(classes)}): "
            "fairness needs several classes"
        )
    label_codes = pd.Index(classes).get_indexer(label)  # -1: null label
    pred_values = pd.unique(prediction.to_numpy())
    lookup = {}
    for value in pred_values:
        match = next((i for i, c in enumerate(classes) if _same(value, c)), None)
        if match is None:
            unknown = [v for v in pred_values if not any(_same(v, c) for c in classes)]
            raise CheckInputError(
                f"prediction {prediction_name!r} has value(s) that are not label classes: "
                f"{_show(unknown)} (label classes: {_show(classes)})"
            )
        lookup[value] = match
    pred_codes = prediction.map(lookup).to_numpy(dtype=np.int64)
    keep = label_codes >= 0
    excluded = int(len(keep) - keep.sum())
    if excluded == len(keep):
        raise CheckInputError(f"no row has a label ({label_name!r})")
    y_true = label_codes.astype(np.int64)
    if excluded:
        y_true, pred_codes = y_true[keep], pred_codes[keep]
    return ClassOutcomes(
        y_true=y_true,
        y_pred=pred_codes,
        classes=[c.item() if hasattr(c, "item") else c for c in classes],
        keep=keep if excluded else None,
        rows_excluded=excluded,
    )


def numeric_outcomes(
    label: pd.Series, prediction: pd.Series | np.ndarray, *, label_name: str, prediction_name: str
) -> NumericOutcomes:
    """Label and prediction as float64; text or infinite values are errors."""
    import numpy as np

    prediction = _series(prediction, label.index)
    _no_missing_prediction(prediction, prediction_name)
    y_true = _numbers(label, f"label column {label_name!r}")
    y_pred = _numbers(prediction, f"prediction {prediction_name!r}")
    keep = ~np.isnan(y_true)
    excluded = int(len(keep) - keep.sum())
    if excluded == len(keep):
        raise CheckInputError(f"label column {label_name!r} has only null values")
    if excluded:
        y_true, y_pred = y_true[keep], y_pred[keep]
    return NumericOutcomes(
        y_true=y_true, y_pred=y_pred, keep=keep if excluded else None, rows_excluded=excluded
    )


def _numbers(values: pd.Series, what: str) -> np.ndarray:
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        converted = pd.to_numeric(values, errors="coerce")
        text = values[converted.isna() & values.notna()]
        if len(text) or pd.api.types.is_bool_dtype(values):
            shown = _show(pd.unique(text.astype(str))) if len(text) else "booleans"
            raise CheckInputError(f"{what} is not numeric ({shown}): regression needs numbers")
        values = converted
    out = values.to_numpy(dtype=np.float64)
    if np.isinf(out).any():
        raise CheckInputError(f"{what} has infinite values")
    return out


def _no_missing_prediction(prediction: pd.Series, name: str) -> None:
    missing = int(prediction.isna().sum())
    if missing:
        raise CheckInputError(
            f"prediction {name!r} is missing (NaN) on {missing} of {len(prediction)} rows: "
            "a model must predict every row"
        )


def _series(values: Any, index: Any) -> pd.Series:
    import numpy as np
    import pandas as pd

    return values if isinstance(values, pd.Series) else pd.Series(np.asarray(values), index=index)
