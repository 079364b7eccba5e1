"""The rows a mitigation works on: the label as 0/1 (or numbers), the model's predictions, the split."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError
from govflow.checks.model_predictions import positive_class

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def target(values: pd.Series, *, model: Any, positive_label: Any, regression: bool) -> np.ndarray:
    """The label as numbers (regression) or 0/1 with 1 for ``positive_label`` (binary)."""
    import numpy as np

    if regression:
        return values.to_numpy(dtype=np.float64)
    text = values.astype(str).str.replace(r"\.0$", "", regex=True)
    distinct = sorted(text.unique())
    if len(distinct) > 2:
        raise CheckInputError(
            f"label column {values.name!r} has {len(distinct)} values; mitigation needs a binary label"
        )
    if positive_label is None:
        if not set(distinct) <= {"0", "1", "False", "True"}:
            raise CheckInputError(
                f"label column {values.name!r} has values {', '.join(distinct)}: name the positive one"
            )
        positive = "True" if "True" in distinct else "1"
    else:
        positive = str(positive_label)
    if positive not in distinct:
        raise CheckInputError(
            f"positive label {positive_label!r} does not occur in label column {values.name!r}"
        )
    return (text == positive).to_numpy(dtype=np.int64)


def base_predictions(
    model: Any, x: pd.DataFrame, *, positive_label: Any, regression: bool, predicted: Any = None
) -> np.ndarray:
    """The model's predictions as numbers (regression) or 0/1 (binary)."""
    import numpy as np

    raw = np.asarray(model.predict(x) if predicted is None else predicted)
    if regression:
        return raw.astype(np.float64)
    positive = positive_class(model, positive_label)
    if isinstance(positive, str) and raw.dtype.kind not in "OUS":
        return (raw.astype(str) == positive).astype(np.int64)
    return (raw == positive).astype(np.int64)


def split_rows(
    y: np.ndarray, groups: np.ndarray, *, regression: bool, held_out: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit and held-out row indices, seeded, stratified by group (and label), each sorted."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    strata = groups if regression else np.char.add(groups.astype(str), "/" + np.asarray(y).astype(str))
    try:
        fit, test = train_test_split(rows, test_size=held_out, random_state=seed, stratify=strata)
    except ValueError:  # a stratum of one row: an unstratified split is still held out
        fit, test = train_test_split(rows, test_size=held_out, random_state=seed)
    return np.sort(fit), np.sort(test)
