"""Proxy detection: how well the model's other inputs predict a sensitive attribute.

Leaving a sensitive column out of a model does not blind it when another
input stands in for it (a postcode for ethnicity, "Husband"/"Wife" for sex).
Each feature alone is scored by the ROC AUC of its out-of-fold category/range
frequencies (a two-fold target encoding: what one half of the data says about
each slice, tried on the other half) and by mutual information; all features
together by the held-out AUC of a small gradient-boosted model. Only the
sensitive column has to be in the data: it need not be a model input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from govflow.checks.explain._bins import Slices, slice_feature

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

DEFAULT_PROXY_AUC_THRESHOLD = 0.8
# Smoothing of the target encoding: a slice seen this many times counts as much as the overall rate.
SMOOTHING_ROWS = 10
# Proxy scores use a seeded sample of at most this many rows (an AUC's standard error there is
# about 0.005); the joint model is trained on at most JOINT_MAX_ROWS of them and tested on as many more.
MAX_ROWS = 20_000
JOINT_MAX_ROWS = 10_000
MEASURE = (
    "ROC AUC of predicting the sensitive group from the feature on held-out rows (0.5: no "
    "information, 1.0: identifies the group); for several groups, the best-identified group's "
    "one-vs-rest AUC"
)


def detect_proxies(
    frame: pd.DataFrame,
    *,
    sensitive: Sequence[str],
    features: Sequence[str],
    threshold: float = DEFAULT_PROXY_AUC_THRESHOLD,
    min_group_size: int = 30,
    importance: Mapping[str, float] | None = None,
    random_state: int = 0,
) -> dict[str, Any]:
    """Score every feature, and all of them together, as a predictor of each sensitive column."""
    import numpy as np

    rng = np.random.default_rng(random_state)
    if len(frame) > MAX_ROWS:
        frame = frame.iloc[np.sort(rng.choice(len(frame), size=MAX_ROWS, replace=False))]
    fold = rng.permutation(len(frame)) % 2
    candidates = [f for f in features if f not in set(sensitive)]
    sliced = {f: slice_feature(frame[f], max_bins=20, max_categories=1000, min_rows=5) for f in candidates}
    by_sensitive = {}
    for column in sensitive:
        by_sensitive[column] = _one_attribute(
            frame,
            column,
            candidates,
            sliced,
            fold,
            threshold=threshold,
            min_group_size=min_group_size,
            importance=importance or {},
            random_state=random_state,
        )
    return {
        "measure": MEASURE,
        "threshold_auc": threshold,
        "rows": len(frame),
        "by_sensitive": by_sensitive,
        "warnings": _warnings(by_sensitive, threshold),
    }


def _one_attribute(
    frame: pd.DataFrame,
    column: str,
    candidates: list[str],
    sliced: Mapping[str, Slices | None],
    fold: np.ndarray,
    *,
    threshold: float,
    min_group_size: int,
    importance: Mapping[str, float],
    random_state: int,
) -> dict[str, Any]:
    import numpy as np

    target = slice_feature(frame[column], max_bins=4, max_categories=50, min_rows=1)
    if target is None:
        return {
            "groups": [],
            "features": [],
            "all_features": None,
            "note": f"{column} has no values to predict",
        }
    counts = np.bincount(target.codes, minlength=target.count)
    classes = [
        c
        for c in range(target.count)
        if target.values[c] is not None
        and counts[c] >= min_group_size
        and len(frame) - counts[c] >= min_group_size
    ]
    names = [str(target.values[c]) for c in classes]
    out: dict[str, Any] = {"groups": names, "features": [], "all_features": None}
    if not classes:
        out["note"] = f"{column} has no group with at least {min_group_size} rows on each side"
        return out
    entropy = _entropy(counts / counts.sum())
    rows: list[dict[str, Any]] = []
    for feature in candidates:
        cut = sliced[feature]
        if cut is None:
            rows.append({"feature": feature, "auc": None, "skipped": "identifier-like or constant column"})
            continue
        auc, group = _single_feature_auc(cut.codes, target.codes, classes, fold, cut.count)
        mi = _mutual_information(cut.codes, target.codes, cut.count, target.count)
        rows.append(
            {
                "feature": feature,
                "auc": _r(auc),
                "best_identified_group": _group_name(target, group, classes),
                "mutual_information_bits": _r(mi),
                "share_of_sensitive_information": _r(mi / entropy) if entropy > 0 else None,
                "strong": bool(auc >= threshold),
                "model_importance": importance.get(feature),
            }
        )
    rows.sort(key=lambda r: (-(r["auc"] or 0.0), r["feature"]))
    out["features"] = rows
    if candidates:
        auc, group = _joint_auc(
            frame, candidates, sliced, target.codes, classes, fold, random_state=random_state
        )
        out["all_features"] = {
            "features": len(candidates),
            "auc": _r(auc),
            "best_identified_group": _group_name(target, group, classes),
            "strong": bool(auc >= threshold),
        }
    return out


def _single_feature_auc(
    codes: np.ndarray, target: np.ndarray, classes: list[int], fold: np.ndarray, bins: int
) -> tuple[float, int]:
    """Best one-vs-rest AUC over ``classes`` of the two-fold target encoding of ``codes``."""
    import numpy as np

    best, best_class = 0.5, classes[0]
    for cls in classes:
        hit = (target == cls).astype(float)
        prior = hit.mean()
        score = np.empty(len(codes))
        for half in (0, 1):
            train, test = fold != half, fold == half
            n = np.bincount(codes[train], minlength=bins)
            k = np.bincount(codes[train], weights=hit[train], minlength=bins)
            score[test] = ((k + SMOOTHING_ROWS * prior) / (n + SMOOTHING_ROWS))[codes[test]]
        auc = roc_auc(hit, score)
        if auc > best:
            best, best_class = auc, cls
    return best, best_class


def _joint_auc(
    frame: pd.DataFrame,
    candidates: list[str],
    sliced: Mapping[str, Slices | None],
    target: np.ndarray,
    classes: list[int],
    fold: np.ndarray,
    *,
    random_state: int,
) -> tuple[float, int]:
    """Held-out AUC of a gradient-boosted model predicting the sensitive group from every candidate."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    columns, categorical = {}, []
    for feature in candidates:
        series = frame[feature]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            columns[feature] = series.to_numpy(dtype=float)
        elif sliced[feature] is not None and sliced[feature].count <= 250:  # type: ignore[union-attr]
            columns[feature] = sliced[feature].codes.astype(float)  # type: ignore[union-attr]
            categorical.append(feature)
    if not columns:
        return 0.5, classes[0]
    x = pd.DataFrame(columns)
    train = np.flatnonzero(fold == 0)[:JOINT_MAX_ROWS]
    test = np.flatnonzero(fold == 1)[:JOINT_MAX_ROWS]
    model = HistGradientBoostingClassifier(
        max_iter=50,
        max_leaf_nodes=15,
        early_stopping=False,
        categorical_features=[c in categorical for c in x.columns] or None,
        random_state=random_state,
    )
    model.fit(x.iloc[train], target[train])
    proba = model.predict_proba(x.iloc[test])
    best, best_class = 0.5, classes[0]
    for cls in classes:
        position = np.flatnonzero(model.classes_ == cls)
        hit = target[test] == cls
        if not position.size or hit.all() or not hit.any():
            continue
        auc = roc_auc(hit, proba[:, position[0]])
        if auc > best:
            best, best_class = auc, cls
    return best, best_class


