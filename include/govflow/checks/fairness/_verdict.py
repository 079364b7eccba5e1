"""The fairness verdict from confusion counts (binary) or per-group statistics (other tasks).

Shared by the in-memory path (``evaluate_fairness``) and the aggregate engines
(``_aggregated``): both hand over counts, so the numbers and the decision are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from govflow.checks._result import CheckResult, CheckStatus, Oracle, provenance
from govflow.checks.fairness._bootstrap import CONFIDENCE, NORMAL_ABOVE
from govflow.checks.fairness._impact import DEFAULT_MIN_SHARE, impact_ratios
from govflow.checks.fairness._judge import (
    DISPARITIES,
    TaskStats,
    judge_groups,
)
from govflow.checks.fairness._metrics import CellTable, disparities, metrics_by_group
from govflow.checks.outcomes import (
    Groups,
    TaskChoice,
)

CHECK = "fairness"
BINARY_CELLS_TOLERANCE = 0.0  # the binary metrics are Fairlearn's bits (==)
TASK_TOLERANCE = 1e-12  # multiclass and regression: within 1e-12 of MetricFrame


def binary_result(
    table: CellTable,
    groups: Groups,
    bootstrap_stats: Callable[[], TaskStats],
    *,
    chosen: TaskChoice,
    positive_label: Any,
    rows: int,
    rows_excluded: int,
    sensitive: list[str],
    min_group_size: int,
    max_demographic_parity_difference: float,
    max_equalized_odds_difference: float,
    bootstrap: int,
    bootstrap_seed: int,
    small_groups: str,
    model_info: dict[str, Any] | None = None,
    engine: dict[str, Any] | None = None,
    impact_ratio_min_share: float = DEFAULT_MIN_SHARE,
) -> CheckResult:
    """The binary verdict from the confusion counts per group (rows counted in memory or by an engine)."""
    rates = metrics_by_group(table, groups)

    by_group: dict[str, dict[str, Any]] = {}
    sufficient: set[int] = set()
    for code, key in enumerate(groups.keys):
        cells = table.counts[code]
        count = int(cells.sum())
        if count >= min_group_size:
            sufficient.add(code)
        by_group[key] = {
            "count": count,
            **rates[key],
            "positives": int(cells[1].sum()),
            "negatives": int(cells[0].sum()),
            "insufficient": count < min_group_size,
        }
    ratios, ratio_summary = impact_ratios(_selections(table, groups), min_share=impact_ratio_min_share)
    for key, entry in ratios.items():
        by_group[key].update({k: entry[k] for k in ("share", "impact_ratio", "impact_ratio_excluded")})
    per_feature: dict[str, Any] = {}
    if len(sensitive) > 1:  # each feature's own categories too, summed from their intersections
        for name, selections in _feature_selections(_selections(table, groups), sensitive).items():
            per_feature[name] = dict(
                zip(
                    ("by_group", "summary"),
                    impact_ratios(selections, min_share=impact_ratio_min_share),
                    strict=True,
                )
            )
    overall = disparities(table)
    judged = overall if len(sufficient) == len(groups.keys) else disparities(table, keep_groups=sufficient)
    insufficient = [key for key, entry in by_group.items() if entry["insufficient"]]

    dpd, eod = judged["demographic_parity_difference"], judged["equalized_odds_difference"]
    failed = []
    if dpd is not None and dpd > max_demographic_parity_difference:
        failed.append("demographic_parity_difference")
    if eod is not None and eod > max_equalized_odds_difference:
        failed.append("equalized_odds_difference")
    status: CheckStatus
    if failed:
        status = "fail"
    elif insufficient or dpd is None:
        status = "warn"
    else:
        status = "pass"
    if bootstrap or small_groups != "exclude":
        # Intervals from the confusion counts; the point values stay Fairlearn's own.
        boot = judge_groups(
            bootstrap_stats(),
            groups,
            min_group_size=min_group_size,
            thresholds={
                "max_demographic_parity_difference": max_demographic_parity_difference,
                "max_equalized_odds_difference": max_equalized_odds_difference,
            },
            bootstrap=bootstrap,
            seed=bootstrap_seed,
            small_groups=small_groups,
        )
        for key, entry in boot.by_group.items():
            by_group[key].update({k: v for k, v in entry.items() if k.endswith("_ci")})
        ci = lambda d: {k: v for k, v in d.items() if k.endswith("_ci")}  # noqa: E731
        overall = {**overall, **ci(boot.overall)}
        judged = boot.judged if small_groups == "interval" else {**judged, **ci(boot.judged)}
        if small_groups == "interval":
            failed, status = boot.exceeded, boot.status

    summary = {
        **judged,
        **_task_summary(chosen, bootstrap, bootstrap_seed, small_groups),
        "groups": len(by_group),
        "sufficient_groups": len(sufficient),
        "insufficient_groups": insufficient,
        "exceeded": failed,
        "max_demographic_parity_difference": max_demographic_parity_difference,
        "max_equalized_odds_difference": max_equalized_odds_difference,
        "min_group_size": min_group_size,
        "sensitive_features": sensitive,
        "positive_label": positive_label,
        "rows": rows,
        "rows_excluded": rows_excluded,
        "prediction_source": "model" if model_info else "column",
        **ratio_summary,
    }
    if per_feature:
        summary["impact_ratio_by_feature"] = {k: v["summary"]["impact_ratio"] for k, v in per_feature.items()}
    details: dict[str, Any] = {
        "by_group": by_group,
        **({"impact_ratios_by_feature": per_feature} if per_feature else {}),
        "disparities": {"sufficient_groups": judged, "all_groups": overall},
        # govflow's numpy computes the numbers; tests assert they are Fairlearn's bits (oracle).
        "provenance": {**provenance(oracles=[Oracle("fairlearn", BINARY_CELLS_TOLERANCE)]), **(engine or {})},
    }
    if model_info:
        details["model"] = model_info
    return CheckResult(check=CHECK, status=status, summary=summary, details=details)


def _feature_selections(
    selections: Mapping[str, tuple[int, int]], sensitive: Sequence[str]
) -> dict[str, dict[str, tuple[int, int]]]:
    """Each feature's own categories: the intersections' (rows, favourable) summed per value.

    An intersection's key joins its values with ``|``; a value holding ``|`` makes the split
    ambiguous, and then no per-feature ratio is reported rather than a wrong one.
    """
    per: dict[str, dict[str, tuple[int, int]]] = {name: {} for name in sensitive}
    for key, (rows, favourable) in selections.items():
        values = key.split("|")
        if len(values) != len(sensitive):
            return {}
        for name, value in zip(sensitive, values, strict=True):
            seen_rows, seen_favourable = per[name].get(value, (0, 0))
            per[name][value] = (seen_rows + rows, seen_favourable + favourable)
    return per


def _selections(table: CellTable, groups: Groups) -> dict[str, tuple[int, int]]:
    """(rows, rows predicted favourable) per group, from the confusion counts."""
    return {
        key: (int(table.counts[code].sum()), int(table.counts[code][:, 1].sum()))
        for code, key in enumerate(groups.keys)
    }


def _task_summary(chosen: TaskChoice, bootstrap: int, seed: int, small_groups: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task": chosen.task,
        "task_detected": chosen.reason if chosen.detected else None,
        "small_groups": small_groups,
    }
    if bootstrap:
        out["bootstrap"] = {"replicates": bootstrap, "seed": seed, "confidence": CONFIDENCE}
    return out


def task_result(
    stats: TaskStats,
    groups: Groups,
    chosen: TaskChoice,
    *,
    classes: list[Any] | None,
    rows: int,
    rows_excluded: int,
    sensitive: list[str],
    min_group_size: int,
    thresholds: dict[str, float | None],
    bootstrap: int,
    bootstrap_seed: int,
    small_groups: str,
    model_info: dict[str, Any] | None = None,
    normal_limit_groups: list[str] | None = None,
    engine: dict[str, Any] | None = None,
) -> CheckResult:
    """The multiclass or regression verdict from per-group statistics (from rows or from an engine)."""
    limits = {
        name: value
        for name, value in thresholds.items()
        if name.removeprefix("max_") in DISPARITIES[chosen.task]
    }
    verdict = judge_groups(
        stats,
        groups,
        min_group_size=min_group_size,
        thresholds=limits,
        bootstrap=bootstrap,
        seed=bootstrap_seed,
        small_groups=small_groups,
    )
    summary: dict[str, Any] = {
        **verdict.judged,
        **_task_summary(chosen, bootstrap, bootstrap_seed, small_groups),
        "groups": len(verdict.by_group),
        "sufficient_groups": len(verdict.by_group) - len(verdict.insufficient),
        "insufficient_groups": verdict.insufficient,
        "exceeded": verdict.exceeded,
        **limits,
        "min_group_size": min_group_size,
        "sensitive_features": sensitive,
        "rows": rows,
        "rows_excluded": rows_excluded,
        "prediction_source": "model" if model_info else "column",
    }
    if classes is not None:
        summary["classes"] = [str(c) for c in classes]
    if bootstrap and chosen.task == "regression":
        summary["bootstrap"]["normal_limit_groups"] = (
            normal_limit_groups  # see _bootstrap: resampled sums' normal limit
        )
        summary["bootstrap"]["normal_limit_above_rows"] = NORMAL_ABOVE
    if chosen.task == "regression":
        worst = max(
            (k for k, e in verdict.by_group.items() if not e["insufficient"] or small_groups == "interval"),
            key=lambda k: verdict.by_group[k]["mean_absolute_error"],
            default=None,
        )
        # Fairlearn's bounded group loss: the worst-off group's loss is what a bound would cap.
        summary["bounded_group_loss"] = {"metric": "mean_absolute_error", "worst_group": worst}
    if verdict.note:
        summary["note"] = verdict.note
    details: dict[str, Any] = {
        "by_group": verdict.by_group,
        "disparities": {"sufficient_groups": verdict.judged, "all_groups": verdict.overall},
        "provenance": {**provenance(oracles=[Oracle("fairlearn", TASK_TOLERANCE)]), **(engine or {})},
    }
    if model_info:
        details["model"] = model_info
    return CheckResult(check=CHECK, status=verdict.status, summary=summary, details=details)
