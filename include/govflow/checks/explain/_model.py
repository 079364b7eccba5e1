"""A loaded classifier seen the way the explanation needs it: its inputs and 0/1 predictions.

Covers plain scikit-learn estimators and pipelines, and Fairlearn's
post-processing wrappers (``ThresholdOptimizer``) whose ``predict`` also takes
``sensitive_features``: those get the sensitive columns from the data and a
fixed ``random_state`` so their randomised predictions are reproducible.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError
from govflow.checks.model_predictions import positive_class

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ERR_NO_PREDICT = "the model ({kind}) has no predict method"
ERR_FEATURES_UNKNOWN = (
    "the model ({kind}) does not record its input columns (feature_names_in_): "
    "fit it on a pandas DataFrame, or name the features explicitly"
)
ERR_FEATURES_MISSING = "feature column(s) the model needs are missing from the data: {names}"


@dataclass(frozen=True)
class ModelView:
    """``model`` plus what is needed to call it: input columns and how to read its output."""

    model: Any
    features: tuple[str, ...]
    sensitive: tuple[str, ...]  # passed as ``sensitive_features`` (empty for plain estimators)
    positive_class: Any
    random_state: int = 0

    @property
    def columns(self) -> list[str]:
        """Columns of the data the model reads: its inputs, then any sensitive pass-through."""
        return list(self.features) + [c for c in self.sensitive if c not in self.features]

    @property
    def kind(self) -> str:
        return _describe(self.model)

    def predict_positive(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean array: the model predicts the positive label for that row."""
        import numpy as np

        try:
            if self.sensitive:
                raw = self.model.predict(
                    frame[list(self.features)],
                    sensitive_features=frame[list(self.sensitive)],
                    random_state=self.random_state,
                )
            else:
                raw = self.model.predict(frame[list(self.features)])
        except CheckInputError:
            raise
        except Exception as err:  # the model's own validation errors come in many types
            raise CheckInputError(f"the model could not predict on the data: {_first_line(err)}") from err
        raw = np.asarray(raw)
        if raw.ndim != 1 or len(raw) != len(frame):
            raise CheckInputError(
                f"the model returned predictions of shape {raw.shape} for {len(frame)} rows; "
                "a binary classifier returns one label per row"
            )
        return _equals(raw, self.positive_class)


def view_model(
    model: Any,
    data_columns: Sequence[str],
    *,
    sensitive: Sequence[str],
    positive_label: Any,
    features: Sequence[str] | None = None,
    random_state: int = 0,
) -> ModelView:
    """Work out the model's inputs and positive class, checking them against the data's columns."""
    kind = _describe(model)
    if not hasattr(model, "predict"):
        raise CheckInputError(ERR_NO_PREDICT.format(kind=kind))
    names = list(features) if features else _feature_names(model)
    if names is None:
        raise CheckInputError(ERR_FEATURES_UNKNOWN.format(kind=kind))
    missing = [n for n in names if n not in set(data_columns)]
    if missing:
        raise CheckInputError(ERR_FEATURES_MISSING.format(names=", ".join(missing)))
    passes_sensitive = "sensitive_features" in _parameters(model.predict)
    return ModelView(
        model=model,
        features=tuple(names),
        sensitive=tuple(sensitive) if passes_sensitive else (),
        positive_class=positive_class(model, positive_label),
        random_state=random_state,
    )


def _feature_names(model: Any) -> list[str] | None:
    # A wrapper (ThresholdOptimizer, a calibrated classifier...) keeps the names on its inner estimator.
    for candidate in (model, getattr(model, "estimator_", None), getattr(model, "estimator", None)):
        names = getattr(candidate, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
    return None


def _equals(values: np.ndarray, target: Any) -> np.ndarray:
    import numpy as np

    # A text label against numeric predictions ("1" from the command line vs 1) compares as text.
    if isinstance(target, str) and values.dtype.kind not in "OUS":
        return values.astype(str) == target
    return np.asarray(values == target, dtype=bool)


def _parameters(fn: Any) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


def _describe(model: Any) -> str:
    described = getattr(model, "kind", None)  # a sandboxed or ONNX model describes itself
    if isinstance(described, str):
        return described
    kind = type(model).__name__
    steps = getattr(model, "steps", None)
    if steps:
        kind += "(" + " > ".join(type(step).__name__ for _, step in steps) + ")"
    inner = getattr(model, "estimator_", None)
    if inner is None:
        inner = getattr(model, "estimator", None)
    if inner is not None and not steps:
        kind += f"[{_describe(inner)}]"
    return kind


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
