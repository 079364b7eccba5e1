"""Impact ratios: each category's selection rate over the most selected category's.

As a hiring-tool bias audit computes them (NYC Local Law 144, 6 RCNY § 5-300
and § 5-301): the selection rate of a category is the share of its rows the
model selects (predicts the favourable outcome for); its impact ratio is that
rate divided by the highest category's rate. A category holding less than
``min_share`` of the rows (the rule's 2%) is reported with its rate and share
but excluded from the ratio: it is neither the denominator nor a ratio of its
own. The lowest ratio is the summary. With several sensitive features, the
intersectional categories (the check's groups) and each feature's own
categories are both computed, as the rule asks for sex, race/ethnicity and
their intersections. Integer counts only, so a hand computation gives the
same floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_MIN_SHARE", "impact_ratios"]

DEFAULT_MIN_SHARE = 0.02


def impact_ratios(
    counts: Mapping[str, tuple[int, int]], *, min_share: float = DEFAULT_MIN_SHARE
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Per category {selection_rate, share, impact_ratio, impact_ratio_excluded} and the summary.

    ``counts`` maps a category to (rows, rows selected).
    """
    total = sum(rows for rows, _ in counts.values())
    per: dict[str, dict[str, Any]] = {}
    for key, (rows, selected) in counts.items():
        share = rows / total if total else 0.0
        per[key] = {
            "selection_rate": selected / rows if rows else 0.0,
            "share": share,
            "impact_ratio_excluded": share < min_share,
        }
    included = [e["selection_rate"] for e in per.values() if not e["impact_ratio_excluded"]]
    best = max(included, default=0.0)
    for entry in per.values():
        usable = best > 0 and not entry["impact_ratio_excluded"]
        entry["impact_ratio"] = entry["selection_rate"] / best if usable else None
    ratios = [e["impact_ratio"] for e in per.values() if e["impact_ratio"] is not None]
    summary = {
        "impact_ratio": min(ratios) if ratios else None,
        "impact_ratio_min_share": min_share,
        "impact_ratio_excluded_groups": sorted(k for k, e in per.items() if e["impact_ratio_excluded"]),
    }
    return per, summary
