"""A mitigated model stored as data, and applied by govflow (no fitted Fairlearn object is stored).

skops cannot dump Fairlearn's fitted mitigators (pandas state inside them)
and the high tier refuses pickles, so a challenger is a skops file holding
one plain dict (``FORMAT``) over scikit-learn estimators:

- ``threshold``: the base estimator plus, per group, the interpolated
  thresholder's spec (``p0``/``operator0``/``threshold0``,
  ``p1``/``operator1``/``threshold1``, ``p_ignore``/``prediction_constant``).
  The positive probability of a row is ``p0*[s op0 t0] + p1*[s op1 t1]``
  mixed with the constant: ``p_ignore*c + (1 - p_ignore)*that``, where ``s``
  is the base estimator's positive-class probability; the prediction is
  ``probability >= RandomState(random_state).rand(n)``, exactly Fairlearn's
  ``InterpolatedThresholder`` (its ``_pmf_predict`` and ``predict``).
  It needs the sensitive feature of every row at prediction time.
- ``reductions``: the reductions' predictors, each a scikit-learn estimator,
  with their weights: the positive probability is the weighted sum of their
  0/1 predictions, drawn the same way (Fairlearn's ``ExponentiatedGradient``).
  The sensitive feature is needed to fit, not to predict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

FORMAT = "govflow.mitigation/1"
METHODS = ("threshold", "reductions")


def is_mitigation(obj: Any) -> bool:
    """``obj`` is a challenger's data dict (what ``load_model`` read from a skops file)."""
    return isinstance(obj, Mapping) and obj.get("format") == FORMAT


class MitigatedModel:
    """Applies a challenger's data dict: ``predict`` like Fairlearn's object, ``positive_probability`` too."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        if not is_mitigation(spec) or spec.get("method") not in METHODS:
            raise CheckInputError(f"not a govflow mitigation ({FORMAT}, method one of {', '.join(METHODS)})")
        self.spec = dict(spec)
        self.method: str = spec["method"]
        self.random_state: int = int(spec.get("random_state", 0))
        self.sensitive: list[str] = list(spec.get("sensitive", []))
        self.classes_ = [0, 1]
        inner = spec["base"] if self.method == "threshold" else spec["predictors"][0]
        names = getattr(inner, "feature_names_in_", None)
        if names is not None:
            self.feature_names_in_ = names

    @property
    def kind(self) -> str:
        return f"govflow mitigation ({self.method}, {self.spec.get('constraint')})"

    @property
    def needs_sensitive_feature_at_prediction(self) -> bool:
        return self.method == "threshold"

    def positive_probability(self, X: pd.DataFrame, *, sensitive_features: Any = None) -> np.ndarray:
        """Each row's probability of a positive prediction (deterministic)."""
        import numpy as np

        if self.method == "reductions":
            total = np.zeros(len(X))
            for estimator, weight in zip(self.spec["predictors"], self.spec["weights"], strict=True):
                if weight:
                    total = total + weight * np.asarray(estimator.predict(X), dtype=np.float64)
            return total
        if sensitive_features is None:
            raise CheckInputError(
                "this mitigated model needs each row's sensitive feature at prediction time "
                f"({', '.join(self.sensitive)})"
            )
        groups = group_vector(sensitive_features)
        scores = np.asarray(self.spec["base"].predict_proba(X))[:, 1]
        positive = 0.0 * scores
        table = self.spec["groups"]
        unseen = sorted(set(groups.tolist()) - set(table))
        if unseen:
            raise CheckInputError(f"group(s) the mitigation was not fitted on: {', '.join(map(str, unseen))}")
        for group, rule in table.items():
            mixed = rule["p0"] * _apply(rule["operator0"], rule["threshold0"], scores) + rule["p1"] * _apply(
                rule["operator1"], rule["threshold1"], scores
            )
            if rule.get("p_ignore") is not None:
                mixed = rule["p_ignore"] * rule["prediction_constant"] + (1 - rule["p_ignore"]) * mixed
            positive[groups == group] = mixed[groups == group]
        return positive

    def predict(
        self, X: pd.DataFrame, *, sensitive_features: Any = None, random_state: Any = None
    ) -> np.ndarray:
        """0/1 predictions: the positive probability against seeded uniform draws (Fairlearn's rule)."""
        from sklearn.utils import check_random_state

        probability = self.positive_probability(X, sensitive_features=sensitive_features)
        draws = check_random_state(self.random_state if random_state is None else random_state)
        return (probability >= draws.rand(len(probability))) * 1


def group_vector(sensitive_features: Any) -> np.ndarray:
    """One key per row: a single column's values as text, several joined with ``|`` (govflow's group keys)."""
    import numpy as np
    import pandas as pd

    if isinstance(sensitive_features, pd.DataFrame):
        if sensitive_features.shape[1] == 1:
            return sensitive_features.iloc[:, 0].astype(str).to_numpy(dtype=object)
        return sensitive_features.astype(str).agg("|".join, axis=1).to_numpy(dtype=object)
    return np.asarray(pd.Series(np.asarray(sensitive_features)).astype(str), dtype=object)


def _apply(operator: str, threshold: float, scores: np.ndarray) -> np.ndarray:
    # ThresholdOperation.__call__: a boolean array, multiplied by its probability as Fairlearn does.
    return scores > threshold if operator == ">" else scores < threshold


def threshold_spec(interpolation: Mapping[Any, Any]) -> dict[str, dict[str, Any]]:
    """The per-group rules of a fitted ``InterpolatedThresholder.interpolation_dict``, as plain numbers."""
    out = {}
    for group, rule in interpolation.items():
        out[str(group)] = {
            "p0": float(rule.p0),
            "operator0": str(rule.operation0.operator),
            "threshold0": float(rule.operation0.threshold),
            "p1": float(rule.p1),
            "operator1": str(rule.operation1.operator),
            "threshold1": float(rule.operation1.threshold),
            "p_ignore": float(rule.p_ignore) if "p_ignore" in rule else None,
            "prediction_constant": float(rule.prediction_constant) if "prediction_constant" in rule else None,
        }
    return out


def challenger_data(
    *,
    method: str,
    constraint: str,
    sensitive: Sequence[str],
    random_state: int,
    base: Any = None,
    groups: Mapping[str, Mapping[str, Any]] | None = None,
    predictors: Sequence[Any] = (),
    weights: Sequence[float] = (),
) -> dict[str, Any]:
    """The dict a challenger's skops file holds (only plain values and scikit-learn estimators)."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "method": method,
        "constraint": constraint,
        "sensitive": list(sensitive),
        "random_state": int(random_state),
    }
    if method == "threshold":
        data |= {"base": base, "groups": {g: dict(r) for g, r in (groups or {}).items()}}
    else:
        data |= {"predictors": list(predictors), "weights": [float(w) for w in weights]}
    return data
