"""What documents and the Governance view may show of fairness evidence (and its explanation).

The view whitelists per-group counts and rates, summary disparities with their
intervals, the sensitive features and the proxies the explanation found;
group names are scrubbed like free text. ``caveats`` and ``facts`` turn the
view into the documents' sentences; ``diff_rows`` into the diff's rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from govflow.checks.fairness import _mitigation_view as mitigation
from govflow.checks.fairness.mitigation import fix_text
from govflow.checks.family import DocumentRecords, StoredResult, ViewContext
from govflow.docs import (
    BaseView,
    Fact,
    base_view,
    card_view,
    fact,
    fmt_number,
    group_metrics_chart,
    interval,
    merged_summary,
    number,
    scrub,
    scrub_text,
)

GROUP_METRICS = (
    "selection_rate",
    "accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
)
REGRESSION_METRICS = ("mean_prediction", "mean_absolute_error", "root_mean_squared_error")
FAIRNESS_SUMMARY_KEYS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "accuracy_difference",
    "mean_prediction_difference",
    "mean_absolute_error_difference",
    "root_mean_squared_error_difference",
    "worst_group_mean_absolute_error",
)


class FairnessView(BaseView, total=False):
    proxies: dict[str, list[str]]
    summary: dict[str, float | None]
    intervals: dict[str, list[float] | None]
    task: str
    groups: list[dict[str, Any]]  # group, count, one value (and interval) per metric, small
    metrics: tuple[str, ...]
    sensitive: list[str]
    min_group_size: int | None
    thresholds: dict[str, Any]
    shown_metrics: list[str]  # the Governance view's: the metrics some group has a value for
    # The Governance view's, gate evidence only: measured mitigations (or the challenger's lineage).
    mitigation_frontier: mitigation.FrontierView | None
    mitigation_lineage: mitigation.LineageView | None
    mitigation_chart: Any


def task_metrics(summary: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The fairness evidence's task and the per-group columns documents show for it."""
    task = str(summary.get("task") or "binary")
    if task == "regression":
        return task, REGRESSION_METRICS
    if task == "multiclass":
        classes = [str(c) for c in summary.get("classes") or ()]
        return task, (
            "accuracy",
            *(f"selection_rate.{c}" for c in classes),
            *(f"true_positive_rate.{c}" for c in classes),
        )
    return task, GROUP_METRICS


def fairness_view(
    result: StoredResult | None,
    *,
    min_group_size: int | None,
    thresholds: Mapping[str, Any],
    sensitive_hint: Sequence[str] = (),
) -> FairnessView | None:
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = merged_summary(result)
    groups = []
    # Groups the check itself judged too small, besides the ones below the policy's minimum.
    insufficient = summary.get("insufficient_groups")
    flagged = {str(g) for g in insufficient} if isinstance(insufficient, (list, tuple)) else set()
    task, metrics = task_metrics(summary)
    by_group = evidence.get("by_group") or {}
    for name, values in by_group.items() if isinstance(by_group, Mapping) else ():
        values = values if isinstance(values, Mapping) else {}
        count = number(values.get("count"))
        groups.append(
            {
                "group": scrub_text(str(name)),
                "count": int(count) if count is not None else None,
                **{metric: number(values.get(metric)) for metric in metrics},
                **{f"{metric}_ci": interval(values.get(f"{metric}_ci")) for metric in metrics},
                "small": str(name) in flagged
                or bool(min_group_size and count is not None and count < min_group_size),
            }
        )
    sensitive = (
        evidence.get("sensitive_features") or evidence.get("sensitive") or summary.get("sensitive_features")
    )
    sensitive = sensitive or list(sensitive_hint)
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    # From the explanation step, when it ran: features that stand in for a sensitive one.
    raw_proxies = summary.get("strong_proxies")
    proxies = (
        {
            scrub_text(str(k)): [scrub_text(str(f)) for f in v]
            for k, v in raw_proxies.items()
            if isinstance(v, (list, tuple)) and v
        }
        if isinstance(raw_proxies, Mapping)
        else {}
    )
    return {
        **base_view(result),
        "proxies": proxies,
        "summary": {key: number(summary.get(key)) for key in FAIRNESS_SUMMARY_KEYS if key in summary},
        "intervals": {
            key: interval(summary.get(f"{key}_ci")) for key in FAIRNESS_SUMMARY_KEYS if f"{key}_ci" in summary
        },
        "task": task,
        "groups": groups,
        "metrics": metrics,
        "sensitive": [scrub_text(str(s)) for s in sensitive or ()],
        "min_group_size": min_group_size,
        "thresholds": dict(thresholds),
    }


