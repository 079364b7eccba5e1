"""Permutation feature importance, overall and within each sensitive group.

scikit-learn's ``permutation_importance`` shuffles one input column at a time
and re-scores the model. It is scored here two ways from the same shuffles:
``prediction_change`` (the share of the model's own predictions that flip: how
much the model *relies* on the feature) and ``accuracy_drop`` (how much the
feature *helps* against the true labels). Computed within one group, the
shuffle draws only from that group's values, so a feature that drives
predictions for one group and not another shows a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from govflow.checks._explain_model import ModelView

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MEASURE = ("share of the model's predictions that change when the feature's values are shuffled "
           "(scikit-learn permutation_importance, scored against the model's own predictions)")


def feature_importance(view: ModelView, frame: pd.DataFrame, y_true: np.ndarray, groups: np.ndarray, *,
                       group_names: list[str], rows: int, n_repeats: int, random_state: int) -> dict[str, Any]:
    """Importance on a seeded sample of at most ``rows`` rows overall and per group in ``group_names``."""
    import numpy as np

    rng = np.random.default_rng(random_state)
    overall_idx = _sample(np.arange(len(frame)), rows, rng)
    overall = _importance(view, frame, y_true, overall_idx, n_repeats=n_repeats, random_state=random_state)
    by_group: dict[str, Any] = {}
    for name in group_names:
        idx = _sample(np.flatnonzero(groups == name), rows, rng)
        by_group[name] = {"rows": len(idx), "features": _importance(view, frame, y_true, idx, n_repeats=n_repeats,
                                                                     random_state=random_state)}
    return {
        "measure": MEASURE,
        "n_repeats": n_repeats,
        "rows": len(overall_idx),
        "overall": overall,
        "by_group": by_group,
        "largest_gaps": _gaps(by_group),
    }


def _importance(view: ModelView, frame: pd.DataFrame, y_true: np.ndarray, idx: np.ndarray, *,
                n_repeats: int, random_state: int) -> list[dict[str, Any]]:
    import numpy as np
    from sklearn.inspection import permutation_importance

    data = frame.iloc[idx][view.columns].reset_index(drop=True)
    labels = y_true[idx]
    baseline = view.predict_positive(data)

    def score(_model: Any, x: pd.DataFrame, rows: np.ndarray) -> dict[str, float]:
        # ``y`` carries row positions, so one prediction per shuffle gives both scores.
        predicted = view.predict_positive(x)
        return {"agreement": float(np.mean(predicted == baseline[rows])),
                "accuracy": float(np.mean(predicted == labels[rows]))}

    result = permutation_importance(_Fitted(view), data, np.arange(len(data)), scoring=score, n_repeats=n_repeats,
                                    random_state=random_state, n_jobs=None)
    rows = []
    for i, feature in enumerate(data.columns):
        rows.append({
            "feature": str(feature),
            "prediction_change": _r(result["agreement"].importances_mean[i]),
            "prediction_change_std": _r(result["agreement"].importances_std[i]),
            "accuracy_drop": _r(result["accuracy"].importances_mean[i]),
            "accuracy_drop_std": _r(result["accuracy"].importances_std[i]),
        })
    return sorted(rows, key=lambda r: (-r["prediction_change"], r["feature"]))


class _Fitted:
    """What ``permutation_importance`` expects: an object with ``fit`` (never called; the model is fitted)."""

    def __init__(self, view: ModelView) -> None:
        self.view = view

    def fit(self, *_args: Any, **_kwargs: Any) -> _Fitted:
        return self


def _gaps(by_group: Mapping[str, Any], top: int = 5) -> list[dict[str, Any]]:
    """Features whose importance differs most between groups."""
    if len(by_group) < 2:
        return []
    table: dict[str, dict[str, float]] = {}
    for group, entry in by_group.items():
        for row in entry["features"]:
            table.setdefault(row["feature"], {})[group] = row["prediction_change"]
    gaps = []
    for feature, values in table.items():
        high = max(values, key=lambda g: (values[g], g))
        low = min(values, key=lambda g: (values[g], g))
        gaps.append({"feature": feature, "gap": _r(values[high] - values[low]),
                     "highest_group": high, "highest": values[high], "lowest_group": low, "lowest": values[low]})
    gaps.sort(key=lambda g: (-g["gap"], g["feature"]))
    return [g for g in gaps[:top] if g["gap"] > 0]


def _sample(idx: np.ndarray, rows: int, rng: np.random.Generator) -> np.ndarray:
    import numpy as np

    if len(idx) <= rows:
        return idx
    return np.sort(rng.choice(idx, size=rows, replace=False))


def _r(value: float) -> float:
    return round(float(value), 4)
