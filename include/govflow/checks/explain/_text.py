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
    for entry in explanation["error_analysis"]:
        sentence = _errors(entry)
        if sentence:
            out.append(sentence)
    for column in explanation["model"]["sensitive_inputs"]:
        out.append(f"{column} is itself an input of the model: it can use it directly.")
    out.extend(f"Warning: {w}." for w in explanation["proxies"]["warnings"])
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


def _errors(entry: dict[str, Any]) -> str | None:
    if not entry["slices"]:
        return None
    metric = entry["metrics"][0]
    worst, name = RATE_WORDS.get(metric["metric"], (metric["metric"], metric["metric"]))
    top = entry["slices"][0]
    other = top["error_rate_other_groups"]
    same_slice = f"; {_num(other)} in the same slice for the other groups" if other is not None else ""
    return (
        f"{entry['group']} has {worst} ({name} {_num(metric['value'])} vs {_num(metric['other_groups'])} "
        f"for the other groups); its {entry['errors']} concentrate in {top['slice']}: "
        f"{_pct(top['share_of_errors'])} of them, error rate {_num(top['error_rate'])} vs "
        f"{_num(top['error_rate_rest'])} in the rest of the group{same_slice}."
    )


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if value >= 0.01 else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
