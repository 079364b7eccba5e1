"""Explaining a classifier's fairness: what drives it, where a group's errors sit, which inputs are proxies.

A disparity number says something is wrong; this says where it comes from.
``explain_model`` loads a scikit-learn model (joblib or skops), predicts on
the eval data and returns one JSON-safe dict with

1. ``feature_importance``: permutation importance (scikit-learn, seeded, on a
   bounded sample) overall and per sensitive group, and the features whose
   importance differs most between groups;
2. ``error_analysis``: for the worst-off group of each fairness rate, the
   feature ranges or categories that concentrate its errors;
3. ``proxies``: how well each input alone, and all of them together, predict
   each sensitive attribute (AUC, mutual information), with warnings above
   the threshold. The sensitive columns only need to be in the data;
4. ``base_rates``: each group's label prevalence (and calibration of the
   registered score per group), and when they differ, which fairness
   criteria cannot all hold (``_base_rates``).

Slices are described by ranges and categories held by at least a minimum
number of rows, and only counts and rates are reported: never a row.

How documents show it (``card_view`` and the SVG charts) lives in ``govflow.docs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._io import read_table, require_columns
from govflow.checks._result import CheckInputError, library_versions
from govflow.checks.explain._base_rates import base_rates
from govflow.checks.explain._bins import slice_feature
from govflow.checks.explain._errors import error_analysis
from govflow.checks.explain._importance import feature_importance
from govflow.checks.explain._model import view_model
from govflow.checks.explain._proxy import DEFAULT_PROXY_AUC_THRESHOLD, detect_proxies
from govflow.checks.explain._tasks import explain_task
from govflow.checks.explain._text import findings
from govflow.checks.model_predictions import ModelArtifact, load_model
from govflow.checks.outcomes import intersection_groups
from govflow.progress import Progress, resolve

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "DEFAULT_PROXY_AUC_THRESHOLD",
    "detect_proxies",
    "explain_model",
    "find_positive_label",
    "view_model",
]

LIBRARIES = ("scikit-learn", "numpy", "pandas")
ERR_LABEL_VALUES = "label column {label!r} has {n} distinct values; the explanation needs a binary label"
ERR_POSITIVE = "positive label {positive!r} does not occur in label column {label!r} (values: {values})"
ERR_GUESS_POSITIVE = "label column {label!r} has values {values}: name the positive one (positive_label)"


def explain_model(
    data: pd.DataFrame | str | Path,
    *,
    model_path: str | Path | ModelArtifact,
    label: str,
    sensitive: str | Sequence[str],
    positive_label: Any = None,
    features: Sequence[str] | None = None,
    max_rows: int = 50_000,
    importance_rows: int = 1_000,
    n_repeats: int = 3,
    random_state: int = 0,
    proxy_auc_threshold: float = DEFAULT_PROXY_AUC_THRESHOLD,
    min_group_size: int = 30,
    max_groups: int = 4,
    max_slices: int = 5,
    trusted: Sequence[str] = (),
    task: str | None = None,
    score: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Explain a classifier's or regressor's behaviour across the groups of ``sensitive``.

    Binary classifiers get the analysis below; regression and multiclass models
    (``task``, else detected from the label as the fairness check does) get
    ``_tasks.explain_task``'s: importance on the error, error slices of the
    worst-off group, per class for multiclass, and the same proxy detection.

    Parameters
    ----------
    data : eval data (DataFrame or CSV/Parquet path) with the model's inputs, ``label`` and ``sensitive``
    model_path : a scikit-learn estimator or pipeline saved with joblib or skops
    label, positive_label : the true label column and its positive (favourable) value
    sensitive : one or more sensitive columns; several form intersectional groups joined with ``|``
    features : the model's input columns when it does not record them (``feature_names_in_``)
    max_rows : the explanation works on a seeded random sample of at most this many rows
    importance_rows, n_repeats : rows per group and shuffles per feature for permutation importance
    proxy_auc_threshold : a feature predicting a sensitive attribute with this AUC or more is a strong proxy
    min_group_size : smaller groups are listed but not analysed (their rates are noise)
    max_groups : per-group importance for at most this many groups (the worst-off, then the largest)
    trusted : skops types a person reviewed and allows (see ``model_predictions.load_model``)
    task : binary, multiclass or regression; None: detected from the label
    score : the column of the positive class's probability (binary), for calibration per group
    progress : hears the table read and each step (``govflow.progress``; default: the context's reporter)

    Returns
    -------
    dict
        ``status`` (``ok`` or ``warn`` when a proxy is above the threshold), ``summary``,
        ``model``, ``sample``, ``groups``, ``feature_importance``, ``error_analysis``,
        ``proxies``, ``findings`` (plain-language sentences) and ``library_versions``;
        no wall-clock values, so the same inputs give the same dict (and evidence hash).
        Raises ``CheckInputError`` (one line) on bad input.
    """
    from threadpoolctl import threadpool_limits

    sensitive = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    _check_options(
        sensitive,
        max_rows=max_rows,
        importance_rows=importance_rows,
        n_repeats=n_repeats,
        threshold=proxy_auc_threshold,
        min_group_size=min_group_size,
    )
    # One thread: the work is bounded, and BLAS/OpenMP threads only contend on a shared worker.
    with threadpool_limits(limits=1):
        return _explain(
            data,
            model_path=model_path,
            label=label,
            sensitive=sensitive,
            positive_label=positive_label,
            features=features,
            max_rows=max_rows,
            importance_rows=importance_rows,
            n_repeats=n_repeats,
            random_state=random_state,
            proxy_auc_threshold=proxy_auc_threshold,
            min_group_size=min_group_size,
            max_groups=max_groups,
            max_slices=max_slices,
            trusted=trusted,
            task=task,
            score=score,
            progress=resolve(progress),
        )


