"""Permutation feature importance, overall and for each sensitive group, from one seeded run.

scikit-learn's ``permutation_importance`` shuffles one input column at a time
and re-scores the model. It runs once, on a sample stratified by group (at
most ``rows`` rows of each group), and the scorer scores every group's rows
separately, so one set of shuffles gives all groups' numbers:

- ``prediction_change``: the share of the group's predictions that flip when
  the feature is shuffled (how much the model *relies* on the feature for
  that group);
- ``accuracy_drop``: how much accuracy against the true labels falls (how
  much the feature *helps* for that group).

A shuffled value comes from the whole sample, not only the group's own rows:
a group's number also shows how its predictions move when the feature takes
other groups' values (a woman's ``relationship`` becoming ``Husband``), which
is what a proxy does. ``overall`` weights the groups back to their shares of
the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from govflow.checks.explain._model import ModelView

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MEASURE = (
    "share of the model's predictions that change when the feature's values are shuffled "
    "(scikit-learn permutation_importance, scored against the model's own predictions)"
)


def feature_importance(
    view: ModelView,
    frame: pd.DataFrame,
    y_true: np.ndarray,
    groups: np.ndarray,
    *,
    group_names: Sequence[str],
    rows: int,
    n_repeats: int,
    random_state: int,
) -> dict[str, Any]:
    """Permutation importance overall and per group of ``group_names`` (at most ``rows`` rows each)."""
    import numpy as np
    from sklearn.inspection import permutation_importance

    rng = np.random.default_rng(random_state)
    # Strata: each named group, and all other rows together; at most ``rows`` rows from each.
    focus = np.isin(groups, list(group_names))
    strata = [np.flatnonzero(groups == name) for name in group_names] + [np.flatnonzero(~focus)]
    strata = [stratum for stratum in strata if len(stratum)]
    parts = [_sample(stratum, rows, rng) for stratum in strata]
    idx = np.concatenate(parts)
    # Weights that give each stratum its share of the data again in the overall numbers.
    weight = np.concatenate([np.full(len(p), len(s) / len(p)) for p, s in zip(parts, strata, strict=True)])
    data = frame.iloc[idx][view.columns].reset_index(drop=True)
    labels, member = y_true[idx], groups[idx]
    baseline = view.predict_positive(data)
    masks = {name: member == name for name in group_names}

    def score(_model: Any, x: pd.DataFrame, positions: np.ndarray) -> dict[str, float]:
        # ``y`` carries row positions, so one prediction per shuffle gives every score.
        predicted = view.predict_positive(x)
        same = predicted == baseline[positions]
        right = predicted == labels[positions]
        out = {
            "agreement": float(np.average(same, weights=weight[positions])),
            "accuracy": float(np.average(right, weights=weight[positions])),
        }
        for i, mask in enumerate(masks.values()):
            out[f"agreement:{i}"] = float(np.mean(same[mask[positions]]))
            out[f"accuracy:{i}"] = float(np.mean(right[mask[positions]]))
        return out

    result = permutation_importance(
        _Fitted(view),
        data,
        np.arange(len(data)),
        scoring=score,
        n_repeats=n_repeats,
        random_state=random_state,
        n_jobs=None,
    )
    features = [str(c) for c in data.columns]
    by_group = {
        name: {"rows": int(masks[name].sum()), "features": _rows(result, features, f":{i}")}
        for i, name in enumerate(group_names)
    }
    return {
        "measure": MEASURE,
        "n_repeats": n_repeats,
        "rows": len(data),
        "rows_per_group": rows,
        "overall": _rows(result, features, ""),
        "by_group": by_group,
        "largest_gaps": _gaps(by_group),
    }


class _Fitted:
    """What ``permutation_importance`` expects: an object with ``fit`` (never called; the model is fitted)."""

    def __init__(self, view: ModelView) -> None:
        self.view = view

    def fit(self, *_args: Any, **_kwargs: Any) -> _Fitted:
        return self


def _rows(result: Mapping[str, Any], features: list[str], suffix: str) -> list[dict[str, Any]]:
    agreement, accuracy = result[f"agreement{suffix}"], result[f"accuracy{suffix}"]
    rows = [
        {
            "feature": feature,
            "prediction_change": _r(agreement.importances_mean[i]),
            "prediction_change_std": _r(agreement.importances_std[i]),
            "accuracy_drop": _r(accuracy.importances_mean[i]),
            "accuracy_drop_std": _r(accuracy.importances_std[i]),
        }
        for i, feature in enumerate(features)
    ]
    return sorted(rows, key=lambda r: (-r["prediction_change"], r["feature"]))


def _gaps(by_group: Mapping[str, Any], top: int = 5) -> list[dict[str, Any]]:
    """Features whose importance differs most between groups."""
    if len(by_group) < 2:
        return []
    table: dict[str, dict[str, float]] = {}
    for group, entry in by_group.items():
        for row in entry["features"]:
            table.setdefault(row["feature"], {})[group] = row["prediction_change"]
    gaps: list[dict[str, Any]] = []
    for feature, values in table.items():
        high = max(values, key=lambda g: (values[g], g))
        low = min(values, key=lambda g: (values[g], g))
        gaps.append(
            {
                "feature": feature,
                "gap": _r(values[high] - values[low]),
                "highest_group": high,
                "highest": values[high],
                "lowest_group": low,
                "lowest": values[low],
            }
        )
    gaps.sort(key=lambda g: (-g["gap"], g["feature"]))
    return [g for g in gaps[:top] if g["gap"] > 0]


def _sample(idx: np.ndarray, rows: int, rng: np.random.Generator) -> np.ndarray:
    import numpy as np

    if len(idx) <= rows:
        return idx
    return np.sort(rng.choice(idx, size=rows, replace=False))


def _r(value: float) -> float:
    return round(float(value), 4)