def explanation_view(result: StoredResult | None) -> Any:
    """The explanation in the fairness evidence, laid out by ``card_view`` (scrubbed)."""
    if result is None:
        return None
    view = card_view((result.get("evidence") or {}).get("explanation"))
    if not isinstance(view, Mapping):
        return scrub(view)
    # The charts are SVG that govflow drew (text in them is escaped there); scrubbing would mask
    # coordinates that look like long numbers, so they bypass it as markup.
    charts = view.get("charts") or {}
    scrubbed = scrub({k: v for k, v in view.items() if k != "charts"})
    scrubbed["charts"] = {name: Markup(svg) for name, svg in charts.items()}
    return scrubbed


def document_views(result: StoredResult | None, ctx: ViewContext) -> dict[str, Any]:
    """The documents' ``fairness`` and ``explanation`` (the explanation rides in fairness evidence)."""
    rules = ctx.tier.fairness.model_dump(mode="json")
    governance = ctx.params.get("governance") or {}
    hint = governance.get("sensitive") if isinstance(governance, Mapping) else None
    return {
        "fairness": fairness_view(
            result,
            min_group_size=rules.get("min_group_size"),
            thresholds={k: v for k, v in rules.items() if k.startswith("max_")},
            sensitive_hint=[hint] if isinstance(hint, str) else list(hint or ()),
        ),
        "explanation": explanation_view(result),
        **mitigation.mitigation_views(ctx),
    }


def page_view(result: StoredResult, ctx: ViewContext) -> FairnessView | None:
    view = fairness_view(
        result,
        min_group_size=ctx.tier.fairness.min_group_size,
        thresholds=ctx.tier.fairness.model_dump(mode="json"),
    )
    if view is not None:  # columns the evidence has values for (a task reports only some metrics)
        groups = view["groups"]
        view["shown_metrics"] = [m for m in view["metrics"] if any(g.get(m) is not None for g in groups)]
        if result.get("kind") != "monitoring":  # measured on the registered data, beside the gate's result
            views = mitigation.mitigation_views(ctx)
            view["mitigation_frontier"] = views["mitigation_frontier"]
            view["mitigation_lineage"] = views["mitigation_lineage"]
            view["mitigation_chart"] = mitigation.chart(views["mitigation_frontier"])
    return view


def summary_sentence(summary: Mapping[str, Any]) -> str | None:
    if "demographic_parity_difference" not in summary:
        return None
    return f"demographic parity difference {float(summary['demographic_parity_difference']):.3f}"


def caveats(views: Mapping[str, Any]) -> list[str]:
    fairness = views.get("fairness")
    if not fairness:
        return []
    out = []
    for key, limit in fairness["thresholds"].items():
        metric = key.removeprefix("max_")
        value = fairness["summary"].get(metric)
        if value is not None and number(limit) is not None and value > float(limit):
            out.append(
                f"{metric.replace('_', ' ').capitalize()} is {fmt_number(value)}, "
                f"above the policy maximum {fmt_number(limit)}."
            )
    for sensitive, features in fairness["proxies"].items():
        out.append(
            f"{', '.join(features)} can stand in for {sensitive}: the model may use {sensitive} indirectly."
        )
    for group in fairness["groups"]:
        if group["small"]:
            out.append(
                f"Group {group['group']} has only {group['count']} rows (minimum "
                f"{fairness['min_group_size']}): its rates are uncertain."
            )
    return out


def describe_fairness(r: Mapping[str, Any]) -> str:
    summary = r.get("summary") or {}
    parts = [
        f"{k.replace('_', ' ')} {fmt_number(summary[k])}"
        for k in (*FAIRNESS_SUMMARY_KEYS, "rows")
        if number(summary.get(k)) is not None
    ]
    return f"{r['status']} on {r.get('created_at')}" + (f": {', '.join(parts)}" if parts else "")