def _explain(
    data: pd.DataFrame | str | Path,
    *,
    model_path: str | Path | ModelArtifact,
    label: str,
    sensitive: list[str],
    positive_label: Any,
    features: Sequence[str] | None,
    max_rows: int,
    importance_rows: int,
    n_repeats: int,
    random_state: int,
    proxy_auc_threshold: float,
    min_group_size: int,
    max_groups: int,
    max_slices: int,
    trusted: Sequence[str],
    task: str | None,
    score: str | None,
    progress: Progress,
) -> dict[str, Any]:
    import numpy as np

    frame = data if not isinstance(data, (str, Path)) else read_table(data, progress=progress)
    require_columns(frame, [label, *sensitive], source=str(data) if isinstance(data, (str, Path)) else "data")
    if label in sensitive:
        raise CheckInputError(f"the label {label!r} cannot also be a sensitive column")
    frame = frame[frame[label].notna()]
    if frame.empty:
        raise CheckInputError(f"label column {label!r} has no values")
    total_rows = len(frame)
    if total_rows > max_rows:
        frame = frame.sample(n=max_rows, random_state=random_state).sort_index()
    frame = frame.reset_index(drop=True)

    progress("explain: predicting with the model", 0, len(frame))
    model = load_model(model_path, trusted=trusted)
    other_task = explain_task(
        frame,
        model=model,
        label=label,
        sensitive=sensitive,
        task=task,
        groups=_group_keys(frame, sensitive),
        total_rows=total_rows,
        importance_rows=importance_rows,
        n_repeats=n_repeats,
        random_state=random_state,
        proxy_auc_threshold=proxy_auc_threshold,
        min_group_size=min_group_size,
        max_groups=max_groups,
        max_slices=max_slices,
        libraries=LIBRARIES,
    )
    if other_task is not None:
        return other_task
    positive = find_positive_label(frame[label], label, positive_label)
    view = view_model(
        model,
        frame.columns,
        sensitive=sensitive,
        positive_label=positive,
        features=features,
        random_state=random_state,
    )
    y_true = (frame[label] == positive).to_numpy(dtype=bool)
    y_pred = view.predict_positive(frame)
    progress("explain: predicting with the model", len(frame), len(frame))
    progress("explain: where errors concentrate", 0, unit="")
    groups = _group_keys(frame, sensitive)
    names, counts = np.unique(groups, return_counts=True)
    sizes = {
        str(n): int(c) for n, c in sorted(zip(names, counts, strict=True), key=lambda t: (-t[1], str(t[0])))
    }
    eligible = [g for g, n in sizes.items() if n >= min_group_size]
    inputs = [f for f in view.features if f not in set(sensitive)]

    slices = [
        s
        for s in (slice_feature(frame[f], max_bins=5, max_categories=30, min_rows=10) for f in inputs)
        if s is not None
    ]
    errors = error_analysis(y_true, y_pred, groups, slices, eligible=eligible, max_slices=max_slices)
    # Per-group importance costs one permutation run per group: the worst-off groups first, then the largest.
    focus = list(dict.fromkeys([e["group"] for e in errors] + eligible))[:max_groups]
    progress("explain: permutation importance", 0, unit="")
    importance = feature_importance(
        view,
        frame,
        y_true,
        groups,
        group_names=focus,
        rows=importance_rows,
        n_repeats=n_repeats,
        random_state=random_state,
    )
    progress("explain: proxies of the sensitive columns", 0, unit="")
    proxies = detect_proxies(
        frame,
        sensitive=sensitive,
        features=inputs,
        threshold=proxy_auc_threshold,
        min_group_size=min_group_size,
        random_state=random_state,
        importance={r["feature"]: r["prediction_change"] for r in importance["overall"]},
    )

    explanation: dict[str, Any] = {
        "status": "warn" if proxies["warnings"] else "ok",
        "label": label,
        "positive_label": _json_scalar(positive),
        "sensitive": sensitive,
        "model": {
            "kind": view.kind,
            "features": list(view.features),
            "sensitive_inputs": [s for s in sensitive if s in view.features or s in view.sensitive],
        },
        "sample": {
            "rows": total_rows,
            "rows_used": len(frame),
            "sampled": total_rows > len(frame),
            "random_state": random_state,
            "note": (
                f"a seeded random sample of {len(frame)} of {total_rows} rows"
                if total_rows > len(frame)
                else "all rows"
            ),
        },
        "groups": {
            "sizes": sizes,
            "min_group_size": min_group_size,
            "too_small": [g for g, n in sizes.items() if n < min_group_size],
            "importance_groups": focus,
        },
        "feature_importance": importance,
        "error_analysis": errors,
        "proxies": proxies,
        "base_rates": base_rates(
            y_true, groups, eligible=eligible, task="binary", scores=_scores(frame, score)
        ),
    }
    explanation["findings"] = findings(explanation)
    explanation["summary"] = _summary(explanation)
    explanation["library_versions"] = library_versions(*LIBRARIES)
    return explanation


