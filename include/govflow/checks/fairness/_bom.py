"""What the CycloneDX model card (``govflow evidence bom``) says of the fairness evidence.

The task, the disparities as performance metrics sliced by the sensitive
features, and one fairness assessment: the group with the lowest selection
rate is the one at risk; the harm names the disparities the check judged, and
whether the policy's thresholds were exceeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The disparities the fairness check reports (checks/fairness/_judge.DISPARITIES) and the ones
# nightly/explain may add: reported as performance metrics sliced by the sensitive features.
_FAIRNESS_PREFIXES = ("demographic_parity", "equalized_odds", "accuracy_difference", "mean_", "root_mean")


def bom_part(fairness: Mapping[str, Any]) -> dict[str, Any]:
    """``{"task", "metrics", "considerations"}`` from one fairness check (summary and details)."""
    summary = fairness.get("summary") or {}
    sliced = ", ".join(map(str, summary.get("sensitive_features") or [])) or "sensitive features"
    metrics = [
        {"type": key, "value": _text(value), "slice": f"by {sliced}"}
        for key, value in sorted(summary.items())
        if key.startswith(_FAIRNESS_PREFIXES) and _scalar(value) and not key.startswith("max_")
    ]
    return {
        "task": summary.get("task"),
        "metrics": metrics,
        "considerations": {"fairnessAssessments": _assessments(fairness, sliced)},
    }


def _assessments(fairness: Mapping[str, Any], sliced: str) -> list[dict[str, str]]:
    summary = fairness.get("summary") or {}
    by_group = (fairness.get("details") or {}).get("by_group") or {}
    exceeded = summary.get("exceeded") or []
    harms = (
        f"exceeds the policy threshold for {', '.join(map(str, exceeded))}"
        if exceeded
        else f"disparities by {sliced} within the policy thresholds (fairness check {fairness['status']})"
    )
    at_risk = None
    rated = {g: v for g, v in by_group.items() if isinstance(v, Mapping) and _scalar(v.get("selection_rate"))}
    if rated:
        at_risk = min(rated, key=lambda g: (float(rated[g]["selection_rate"]), g))
    entry = {
        "harms": harms,
        "mitigationStrategy": "human approval per the risk tier's policy; nightly re-checks",
    }
    if at_risk is not None:
        entry["groupAtRisk"] = f"{sliced} = {at_risk} (lowest selection rate)"
    return [entry]


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