def roc_auc(hit: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC with ties counted half (equals ``sklearn.metrics.roc_auc_score``).

    Computed from per-score-level counts: the encoded scores take few distinct
    values, so this is one sort instead of scikit-learn's full curve.
    """
    import numpy as np

    levels, inverse = np.unique(score, return_inverse=True)
    pos = np.bincount(inverse, weights=hit.astype(float), minlength=len(levels))
    neg = np.bincount(inverse, minlength=len(levels)) - pos
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos == 0 or total_neg == 0:
        return 0.5
    below = np.cumsum(neg) - neg
    return float(np.sum(pos * (below + 0.5 * neg)) / (total_pos * total_neg))


def _mutual_information(codes: np.ndarray, target: np.ndarray, bins: int, classes: int) -> float:
    import numpy as np

    joint = np.bincount(codes * classes + target, minlength=bins * classes).reshape(bins, classes)
    p = joint / joint.sum()
    px, py = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)
    nonzero = p > 0
    return float(np.sum(p[nonzero] * np.log2(p[nonzero] / (px @ py)[nonzero])))


def _entropy(p: np.ndarray) -> float:
    import numpy as np

    p = p[p > 0]
    return float(-np.sum(p * np.log2(p)))


def _group_name(target: Slices, cls: int, classes: list[int]) -> str | None:
    # With two groups, identifying one identifies the other: no group to name.
    return None if len(classes) <= 2 and target.count <= 2 else str(target.values[cls])


def _warnings(by_sensitive: Mapping[str, Any], threshold: float) -> list[str]:
    messages = []
    for column, entry in by_sensitive.items():
        for row in entry["features"]:
            if not row.get("strong"):
                continue
            named = row["best_identified_group"]
            group = f" (it singles out {column} = {named})" if named else ""
            messages.append(
                f"{row['feature']} alone predicts {column} with AUC {row['auc']:.2f}, above the "
                f"threshold {threshold:.2f}{group}: the model can use it as a stand-in for {column}, "
                f"so leaving {column} out of the inputs does not remove its influence; review whether "
                f"{row['feature']} is needed, or mitigate and re-check fairness"
            )
        joint = entry.get("all_features")
        if joint and joint["strong"]:
            messages.append(
                f"all {joint['features']} non-sensitive inputs together predict {column} with "
                f"AUC {joint['auc']:.2f}, above the threshold {threshold:.2f}: {column} can be "
                "reconstructed from the model's inputs"
            )
    return messages


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
