"""Predictions of a registered model artifact on evaluation data.

Every load starts from a ``ModelArtifact``: the bytes read once and hashed
(a path is read into one here), so what is loaded is what was hashed.
- skops (``.skops``): loaded without pickle; types outside skops' default
  trusted set are refused unless ``trusted`` names them (the policy's list
  for the tier, not the file's own claims);
- ONNX (``.onnx``): loaded by onnxruntime;
- pickle (``.joblib``, ``.pkl``, ``.pickle``): runs code when loaded, so it is
  only loaded in a sandbox process (``_sandbox``), and only where the caller's
  accepted ``formats`` include it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._model_artifact import ModelArtifact, require_format
from govflow.checks._onnx import OnnxModel
from govflow.checks._result import CheckInputError
from govflow.checks._sandbox import SandboxedModel, load_sandboxed

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "JOBLIB_SUFFIXES",
    "SKOPS_SUFFIXES",
    "ModelArtifact",
    "as_artifact",
    "load_model",
    "model_type_is_sandboxed",
    "positive_class",
    "predict",
    "untrusted_types",
]

ERR_POSITIVE_CLASS = (
    "cannot tell which model class means the positive label {positive!r} "
    "(model classes: {classes}); pass the positive label the model predicts"
)
JOBLIB_SUFFIXES = (".joblib", ".pkl", ".pickle")
SKOPS_SUFFIXES = (".skops",)
ALL_FORMATS = ("skops", "onnx", "pickle")


def as_artifact(source: str | Path | ModelArtifact) -> ModelArtifact:
    return source if isinstance(source, ModelArtifact) else ModelArtifact.from_file(source)


def load_model(
    source: str | Path | ModelArtifact,
    *,
    trusted: Sequence[str] = (),
    formats: Sequence[str] = ALL_FORMATS,
) -> Any:
    """Load a model from its bytes (a path is read once into a ``ModelArtifact`` first).

    ``trusted``: fully qualified type names (as ``skops.io.get_untrusted_types``
    prints them) that a person reviewed and allows in a skops file; any other
    type skops does not trust by default is refused with a one-line error.
    ``formats``: the artifact formats the caller accepts (a policy tier's list).
    """
    artifact = as_artifact(source)
    fmt = require_format(artifact.name, tuple(formats), where="this load")
    if fmt == "skops":
        return _load_skops(artifact, trusted)
    if fmt == "onnx":
        return OnnxModel(artifact.data)
    return load_sandboxed(artifact.data)


def model_type_is_sandboxed(model: Any) -> bool:
    """True for a model held by a sandbox process (a pickle): its evidence says so."""
    return isinstance(model, SandboxedModel)


def untrusted_types(source: str | Path | ModelArtifact) -> list[str]:
    """Types in a skops file that skops does not trust by default (review them before trusting)."""
    get_untrusted_types = skops_io().get_untrusted_types

    artifact = as_artifact(source)
    try:
        return sorted(get_untrusted_types(data=artifact.data))
    except Exception as err:  # a corrupt zip, a non-skops file...
        raise CheckInputError(f"cannot read skops model {artifact.name}: {_first_line(err)}") from err


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


def skops_io() -> Any:
    """``skops.io``, imported without a warning flood.

    On import skops looks up each SciPy ufunc's module by probing every loaded module's attributes;
    inside an Airflow task that includes Airflow's deprecation shims, which warn on each probe: about
    a thousand warnings shipped to the task log (seconds per task). The Celery workers import it once
    before forking (``prodstack.celery_config``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Airflow's are FutureWarnings; none concerns the import itself
        import skops.io

    return skops.io


def _load_skops(artifact: ModelArtifact, trusted: Sequence[str]) -> Any:
    loads = skops_io().loads

    unknown = [t for t in untrusted_types(artifact) if t not in set(trusted)]
    if unknown:
        raise CheckInputError(
            f"model {artifact.name} contains types skops does not trust by default: {', '.join(unknown)}; "
            "review them and trust each explicitly (the policy's artifacts.trusted_types, or --trust TYPE)"
        )
    try:
        loaded = loads(artifact.data, trusted=list(trusted) or None)
    except Exception as err:
        raise CheckInputError(f"cannot load skops model {artifact.name}: {_first_line(err)}") from err
    # A challenger from `govflow mitigate` is data (a dict over estimators) that govflow applies.
    # Imported here: the fairness package imports this module.
    from govflow.checks.fairness.mitigation.predictor import MitigatedModel, is_mitigation

    return MitigatedModel(loaded) if is_mitigation(loaded) else loaded


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
