"""Turning a label, a prediction and sensitive columns into validated 0/1 arrays and group codes.

Fairlearn's disparity functions take 0/1 outcomes (their selection rate and
TPR/FPR use ``pos_label=1``), so the label and the prediction are mapped to
1 (the positive label) and 0 here, after checking both are binary over the
same two classes.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

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
