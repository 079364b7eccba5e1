"""What documents may show of the performance evidence: the candidate against the production version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govflow.checks.family import StoredResult, ViewContext
from govflow.docs import BaseView, base_view, merged_summary, number, scrub_text


class ChampionView(BaseView):
    production_version: str
    max_drop: float | None
    exceeded: list[str]
    rows: list[dict[str, Any]]  # scope, group, metric, candidate, production, drop, small


def champion_view(result: StoredResult | None) -> ChampionView | None:
    """The gate's comparison of the candidate with the production version (the performance evidence)."""
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = merged_summary(result)
    comparison = evidence.get("comparison")
    if not summary.get("production_version") or not isinstance(comparison, Mapping):
        return None  # a nightly performance result, not a comparison
    rows = []
    for where, block in (
        ("overall", {"all rows": comparison.get("overall") or {}}),
        ("group", comparison.get("by_group") or {}),
    ):
        for name, metrics in block.items() if isinstance(block, Mapping) else ():
            for metric, values in (metrics or {}).items() if isinstance(metrics, Mapping) else ():
                if not isinstance(values, Mapping):
                    continue
                rows.append(
                    {
                        "scope": where,
                        "group": scrub_text(str(name)),
                        "metric": metric,
                        "candidate": number(values.get("candidate")),
                        "production": number(values.get("production")),
                        "drop": number(values.get("drop")),
                        "small": bool(metrics.get("insufficient")),
                    }
                )
    return {
        **base_view(result),
        "production_version": scrub_text(str(summary.get("production_version"))),
        "max_drop": number(summary.get("max_metric_drop_vs_production")),
        "exceeded": [scrub_text(str(e)) for e in summary.get("exceeded") or ()],
        "rows": rows,
    }


def document_views(result: StoredResult | None, ctx: ViewContext) -> dict[str, Any]:
    return {"champion": champion_view(result)}
