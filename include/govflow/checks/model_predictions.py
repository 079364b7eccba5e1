"""Predictions of a registered scikit-learn model artifact on evaluation data.

Artifacts are saved with joblib (``.joblib``, ``.pkl``, ``.pickle``) or skops
(``.skops``). A joblib file is a pickle: loading it runs code from the file, so
only load artifacts whose sha256 the registry recorded from a trusted training
job. A skops file is loaded without pickle; types outside skops' default
trusted set are refused unless the caller names them in ``trusted`` after
reviewing them (``skops.io.get_untrusted_types`` lists them).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["JOBLIB_SUFFIXES", "SKOPS_SUFFIXES", "load_model", "positive_class", "predict", "untrusted_types"]

ERR_POSITIVE_CLASS = (
    "cannot tell which model class means the positive label {positive!r} "
    "(model classes: {classes}); pass the positive label the model predicts"
)
JOBLIB_SUFFIXES = (".joblib", ".pkl", ".pickle")
SKOPS_SUFFIXES = (".skops",)


def load_model(path: str | Path, *, trusted: Sequence[str] = ()) -> Any:
    """Load a scikit-learn model saved with joblib or skops.

    ``trusted``: fully qualified type names (as ``skops.io.get_untrusted_types``
    prints them) that a person reviewed and allows in a skops file; any other
    type skops does not trust by default is refused with a one-line error.
    """
    p = Path(path)
    if not p.is_file():
        raise CheckInputError(f"model file not found: {p}")
    if p.stat().st_size == 0:
        raise CheckInputError(f"empty model file: {p}")
    suffix = p.suffix.lower()
    if suffix in SKOPS_SUFFIXES:
        return _load_skops(p, trusted)
    if suffix in JOBLIB_SUFFIXES:
        return _load_joblib(p)
    raise CheckInputError(
        f"unsupported model file type {suffix or '(none)'!r} for {p}: use .skops, .joblib, .pkl or .pickle"
    )


def untrusted_types(path: str | Path) -> list[str]:
    """Types in a skops file that skops does not trust by default (review them before trusting)."""
    from skops.io import get_untrusted_types

    try:
        return sorted(get_untrusted_types(file=Path(path)))
    except Exception as err:  # a corrupt zip, a non-skops file...
        raise CheckInputError(f"cannot read skops model {path}: {_first_line(err)}") from err


def predict(model: Any, data: pd.DataFrame, *, exclude: Sequence[str] = ()) -> np.ndarray:
    """``model.predict`` on the model's feature columns of ``data``.

    The features are the model's ``feature_names_in_`` when it has them (every
    one must be present), else every column of ``data`` except ``exclude``
    (the label and other non-feature columns).
    """
    import numpy as np

    if not hasattr(model, "predict"):
        raise CheckInputError(f"the model ({type(model).__name__}) has no predict method")
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        missing = [n for n in names if n not in data.columns]
        if missing:
            raise CheckInputError(
                f"feature column(s) the model needs are missing from the data: {', '.join(missing)}"
            )
        features = data[names]
    else:
        features = data.drop(columns=[c for c in exclude if c in data.columns])
    try:
        predictions = np.asarray(model.predict(features))
    except Exception as err:  # the model's own validation errors come in many types
        raise CheckInputError(f"the model could not predict on the data: {_first_line(err)}") from err
    if predictions.ndim != 1 or len(predictions) != len(data):
        raise CheckInputError(
            f"the model returned predictions of shape {predictions.shape} for {len(data)} rows; "
            "a binary classifier returns one label per row"
        )
    return predictions


def positive_class(model: Any, positive_label: Any) -> Any:
    """The model's class that stands for the data's positive label.

    The same label (">50K") or its text form matches; a 0/1 (or False/True)
    model trained on ``y == positive_label`` predicts the positive label as 1.
    A model that does not record its classes is taken to predict the label itself.
    """
    classes = _classes(model)
    if classes is None:
        return positive_label if positive_label is not None else 1
    for cls in classes:
        if cls == positive_label or str(cls) == str(positive_label):
            return cls
    if {str(c) for c in classes} <= {"0", "1", "False", "True"}:
        return classes[-1]
    raise CheckInputError(
        ERR_POSITIVE_CLASS.format(positive=positive_label, classes=", ".join(map(str, classes)))
    )


def _classes(model: Any) -> list[Any] | None:
    # A wrapper (ThresholdOptimizer, a calibrated classifier...) keeps them on its inner estimator.
    for candidate in (model, getattr(model, "estimator_", None), getattr(model, "estimator", None)):
        classes = getattr(candidate, "classes_", None)
        if classes is not None:
            return list(classes)
    return None


def _load_skops(p: Path, trusted: Sequence[str]) -> Any:
    from skops.io import load

    unknown = [t for t in untrusted_types(p) if t not in set(trusted)]
    if unknown:
        raise CheckInputError(
            f"model {p} contains types skops does not trust by default: {', '.join(unknown)}; "
            "review them and trust each explicitly (--trust TYPE) to load it"
        )
    try:
        return load(p, trusted=list(trusted) or None)
    except Exception as err:
        raise CheckInputError(f"cannot load skops model {p}: {_first_line(err)}") from err


def _load_joblib(p: Path) -> Any:
    import joblib

    try:
        return joblib.load(p)
    except Exception as err:  # unpickling can fail in any way the file's code chooses
        raise CheckInputError(f"cannot load joblib model {p}: {_first_line(err)}") from err


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
