"""Read-only views of stored check evidence, keeping only what documents may show.

Each view whitelists fields (counts, rates, names, statuses): whatever else a
check put in its evidence (e.g. a library's unexpected-value samples) never
reaches a document. Group and column names are scrubbed like free text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, overload

from markupsafe import Markup

from govflow.docs._explain_card import card_view
from govflow.docs._numbers import number
from govflow.docs._scrub import scrub, scrub_text

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


def _interval(value: Any) -> list[float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = number(value[0]), number(value[1])
        if low is not None and high is not None:
            return [low, high]
    return None


def _base(result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": result.get("id"),
        "status": result.get("status"),
        "date": result.get("created_at"),
        "evidence_sha256": result.get("evidence_sha256"),
        "problem": result.get("evidence_problem"),
        "errors": [scrub_text(str(e)) for e in result.get("errors") or ()],
    }


def fairness_view(
    result: Mapping[str, Any] | None,
    *,
    min_group_size: int | None,
    thresholds: Mapping[str, Any],
    sensitive_hint: Sequence[str] = (),
) -> dict[str, Any] | None:
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = {**(result.get("summary") or {}), **(evidence.get("summary") or {})}
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
                **{f"{metric}_ci": _interval(values.get(f"{metric}_ci")) for metric in metrics},
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
        **_base(result),
        "proxies": proxies,
        "summary": {key: number(summary.get(key)) for key in FAIRNESS_SUMMARY_KEYS if key in summary},
        "intervals": {
            key: _interval(summary.get(f"{key}_ci"))
            for key in FAIRNESS_SUMMARY_KEYS
            if f"{key}_ci" in summary
        },
        "task": task,
        "groups": groups,
        "metrics": metrics,
        "sensitive": [scrub_text(str(s)) for s in sensitive or ()],
        "min_group_size": min_group_size,
        "thresholds": dict(thresholds),
    }


def champion_view(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The gate's comparison of the candidate with the production version (the performance evidence)."""
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = {**(result.get("summary") or {}), **(evidence.get("summary") or {})}
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
        **_base(result),
        "production_version": scrub_text(str(summary.get("production_version"))),
        "max_drop": number(summary.get("max_metric_drop_vs_production")),
        "exceeded": [scrub_text(str(e)) for e in summary.get("exceeded") or ()],
        "rows": rows,
    }


def explanation_view(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
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


def drift_view(result: Mapping[str, Any] | None, *, max_share_drifted: float | None) -> dict[str, Any] | None:
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = {**(result.get("summary") or {}), **(evidence.get("summary") or {})}
    columns = []
    raw = evidence.get("columns") or {}
    for name, values in raw.items() if isinstance(raw, Mapping) else ():
        values = values if isinstance(values, Mapping) else {}
        columns.append(
            {
                "column": scrub_text(str(name)),
                "drifted": bool(values.get("drifted")),
                "method": scrub_text(str(values.get("method") or "n/a")),
                "score": number(values.get("score")),
                "threshold": number(values.get("threshold")),
            }
        )
    drifted = summary.get("drifted_columns")
    if not isinstance(drifted, Sequence) or isinstance(drifted, str):
        drifted = [c["column"] for c in columns if c["drifted"]]
    # The threshold the check applied wins over the current policy's (they differ after a policy change).
    applied = number(summary.get("max_share_drifted"))
    return {
        **_base(result),
        "share_drifted": number(summary.get("share_drifted")),
        "drifted_columns": [scrub_text(str(c)) for c in drifted],
        "columns": columns,
        "max_share_drifted": applied if applied is not None else max_share_drifted,
    }


@overload
def validation_view(result: None) -> None: ...
@overload
def validation_view(result: Mapping[str, Any]) -> dict[str, Any]: ...
def validation_view(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = {**(result.get("summary") or {}), **(evidence.get("summary") or {})}
    expectations = []
    for item in evidence.get("expectations") or ():
        if isinstance(item, Mapping):
            column = item.get("column")
            expectations.append(
                {
                    "type": scrub_text(str(item.get("type") or item.get("expectation_type") or "n/a")),
                    "column": scrub_text(str(column)) if column is not None else None,
                    "success": bool(item.get("success")),
                    "severity": scrub_text(str(item.get("severity") or "")) or None,
                    "unexpected_percent": number(item.get("unexpected_percent")),
                }
            )
    evaluated = number(summary.get("evaluated"))
    failed = number(summary.get("failed"))
    return {
        **_base(result),
        "expectations": expectations,
        "evaluated": int(evaluated) if evaluated is not None else len(expectations),
        "failed": int(failed) if failed is not None else sum(not e["success"] for e in expectations),
    }


def pii_about(summary: Mapping[str, Any]) -> str | None:
    """The PII scan's table-level facts (#25) in one sentence: subject, person keys, split birth dates."""
    subject = summary.get("subject")
    if not subject:
        return None
    keys = ", ".join(scrub_text(str(c)) for c in summary.get("person_identifiers") or ())
    groups = "; ".join(
        " + ".join(scrub_text(str(c)) for c in g) for g in summary.get("birth_date_groups") or ()
    )
    return (
        f"Rows are about: {scrub_text(str(subject))}. Person identifiers: {keys or 'none'}. "
        f"Dates of birth from several columns: {groups or 'none'}."
    )


def pii_view(result: Mapping[str, Any] | None, *, allowed: Sequence[str] | None) -> dict[str, Any] | None:
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = {**(result.get("summary") or {}), **(evidence.get("summary") or {})}
    allowed_set = set(allowed or ())
    columns = []
    raw = evidence.get("columns") or {}
    for name, values in raw.items() if isinstance(raw, Mapping) else ():
        entities = (values or {}).get("entities") if isinstance(values, Mapping) else None
        found = []
        for entity, stats in (entities or {}).items():
            rate = number(stats.get("rate")) if isinstance(stats, Mapping) else None
            found.append(
                {
                    "entity": scrub_text(str(entity)),
                    "rate": rate,
                    "allowed": allowed is not None and entity in allowed_set,
                }
            )
        if found:
            columns.append({"column": scrub_text(str(name)), "entities": found})
    rows = number(summary.get("rows"))
    return {
        **_base(result),
        "rows": int(rows) if rows is not None else None,
        "about": pii_about(summary),
        "columns": columns,
        "columns_scanned": len(raw) if isinstance(raw, Mapping) else None,
        "allowed": sorted(allowed_set) if allowed is not None else None,
    }
