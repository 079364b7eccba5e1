"""Labels, predictions and the kind of model: the validated outcomes every model check reads.

Shared by fairness, performance (and its comparison) and explain, so a label is read, a
positive label found and a task detected the same way wherever a number is computed.

Binary outcomes (``binary_outcomes``): Fairlearn's disparity functions take 0/1 outcomes
(their selection rate and TPR/FPR use ``pos_label=1``), so the label and the prediction are
mapped to 1 (the positive label) and 0 here, after checking both are binary over the same
two classes. Sensitive columns become intersectional group codes (``intersection_groups``).

The task (``choose_task``, ``class_outcomes``, ``numeric_outcomes``):
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

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from govflow.checks._result import CheckInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "GROUP_SEPARATOR",
    "MAX_CLASSES",
    "MISSING_GROUP",
    "MODEL_TASKS",
    "ClassOutcomes",
    "Groups",
    "ModelTask",
    "NumericOutcomes",
    "Outcomes",
    "TaskChoice",
    "binary_outcomes",
    "choose_task",
    "class_outcomes",
    "intersection_groups",
    "numeric_outcomes",
]

MISSING_GROUP = "(missing)"
GROUP_SEPARATOR = "|"
_SHOWN_VALUES = 5


@dataclass(frozen=True)
class Outcomes:
    """0/1 label and prediction of the rows kept, and the positive label as found in the data."""

    y_true: np.ndarray
    y_pred: np.ndarray
    keep: np.ndarray | None  # boolean mask of kept rows; None: all rows
    positive_label: Any
    rows_excluded: int


@dataclass(frozen=True)
class Groups:
    """Intersectional group code per row and each code's key (values joined with ``|``)."""

    codes: np.ndarray
    keys: list[str]
    values: list[tuple[str, ...]]  # per code: one value per sensitive feature


def binary_outcomes(
    label: pd.Series,
    prediction: pd.Series | np.ndarray,
    *,
    label_name: str,
    prediction_name: str,
    positive_label: Any = None,
) -> Outcomes:
    """Validate and binarize label and prediction; rows missing either are excluded (and counted)."""
    import numpy as np
    import pandas as pd

    prediction = (
        pd.Series(np.asarray(prediction), index=label.index)
        if not isinstance(prediction, pd.Series)
        else prediction
    )
    label_codes, label_classes = pd.factorize(label, use_na_sentinel=True)
    pred_codes, pred_values = pd.factorize(prediction, use_na_sentinel=True)
    if len(label_classes) == 0:
        raise CheckInputError(f"label column {label_name!r} has only null values")
    if len(pred_values) == 0:
        raise CheckInputError(f"prediction {prediction_name!r} has only null values")
    classes = list(label_classes)
    if len(classes) == 1:
        raise CheckInputError(
            f"label column {label_name!r} has a single class ({_show(classes)}): fairness needs both classes"
        )
    if len(classes) > 2:
        raise CheckInputError(
            f"label column {label_name!r} is not binary: {len(classes)} distinct values ({_show(classes)})"
        )
    positive_index = _positive_index(classes, positive_label, label_name)

    values = list(pred_values)
    if len(values) > 2:
        raise CheckInputError(
            f"prediction {prediction_name!r} is not binary: {len(values)} distinct values ({_show(values)})"
        )
    pred_class = []
    for value in values:
        matches = [i for i, c in enumerate(classes) if _same(value, c)]
        if not matches:
            raise CheckInputError(
                f"prediction {prediction_name!r} has value(s) that are not label classes: "
                f"{_show([v for v in values if not any(_same(v, c) for c in classes)])} "
                f"(label classes: {_show(classes)})"
            )
        pred_class.append(matches[0])

    keep = (label_codes >= 0) & (pred_codes >= 0)
    excluded = int(len(keep) - keep.sum())
    if excluded == len(keep):
        raise CheckInputError(
            f"no row has both a label ({label_name!r}) and a prediction ({prediction_name!r})"
        )
    y_true = (label_codes == positive_index).astype(np.int8)
    pred_positive = np.array([c == positive_index for c in pred_class] + [False], dtype=np.int8)
    y_pred = pred_positive[pred_codes]  # code -1 (null) picks the trailing False; such rows are dropped
    if excluded:
        y_true, y_pred = y_true[keep], y_pred[keep]
    if len(np.unique(y_true)) < 2:
        raise CheckInputError(
            f"label column {label_name!r} has a single class among rows with a prediction: "
            "fairness needs both classes"
        )
    return Outcomes(
        y_true=y_true,
        y_pred=y_pred,
        keep=keep if excluded else None,
        positive_label=_plain(classes[positive_index]),
        rows_excluded=excluded,
    )