def section_facts(doc: DocumentRecords) -> list[Fact]:
    """The documents' fairness section."""
    view = doc.views.get("fairness")
    rules = doc.tier.get("fairness") or {}
    groups = [f"{g['group']} (n={g['count']})" for g in (view or {}).get("groups", ())]
    small = [g["group"] for g in (view or {}).get("groups", ()) if g["small"]]
    facts = [
        doc.check_fact("fairness", "Fairness check", describe_fairness),
        fact(
            "groups",
            "Groups evaluated",
            groups,
            source="evidence",
            gap="no per-group results in the fairness evidence",
        ),
        fact(
            "thresholds",
            "Policy thresholds",
            {k: fmt_number(val) for k, val in rules.items()},
            source="policy",
            gap=f"the policy sets no fairness thresholds for tier {doc.model.get('risk_tier')}",
        ),
    ]
    if view is not None and view["proxies"]:
        facts.append(
            Fact(
                key="proxies",
                label="Proxies for sensitive features",
                source="evidence",
                value={k: ", ".join(v) for k, v in view["proxies"].items()},
            )
        )
    if view is not None and view["groups"]:
        facts.append(
            Fact(
                key="small_groups",
                label=f"Groups below {rules.get('min_group_size', 'the minimum')} rows",
                value=small or "none",
                source="evidence",
            )
        )
    return facts


def per_group_accuracy(doc: DocumentRecords) -> list[Fact]:
    """Annex IV's accuracy per group of persons (Art. 15), from the fairness evidence."""
    view = doc.views.get("fairness")
    per_group = None
    if view and view["groups"]:
        # Regression has no accuracy: its per-group error is the accuracy measure (Art. 15).
        measure = "mean_absolute_error" if view.get("task") == "regression" else "accuracy"
        per_group = {
            g["group"]: f"{measure.replace('_', ' ')} {fmt_number(g.get(measure))}, n={g['count']}"
            for g in view["groups"]
        }
    return [
        fact(
            "per_group_accuracy",
            "Accuracy per group",
            per_group,
            source="evidence",
            gap="no per-group results recorded (fairness check)",
        )
    ]


def diff_rows(view: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(view.get("summary") or {})
    metrics = view.get("shown_metrics") or view.get("metrics") or ()
    for group in view.get("groups") or ():
        for metric in metrics[:2]:
            out[f"{group['group']} · {metric}"] = group.get(metric)
    return out


def charts(context: Mapping[str, Any]) -> dict[str, Any]:
    """The HTML documents' chart of rates (or, for regression, errors) per group, and the frontier."""
    fairness = context.get("fairness")
    if not (fairness and fairness["groups"]):
        return {"fairness": "", **mitigation_charts(context)}
    groups = fairness["groups"]
    if fairness.get("task") == "regression":
        groups = _relative_to_largest(groups, fairness["metrics"])  # errors have units; bars need 0..1
    return {"fairness": group_metrics_chart(groups, fairness["metrics"]), **mitigation_charts(context)}


def mitigation_charts(context: Mapping[str, Any]) -> dict[str, Any]:
    """The HTML documents' trade-off frontier of measured mitigations ("" without one)."""
    return {"mitigation": mitigation.chart(context.get("mitigation_frontier"))}


def _relative_to_largest(groups: Any, metrics: Any) -> list[dict[str, Any]]:
    largest = {m: max((abs(g[m]) for g in groups if g.get(m) is not None), default=0.0) for m in metrics}
    return [
        {**g, **{m: (g[m] / largest[m] if g.get(m) is not None and largest[m] else None) for m in metrics}}
        for g in groups
    ]


def failed_fix(summary: Mapping[str, Any]) -> str:
    """The gate's fix for failed fairness: the mitigate command, and the best option when one was measured."""
    best = dict(summary.get("mitigation") or {})
    if best.get("candidate"):
        best.setdefault("primary_metric_name", best.get("primary_metric", "accuracy"))
    return fix_text("M", "V", best)
