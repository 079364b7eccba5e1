"""Fairlearn's group metrics and disparities, computed on confusion counts.

Every metric the fairness check reports depends on a row only through its
(group, label, prediction) cell, so the rows are first counted per cell in
one ``np.bincount`` pass, and the numbers come from those counts: each rate is
the ratio of two integer counts. The arithmetic is ``_task_metrics``'s (counts,
rates, disparities: the one binary code path, also behind the bootstrap
intervals); this module shapes it as Fairlearn does. That is exactly what
Fairlearn's ``MetricFrame`` (``selection_rate``, scikit-learn's
``accuracy_score``, the confusion-matrix rates, an empty denominator giving 0)
and its ``demographic_parity_difference``/``_ratio`` and
``equalized_odds_difference`` compute on the raw rows: the same float
divisions of the same integers, the same differences and ratios of those
floats. Importing Fairlearn and scikit-learn would cost a command line more
than the check itself, so they are not imported. The oracle tests
(``tests/unit/test_fairness_oracle.py``, ``pytest -m oracle``) run Fairlearn
on the raw rows and assert ``==`` on every number (the same bits); the whole
check on the Adult sample is compared within 1e-12 (``test_fairness.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from govflow.checks.fairness._task_metrics import (
    BINARY_METRICS,
    binary_disparities,
    binary_metrics,
    class_counts,
)
from govflow.checks.outcomes import Groups

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class CellTable:
    """One row per non-empty (group, y_true, y_pred) cell, with its row count."""

    group: np.ndarray  # group code per cell
    y_true: np.ndarray
    y_pred: np.ndarray
    weight: np.ndarray  # rows in the cell, as floats (Fairlearn's sample_weight, where tests compare)
    counts: np.ndarray  # shape (groups, 2, 2): [group, y_true, y_pred] -> rows


def cell_table(groups: Groups, y_true: np.ndarray, y_pred: np.ndarray) -> CellTable:

    return cell_table_from_counts(class_counts(groups.codes, y_true, y_pred, len(groups.keys), 2))


def cell_table_from_counts(counts: np.ndarray) -> CellTable:
    """The cell table of confusion counts ``(groups, 2, 2)`` (from rows, or from an engine's GROUP BY)."""
    import numpy as np

    flat = counts.reshape(-1)
    present = np.flatnonzero(flat)  # cell = (group * 2 + y_true) * 2 + y_pred
    return CellTable(
        group=present // 4,
        y_true=(present // 2) % 2,
        y_pred=present % 2,
        weight=flat[present].astype(np.float64),
        counts=counts,
    )


def metrics_by_group(table: CellTable, groups: Groups) -> dict[str, dict[str, float]]:
    """Fairlearn's ``MetricFrame.by_group`` of the five rates: {group key: {metric: value}}."""
    rates = binary_metrics(table.counts)
    return {
        key: {name: float(rates[name][g]) for name in BINARY_METRICS} for g, key in enumerate(groups.keys)
    }


def disparities(table: CellTable, *, keep_groups: set[int] | None = None) -> dict[str, float | None]:
    """Fairlearn's demographic parity difference/ratio and equalized odds difference (between groups).

    ``keep_groups`` restricts them to those group codes; fewer than two groups give ``None``.
    """
    import numpy as np

    present = np.unique(table.group)  # groups with rows (every group has some)
    kept = present if keep_groups is None else present[np.isin(present, list(keep_groups))]
    if len(kept) < 2:
        return {
            "demographic_parity_difference": None,
            "demographic_parity_ratio": None,
            "equalized_odds_difference": None,
        }
    rates = binary_metrics(table.counts[kept])
    spread = binary_disparities(rates, slice(None))  # the disparities the bootstrap uses, on the kept groups
    return {
        # MetricFrame.difference(): the largest |rate - smallest rate|, i.e. largest - smallest.
        "demographic_parity_difference": float(spread["demographic_parity_difference"]),
        # MetricFrame.ratio(): smallest / largest, which pandas makes NaN when both are 0.
        "demographic_parity_ratio": (
            float(spread["demographic_parity_ratio"]) if rates["selection_rate"].max() > 0 else float("nan")
        ),
        "equalized_odds_difference": float(spread["equalized_odds_difference"]),
    }