def _summary(explanation: dict[str, Any]) -> dict[str, Any]:
    proxies = explanation["proxies"]["by_sensitive"]
    return {
        "top_features": [r["feature"] for r in explanation["feature_importance"]["overall"][:3]],
        "strong_proxies": {
            s: [r["feature"] for r in e["features"] if r.get("strong")] for s, e in proxies.items()
        },
        "all_features_proxy_auc": {s: (e["all_features"] or {}).get("auc") for s, e in proxies.items()},
        "worst_slices": [
            {"group": e["group"], "errors": e["errors"], "slice": e["slices"][0]["slice"]}
            for e in explanation["error_analysis"]
            if e["slices"]
        ],
    }


def _check_options(
    sensitive: list[str],
    *,
    max_rows: int,
    importance_rows: int,
    n_repeats: int,
    threshold: float,
    min_group_size: int,
) -> None:
    if not sensitive:
        raise CheckInputError("name at least one sensitive column")
    if len(set(sensitive)) != len(sensitive):
        raise CheckInputError("a sensitive column is named twice")
    if max_rows < 100 or importance_rows < 50 or n_repeats < 1:
        raise CheckInputError("max_rows must be >= 100, importance_rows >= 50 and n_repeats >= 1")
    if not 0.5 <= threshold <= 1.0:
        raise CheckInputError(f"proxy AUC threshold must be between 0.5 and 1.0, got {threshold}")
    if min_group_size < 1:
        raise CheckInputError("min_group_size must be at least 1")


def find_positive_label(values: pd.Series, label: str, positive: Any) -> Any:
    """The positive label as it appears in the data: the one given, or 1 of a 0/1 (or -1/1, boolean) label."""
    text = _as_text(values)
    distinct = sorted(text.unique())
    if len(distinct) > 2:
        raise CheckInputError(ERR_LABEL_VALUES.format(label=label, n=len(distinct)))
    if positive is not None:
        for candidate in (str(positive), _as_text_one(positive)):
            if candidate in distinct:
                return values[text == candidate].iloc[0]
        raise CheckInputError(ERR_POSITIVE.format(positive=positive, label=label, values=", ".join(distinct)))
    if set(distinct) <= {"0", "1"} or set(distinct) <= {"-1", "1"} or set(distinct) <= {"False", "True"}:
        return values[text == ("True" if "True" in distinct else "1")].iloc[0]
    raise CheckInputError(ERR_GUESS_POSITIVE.format(label=label, values=", ".join(distinct)))


def _as_text(values: pd.Series) -> pd.Series:
    # 1.0 and 1 are the same label: floats that are whole numbers print as integers.
    import pandas as pd

    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        return values.astype("Int64").astype(str)
    return values.astype(str)


def _as_text_one(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else str(value)


def _scores(frame: pd.DataFrame, score: str | None) -> np.ndarray | None:
    """The registered score column as probabilities in [0, 1]; None when there is none."""
    import numpy as np
    import pandas as pd

    if score is None or score not in frame.columns:
        return None
    values = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(values).any() or values.min() < 0 or values.max() > 1:
        raise CheckInputError(f"score column {score!r} must hold probabilities between 0 and 1 on every row")
    return values


def _group_keys(frame: pd.DataFrame, sensitive: list[str]) -> np.ndarray:
    """Each row's group key, exactly as the fairness check names groups (``a|b``, ``(missing)``)."""
    import numpy as np

    groups = intersection_groups(frame, sensitive, None)
    return np.asarray(groups.keys, dtype=object)[groups.codes]


def _json_scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
