"""The explanation as a model card shows it: short flat tables and two inline SVG charts.

"Factors": which inputs stand in for a sensitive attribute (proxies) and the
groups analysed. "Quantitative analyses": importance per group and where the
worst-off groups' errors concentrate. Only names, counts and rates are kept;
an explanation that errored becomes ``{"status": "error", "errors": [...]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govflow.docs._svg import importance_svg, proxy_svg


def card_view(
    explanation: Mapping[str, Any] | None, *, max_features: int = 8, max_proxies: int = 5, max_slices: int = 3
) -> dict[str, Any] | None:
    """A compact, document-ready view of an ``explain_model`` result (None when there is none)."""
    if not explanation:
        return None
    if not isinstance(explanation, Mapping) or explanation.get("status") == "error":
        errors = explanation.get("errors") if isinstance(explanation, Mapping) else None
        return {"status": "error", "errors": [str(e) for e in errors or ["the explanation is not readable"]]}
    try:
        return _card(explanation, max_features=max_features, max_proxies=max_proxies, max_slices=max_slices)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        # Evidence written by another version of govflow, or edited: a gap, not a broken document.
        return {"status": "error", "errors": ["the explanation in the evidence has an unknown layout"]}


def _card(
    explanation: Mapping[str, Any], *, max_features: int, max_proxies: int, max_slices: int
) -> dict[str, Any]:
    importance = explanation["feature_importance"]
    groups = list(importance["by_group"])
    per_group = {
        g: {r["feature"]: r["prediction_change"] for r in v["features"]}
        for g, v in importance["by_group"].items()
    }
    proxies = explanation["proxies"]
    return {
        "status": explanation["status"],
        "findings": list(explanation["findings"]),
        "sensitive": list(explanation["sensitive"]),
        "sample": explanation["sample"]["note"],
        "groups": dict(explanation["groups"]["sizes"]),
        "too_small": list(explanation["groups"]["too_small"]),
        "threshold_auc": proxies["threshold_auc"],
        "proxies": [
            {
                "sensitive": column,
                "feature": r["feature"],
                "auc": r["auc"],
                "strong": r["strong"],
                "group": r["best_identified_group"],
                "model_importance": r["model_importance"],
            }
            for column, entry in proxies["by_sensitive"].items()
            for i, r in enumerate(entry["features"])
            if r["auc"] is not None and (i < max_proxies or r["strong"])
        ],
        "all_features": [
            {"sensitive": column, **entry["all_features"]}
            for column, entry in proxies["by_sensitive"].items()
            if entry.get("all_features")
        ],
        "warnings": list(proxies["warnings"]),
        "importance_measure": importance["measure"],
        "importance_groups": groups,
        "importance": [
            {
                "feature": r["feature"],
                "overall": r["prediction_change"],
                "by_group": [per_group[g].get(r["feature"]) for g in groups],
            }
            for r in importance["overall"][:max_features]
        ],
        "error_slices": [
            {
                "group": entry["group"],
                "errors": entry["errors"],
                "metric": entry["metrics"][0]["metric"],
                "value": entry["metrics"][0]["value"],
                "other_groups": entry["metrics"][0]["other_groups"],
                "slice": s["slice"],
                "share_of_errors": s["share_of_errors"],
                "error_rate": s["error_rate"],
                "error_rate_rest": s["error_rate_rest"],
                "error_rate_other_groups": s["error_rate_other_groups"],
            }
            for entry in explanation["error_analysis"]
            for s in entry["slices"][:max_slices]
        ],
        "charts": {
            "importance": importance_svg(explanation, max_features=max_features),
            "proxies": proxy_svg(explanation, max_features=max_features),
        },
    }
