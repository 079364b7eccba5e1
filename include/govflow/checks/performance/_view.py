"""What documents and the Governance view may show of the performance evidence.

Two kinds of result: the gate's comparison of the candidate with the production version (overall and
per sensitive group, ``champion_view``), and monitoring's metrics on a labelled production batch
against the ones registered with the version (``baseline_view``). Each row carries its drop, the
policy's maximum and whether it exceeded it, so a reader sees the threshold and what crossed it.
"""

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
    exceeded = {str(e) for e in summary.get("exceeded") or ()}
    rows = []
    for where, block in (
        ("overall", {"all rows": comparison.get("overall") or {}}),
        ("group", comparison.get("by_group") or {}),
    ):
        for name, metrics in block.items() if isinstance(block, Mapping) else ():
            for metric, values in (metrics or {}).items() if isinstance(metrics, Mapping) else ():
                if not isinstance(values, Mapping):
                    continue
                key = metric if where == "overall" else f"{metric}@{name}"
                rows.append(
                    {
                        "scope": where,
                        "group": scrub_text(str(name)),
                        "metric": metric,
                        "candidate": number(values.get("candidate")),
                        "production": number(values.get("production")),
                        "drop": number(values.get("drop")),
                        "small": bool(metrics.get("insufficient")),
                        "exceeded": key in exceeded,
                    }
                )
    return {
        **base_view(result),
        "production_version": scrub_text(str(summary.get("production_version"))),
        "max_drop": number(summary.get("max_metric_drop_vs_production")),
        "exceeded": [scrub_text(str(e)) for e in summary.get("exceeded") or ()],
        "rows": rows,
    }


class BaselineView(BaseView):
    task: str | None
    max_drop: float | None
    dropped: list[str]
    not_computable: list[str]
    rows: list[dict[str, Any]]  # metric, registered, now, drop, exceeded (registered: None when not)


def baseline_view(result: StoredResult | None) -> BaselineView | None:
    """Monitoring's metrics on a labelled batch against those registered with the version."""
    if result is None:
        return None
    summary = merged_summary(result)
    metrics = summary.get("metrics")
    if summary.get("production_version") or not isinstance(metrics, Mapping):
        return None  # a comparison with production (champion_view), or nothing measured
    evidence = result.get("evidence") or {}  # the check's details sit at the evidence's top level
    found = evidence.get("comparisons")
    comparisons: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    dropped = [str(m) for m in summary.get("dropped") or ()]
    rows = []
    for metric, value in metrics.items():
        entry = comparisons.get(metric)
        compared: Mapping[str, Any] = entry if isinstance(entry, Mapping) else {}
        rows.append(
            {
                "metric": str(metric),
                "registered": number(compared.get("registered")),
                "now": number(value),
                "drop": number(compared.get("drop")),
                "exceeded": metric in dropped,
            }
        )
    return {
        **base_view(result),
        "task": scrub_text(str(summary["task"])) if summary.get("task") else None,
        "max_drop": number(summary.get("max_drop")),
        "dropped": dropped,
        "not_computable": [str(m) for m in evidence.get("not_computable") or ()],
        "rows": rows,
    }


def page_view(result: StoredResult, ctx: ViewContext) -> dict[str, Any] | None:
    """The version page's tables: the comparison with production, or the metrics against registered."""
    champion = champion_view(result)
    if champion is not None:
        return {"champion": champion, "baseline": None}
    baseline = baseline_view(result)
    return {"champion": None, "baseline": baseline} if baseline is not None else None


def summary_sentence(summary: Mapping[str, Any]) -> str | None:
    """One line for lists and the diff, rounded; None when the summary is neither kind."""
    if summary.get("production_version"):
        worst = [number(summary.get("worst_group_drop"))] + [
            number(d) for d in (summary.get("drops") or {}).values()
        ]
        largest = max((d for d in worst if d is not None), default=None)
        limit = number(summary.get("max_metric_drop_vs_production"))
        text = f"against production {summary['production_version']}: largest drop " + (
            f"{largest:.3f}" if largest is not None else "n/a"
        )
        text += f" (policy maximum {limit:.3f})" if limit is not None else " (not judged)"
        exceeded = summary.get("exceeded") or []
        return text + (f"; exceeded: {', '.join(map(str, exceeded[:5]))}" if exceeded else "")
    metrics = summary.get("metrics")
    if not isinstance(metrics, Mapping) or not metrics:
        return None
    values = {str(k): number(v) for k, v in metrics.items()}
    shown = ", ".join(f"{k} {v:.3f}" for k, v in values.items() if v is not None)
    dropped = summary.get("dropped") or []
    return shown + (f"; below the registered value: {', '.join(map(str, dropped))}" if dropped else "")


def document_views(result: StoredResult | None, ctx: ViewContext) -> dict[str, Any]:
    return {"champion": champion_view(result)}
