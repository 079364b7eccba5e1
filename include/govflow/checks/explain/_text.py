"""Plain-language findings from an explanation dict (for reviewers, the CLI and the model card)."""

from __future__ import annotations

from typing import Any

RATE_WORDS = {
    "selection_rate": ("the lowest selection rate", "selection rate"),
    "false_negative_rate": ("the highest false negative rate", "false negative rate"),
    "false_positive_rate": ("the highest false positive rate", "false positive rate"),
    "accuracy": ("the lowest accuracy", "accuracy"),
}


def findings(explanation: dict[str, Any]) -> list[str]:
    out = []
    out.extend(_importance(explanation["feature_importance"]))
    out.extend(base_rate_sentences(explanation.get("base_rates")))
    for entry in explanation["error_analysis"]:
        if entry["slices"]:
            out.append(slice_sentence(entry))
    for column in explanation["model"]["sensitive_inputs"]:
        out.append(f"{column} is itself an input of the model: it can use it directly.")
    out.extend(f"Warning: {w}." for w in explanation["proxies"]["warnings"])
    return out


def base_rate_sentences(rates: dict[str, Any] | None) -> list[str]:
    """The groups' base rates (and calibration) in one sentence, then which criteria cannot all hold."""
    if not rates or not rates["by_group"]:
        return []
    out = []
    if rates["task"] == "binary":
        parts = [f"{g} {v['base_rate']:.2f}" for g, v in rates["by_group"].items()]
        out.append("Base rates (share of positive labels): " + _join(parts) + ".")
        calibrated = [(g, v["calibration"]) for g, v in rates["by_group"].items() if v.get("calibration")]
        if calibrated:
            parts = [
                f"{g} mean score {c['mean_score']:.2f} vs positive rate {c['positive_rate']:.2f} "
                f"(calibration error {c['expected_calibration_error']:.3f})"
                for g, c in calibrated
            ]
            out.append("Calibration of the score per group: " + _join(parts) + ".")
    elif rates["task"] == "regression":
        parts = [f"{g} {v['mean_label']:.4g}" for g, v in rates["by_group"].items()]
        out.append("Mean label per group: " + _join(parts) + ".")
    elif rates["largest_gap"]:
        gap = rates["largest_gap"]
        out.append(
            f"Class shares differ most for the {gap['what']}: {gap['high_group']} {gap['high']:.2f} vs "
            f"{gap['low_group']} {gap['low']:.2f}."
        )
    if rates["criteria"]:
        out.append(rates["criteria"])
    return out


def _importance(importance: dict[str, Any]) -> list[str]:
    out = []
    top = [r for r in importance["overall"][:3] if r["prediction_change"] > 0]
    if top:
        parts = [f"{r['feature']} ({_pct(r['prediction_change'])})" for r in top]
        out.append(
            "The model relies most on "
            + _join(parts)
            + " (share of its predictions that change when the feature is shuffled)."
        )
    gaps = importance["largest_gaps"]
    # A gap of a couple of points, or between two similar shares, is within the sampling noise.
    if gaps and gaps[0]["gap"] >= 0.02 and gaps[0]["highest"] >= 1.5 * gaps[0]["lowest"]:
        g = gaps[0]
        out.append(
            f"{g['feature']} drives predictions differently across groups: shuffling it changes "
            f"{_pct(g['highest'])} of predictions for {g['highest_group']} and {_pct(g['lowest'])} "
            f"for {g['lowest_group']}."
        )
    return out


def slice_sentence(entry: dict[str, Any]) -> str:
    """The entry's top slice in words: where the group's errors are more frequent, by how much, on what."""
    metric = entry["metrics"][0]
    worst, name = RATE_WORDS.get(metric["metric"], (None, metric["metric"].replace("_", " ")))
    top = entry["slices"][0]
    head = (
        f"{entry['group']} has {worst} ({name} {_num(metric['value'])} vs {_num(metric['other_groups'])} "
        "for the other groups)"
        if worst
        else f"{entry['group']} is worst off ({name} {_num(metric['value'])} vs "
        f"{_num(metric['other_groups'])} for the other groups)"
    )
    lift = (
        f", {top['lift']:.1f} times the rest of the group ({_num(top['error_rate_rest'])})"
        if top["lift"]
        else (f" while the rest of the group has {_num(top['error_rate_rest'])}")
    )
    other = (
        f" and {top['lift_other_groups']:.1f} times the same slice in the other groups "
        f"({_num(top['error_rate_other_groups'])})"
        if top["lift_other_groups"]
        else ""
    )
    return (
        f"{head}; its {entry['errors']} are most over-represented in {top['slice']} "
        f"({top['rows']} rows, {_pct(top['share_of_group'])} of the group): error rate "
        f"{_num(top['error_rate'])}{lift}{other}."
    )


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if value >= 0.01 else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