def intersection_groups(frame: pd.DataFrame, sensitive: Sequence[str], keep: np.ndarray | None) -> Groups:
    """Code each row by the combination of its sensitive values (nulls form a ``(missing)`` group)."""
    import numpy as np
    import pandas as pd

    codes = np.zeros(len(frame) if keep is None else int(keep.sum()), dtype=np.int64)
    per_feature: list[list[str]] = []
    for name in sensitive:
        column = frame[name] if keep is None else frame[name][keep]
        feature_codes, uniques = pd.factorize(column, use_na_sentinel=True)
        labels = [str(v) for v in uniques] + [MISSING_GROUP]
        feature_codes = np.where(feature_codes < 0, len(uniques), feature_codes)
        codes = codes * len(labels) + feature_codes
        per_feature.append(labels)
    # Renumber the (few) combinations that occur, in order of their key.
    present = np.unique(codes)
    values = [_decode(int(code), per_feature) for code in present]
    keys = [GROUP_SEPARATOR.join(v) for v in values]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    remap = np.empty(len(present), dtype=np.int64)
    remap[order] = np.arange(len(order))
    return Groups(
        codes=remap[np.searchsorted(present, codes)],
        keys=[keys[i] for i in order],
        values=[values[i] for i in order],
    )


def _decode(code: int, per_feature: list[list[str]]) -> tuple[str, ...]:
    out = []
    for labels in reversed(per_feature):
        code, index = divmod(code, len(labels))
        out.append(labels[index])
    return tuple(reversed(out))


def _positive_index(classes: list[Any], positive_label: Any, label_name: str) -> int:
    if positive_label is None:
        plain = {_plain(c) for c in classes}
        if plain <= {0, 1} or plain <= {-1, 1}:  # True == 1, so booleans qualify too
            return next(i for i, c in enumerate(classes) if _plain(c) == 1)
        raise CheckInputError(
            f"cannot tell which value of label column {label_name!r} is positive ({_show(classes)}): "
            "give the positive label"
        )
    matches = [i for i, c in enumerate(classes) if _same(positive_label, c)]
    if not matches:
        raise CheckInputError(
            f"positive label {positive_label!r} is not a value of label column "
            f"{label_name!r} ({_show(classes)})"
        )
    return matches[0]


def _same(a: Any, b: Any) -> bool:
    """Equal as values, or as text (a CLI passes ``1`` for an integer label)."""
    a, b = _plain(a), _plain(b)
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        return bool(a == b)
    if (isinstance(a, str) and isinstance(b, numbers.Number)) or (
        isinstance(b, str) and isinstance(a, numbers.Number)
    ):
        text = str(a if isinstance(a, str) else b)  # the one of the two that is text
        number: Any = b if isinstance(a, str) else a
        try:
            return float(text.strip()) == float(number)
        except ValueError:
            return text.strip().lower() == str(number).lower()
    return a == b or str(a) == str(b)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _show(values: Sequence[Any]) -> str:
    shown = ", ".join(repr(_plain(v)) for v in list(values)[:_SHOWN_VALUES])
    return shown + (", ..." if len(values) > _SHOWN_VALUES else "")


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
