"""Explaining a regression or multiclass model across groups (the binary path is ``explain_model``'s own).

1. The model predicts the (sampled) rows; each row's loss is its absolute
   error (regression) or whether it is misclassified (multiclass).
2. Permutation importance, seeded, on a sample stratified by group: each
   input is shuffled ``n_repeats`` times and the model re-predicts; per
   feature, overall and for the focus groups (the worst-off, then the largest):
   ``prediction_change`` (how much the model relies on it: mean absolute
   change of the prediction, or the share of predicted classes that change)
   and ``mean_absolute_error_increase`` or ``accuracy_drop`` (how much it helps).
   Multiclass also gets, per class, the drop in that class's one-vs-rest
   true positive rate.
3. Error slices: for the worst-off group (highest mean absolute error, or
   lowest accuracy; and for multiclass, per class, the group with the lowest
   true positive rate), the feature ranges and categories that concentrate its
   errors. A regression error is a *large* error: an absolute error above the
   75th percentile over all rows.
4. Proxies: the same detection as for binary models (``detect_proxies``).
Only counts and rates leave this module, never a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError, library_versions
from govflow.checks.explain._base_rates import base_rates
from govflow.checks.explain._bins import slice_feature
from govflow.checks.explain._errors import slice_findings
from govflow.checks.explain._model import _describe
from govflow.checks.explain._proxy import detect_proxies
from govflow.checks.explain._text import slice_sentence
from govflow.checks.model_predictions import predict
from govflow.checks.outcomes import choose_task

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

LARGE_ERROR_QUANTILE = 0.75


def explain_task(
    frame: pd.DataFrame,
    *,
    model: Any,
    label: str,
    sensitive: list[str],
    task: str | None,
    groups: np.ndarray,
    total_rows: int,
    importance_rows: int,
    n_repeats: int,
    random_state: int,
    proxy_auc_threshold: float,
    min_group_size: int,
    max_groups: int,
    max_slices: int,
    libraries: Sequence[str],
) -> dict[str, Any] | None:
    """The explanation of a regression or multiclass model; None for a binary one (``explain_model``'s)."""
    import numpy as np

    chosen = choose_task(frame[label], task, label_name=label)
    if chosen.task == "binary":
        return None
    names = getattr(model, "feature_names_in_", None)
    features = [str(n) for n in names] if names is not None else [c for c in frame.columns if c != label]
    inputs = [f for f in features if f not in set(sensitive)]
    y_true = frame[label].to_numpy()
    y_pred = predict(model, frame[features], exclude=[label])
    regression = chosen.task == "regression"
    if regression:
        y_true, y_pred = y_true.astype(np.float64), y_pred.astype(np.float64)
        if np.isnan(y_pred).any():
            raise CheckInputError("the model predicted NaN for some rows: a model must predict every row")
        loss = np.abs(y_pred - y_true)
        wrong = loss > np.quantile(loss, LARGE_ERROR_QUANTILE)
    else:
        y_true, y_pred = y_true.astype(str), y_pred.astype(str)
        loss = (y_true != y_pred).astype(np.float64)
        wrong = loss.astype(bool)
    keys, counts = np.unique(groups, return_counts=True)
    sizes = {
        str(k): int(c) for k, c in sorted(zip(keys, counts, strict=True), key=lambda t: (-t[1], str(t[0])))
    }
    eligible = [g for g, n in sizes.items() if n >= min_group_size]
    per_group_loss = {g: float(loss[groups == g].mean()) for g in eligible}
    worst = max(per_group_loss, key=per_group_loss.__getitem__) if per_group_loss else None
    focus = list(dict.fromkeys(([worst] if worst else []) + eligible))[:max_groups]

    slices = [
        s
        for s in (slice_feature(frame[f], max_bins=5, max_categories=30, min_rows=10) for f in inputs)
        if s is not None
    ]
    errors: list[dict[str, Any]] = []
    metric = "mean_absolute_error" if regression else "accuracy"
    if worst is not None:
        mine, theirs = groups == worst, groups != worst
        value = per_group_loss[worst] if regression else 1 - per_group_loss[worst]
        other = float(loss[theirs].mean()) if theirs.any() else None
        errors.append(
            {
                "group": worst,
                "errors": "large errors" if regression else "misclassifications",
                "metrics": [
                    {
                        "metric": metric,
                        "value": round(value, 6),
                        "other_groups": None
                        if other is None
                        else round(other if regression else 1 - other, 6),
                    }
                ],
                **slice_findings(slices, wrong, mine, theirs, max_slices=max_slices, min_slice_rows=10),
            }
        )
    if not regression:
        errors += _per_class_errors(y_true, y_pred, groups, eligible, slices, max_slices)

    importance = _importance(
        model, frame, features, y_true, groups, focus, regression, importance_rows, n_repeats, random_state
    )
    proxies = detect_proxies(
        frame,
        sensitive=sensitive,
        features=inputs,
        threshold=proxy_auc_threshold,
        min_group_size=min_group_size,
        random_state=random_state,
        importance={r["feature"]: r["prediction_change"] for r in importance["overall"]},
    )
    rates = base_rates(y_true, groups, eligible=eligible, task=chosen.task)
    top = [r["feature"] for r in importance["overall"][:3]]
    strong = {
        s: [r["feature"] for r in e["features"] if r.get("strong")]
        for s, e in proxies["by_sensitive"].items()
    }
    findings = [f"The model relies most on {', '.join(top)}." if top else "No input changes the predictions."]
    if worst is not None:
        findings.append(
            f"Group {worst} is worst off ({metric.replace('_', ' ')} {errors[0]['metrics'][0]['value']:.3g} "
            f"vs {errors[0]['metrics'][0]['other_groups'] or 0:.3g} in the other groups)."
        )
    findings += [slice_sentence(e) for e in errors if e["slices"]]
    if rates["criteria"]:
        findings.append(rates["criteria"])
    findings += [
        f"{', '.join(v)} stand(s) in for {s} (proxy AUC above the threshold)." for s, v in strong.items() if v
    ]
    return {
        "status": "warn" if proxies["warnings"] else "ok",
        "task": chosen.task,
        "label": label,
        "positive_label": None,
        "sensitive": sensitive,
        "model": {
            "kind": _describe(model),
            "features": features,
            "sensitive_inputs": [s for s in sensitive if s in features],
        },
        "sample": {
            "rows": total_rows,
            "rows_used": len(frame),
            "sampled": total_rows > len(frame),
            "random_state": random_state,
            "note": f"a seeded random sample of {len(frame)} of {total_rows} rows"
            if total_rows > len(frame)
            else "all rows",
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
        "base_rates": rates,
        "findings": findings,
        "summary": {
            "top_features": top,
            "strong_proxies": strong,
            "all_features_proxy_auc": {
                s: (e["all_features"] or {}).get("auc") for s, e in proxies["by_sensitive"].items()
            },
            "worst_slices": [
                {"group": e["group"], "errors": e["errors"], "slice": e["slices"][0]["slice"]}
                for e in errors
                if e["slices"]
            ],
        },
        "library_versions": library_versions(*libraries),
    }


def _per_class_errors(
    y_true: Any, y_pred: Any, groups: Any, eligible: list[str], slices: list[Any], max_slices: int
) -> list[dict[str, Any]]:
    """Per class: the group whose rows of that class are least often recognised, and where it misses them."""
    out: list[dict[str, Any]] = []
    for cls in sorted(set(y_true.tolist())):
        rates = {}
        for g in eligible:
            of_class = (groups == g) & (y_true == cls)
            if of_class.sum() >= 10:
                rates[g] = float((y_pred[of_class] == cls).mean())
        if len(rates) < 2:
            continue
        worst = min(rates, key=rates.__getitem__)
        others = (groups != worst) & (y_true == cls)
        other = float((y_pred[others] == cls).mean()) if others.any() else None
        if other is None or rates[worst] >= other:
            continue
        mine = (groups == worst) & (y_true == cls)
        out.append(
            {
                "group": worst,
                "errors": f"missed {cls}",
                "metrics": [
                    {
                        "metric": f"true_positive_rate.{cls}",
                        "value": round(rates[worst], 6),
                        "other_groups": round(other, 6),
                    }
                ],
                **slice_findings(
                    slices, y_pred != cls, mine, others, max_slices=max_slices, min_slice_rows=10
                ),
            }
        )
    return out


def _importance(
    model: Any,
    frame: pd.DataFrame,
    features: list[str],
    y_true: Any,
    groups: Any,
    focus: list[str],
    regression: bool,
    rows: int,
    n_repeats: int,
    random_state: int,
) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(random_state)
    strata = [np.flatnonzero(groups == g) for g in focus] + [np.flatnonzero(~np.isin(groups, focus))]
    parts = [s if len(s) <= rows else np.sort(rng.choice(s, rows, replace=False)) for s in strata if len(s)]
    weights = np.concatenate(
        [np.full(len(p), len(s) / len(p)) for p, s in zip(parts, [s for s in strata if len(s)], strict=True)]
    )
    idx = np.concatenate(parts)
    data = frame.iloc[idx][features].reset_index(drop=True)
    labels, member = y_true[idx], groups[idx]
    base = _predict(model, data, regression)
    helps = "mean_absolute_error_increase" if regression else "accuracy_drop"
    masks = {"overall": np.ones(len(idx), dtype=bool), **{g: member == g for g in focus}}
    classes = [] if regression else sorted(set(labels.tolist()))
    totals: dict[str, dict[str, dict[str, float]]] = {k: {} for k in masks}
    per_class: dict[str, dict[str, float]] = {str(c): {} for c in classes}
    for feature in features:
        sums = {k: [0.0, 0.0] for k in masks}
        class_drop = {str(c): 0.0 for c in classes}
        for _ in range(n_repeats):
            shuffled = data.copy()
            shuffled[feature] = data[feature].to_numpy()[rng.permutation(len(data))]
            moved = _predict(model, shuffled, regression)
            for key, mask in masks.items():
                w = weights[mask] if key == "overall" else None
                if regression:
                    change = np.abs(moved[mask] - base[mask])
                    gain = np.abs(moved[mask] - labels[mask]) - np.abs(base[mask] - labels[mask])
                else:
                    change = (moved[mask] != base[mask]).astype(float)
                    gain = (base[mask] == labels[mask]).astype(float) - (moved[mask] == labels[mask]).astype(
                        float
                    )
                sums[key][0] += float(np.average(change, weights=w))
                sums[key][1] += float(np.average(gain, weights=w))
            for c in classes:
                of_class = labels == c
                class_drop[str(c)] += float(np.mean(base[of_class] == c) - np.mean(moved[of_class] == c))
        for key in masks:
            totals[key][feature] = {
                "prediction_change": sums[key][0] / n_repeats,
                helps: sums[key][1] / n_repeats,
            }
        for c in class_drop:
            per_class[c][feature] = round(class_drop[c] / n_repeats, 6)

    def ranked(values: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
        rows_ = [{"feature": f, **{k: round(v, 6) for k, v in m.items()}} for f, m in values.items()]
        return sorted(rows_, key=lambda r: (-r["prediction_change"], r["feature"]))

    change = (
        "mean absolute change of the prediction" if regression else "share of predicted classes that change"
    )
    out: dict[str, Any] = {
        "measure": f"{change} when the feature's values are shuffled (seeded, {n_repeats} repeats)",
        "overall": ranked(totals["overall"]),
        "by_group": {g: {"rows": int(masks[g].sum()), "features": ranked(totals[g])} for g in focus},
    }
    if classes:
        out["by_class"] = {
            c: sorted(
                ({"feature": f, "true_positive_rate_drop": v} for f, v in drops.items()),
                key=lambda r: -r["true_positive_rate_drop"],
            )
            for c, drops in per_class.items()
        }
    return out


def _predict(model: Any, data: pd.DataFrame, regression: bool) -> Any:
    import numpy as np

    predicted = np.asarray(model.predict(data))
    return predicted.astype(np.float64) if regression else predicted.astype(str)
