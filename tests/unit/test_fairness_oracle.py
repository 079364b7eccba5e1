"""Oracle: the fairness numbers govflow computes from confusion counts are Fairlearn's, bit for bit.

``checks/fairness/_metrics.py`` never imports Fairlearn; these tests run Fairlearn's ``MetricFrame``
and disparity functions on the raw rows and assert ``==`` on every float (the same bits), on random
data and the edge cases (a group without positives, nobody or everybody selected). Run them with
``pytest -m oracle`` after upgrading Fairlearn, scikit-learn or numpy.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from govflow.checks.fairness._metrics import cell_table, disparities, metrics_by_group
from govflow.checks.fairness._task_metrics import BINARY_METRICS
from govflow.checks.outcomes import Groups

pytestmark = pytest.mark.oracle


def _groups(sex: np.ndarray, race: np.ndarray) -> Groups:
    keys = sorted({f"{s}|{r}" for s, r in zip(sex, race, strict=True)})
    index = {key: i for i, key in enumerate(keys)}
    codes = np.array([index[f"{s}|{r}"] for s, r in zip(sex, race, strict=True)], dtype=np.int64)
    return Groups(codes=codes, keys=keys, values=[tuple(k.split("|")) for k in keys])


def _fairlearn_on_rows(sex, race, y_true, y_pred, keep=None):  # type: ignore[no-untyped-def]
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        demographic_parity_ratio,
        equalized_odds_difference,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    rows = np.ones(len(y_true), dtype=bool) if keep is None else keep
    features = pd.DataFrame({"sex": sex[rows], "race": race[rows]})
    functions = {
        "selection_rate": selection_rate,
        "accuracy": accuracy_score,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate,
    }
    frame = MetricFrame(
        metrics=functions, y_true=y_true[rows], y_pred=y_pred[rows], sensitive_features=features
    )
    by_group = {
        "|".join(index): {m: float(row[m]) for m in BINARY_METRICS}
        for index, row in frame.by_group.iterrows()
    }
    args = {"y_true": y_true[rows], "y_pred": y_pred[rows], "sensitive_features": features}
    disparity = {
        "demographic_parity_difference": float(demographic_parity_difference(**args)),
        "demographic_parity_ratio": float(demographic_parity_ratio(**args)),
        "equalized_odds_difference": float(equalized_odds_difference(**args)),
    }
    return by_group, disparity


def _same_bits(ours: dict, theirs: dict) -> bool:
    def same(a: object, b: object) -> bool:  # == on floats: the same bits (NaN: both NaN)
        return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))

    return ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in ours)


FAIRNESS_CASES = {
    "random": lambda rng, n: (rng.random(n) < 0.3, rng.random(n) < 0.35),
    "a group without positives": lambda rng, n: (rng.random(n) < 0.3, rng.random(n) < 0.3),
    "nobody selected": lambda rng, n: (rng.random(n) < 0.3, np.zeros(n, dtype=bool)),
    "everybody selected": lambda rng, n: (rng.random(n) < 0.3, np.ones(n, dtype=bool)),
}


@pytest.mark.parametrize("case", sorted(FAIRNESS_CASES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fairness_numbers_are_fairlearns_bit_for_bit(case, seed):
    rng = np.random.default_rng(seed)
    n = 2500
    sex = rng.choice(["F", "M"], n, p=[0.45, 0.55])
    race = rng.choice(["a", "b", "c", "d"], n, p=[0.5, 0.3, 0.17, 0.03])
    positive, selected = FAIRNESS_CASES[case](rng, n)
    if case == "a group without positives":
        positive &= race != "d"  # TPR of F|d, M|d: 0 positives, Fairlearn's 0
    y_true, y_pred = positive.astype(np.int64), selected.astype(np.int64)
    groups = _groups(sex, race)
    table = cell_table(groups, y_true, y_pred)

    expected_by_group, expected = _fairlearn_on_rows(sex, race, y_true, y_pred)
    ours = metrics_by_group(table, groups)
    assert ours.keys() == expected_by_group.keys()
    for key in ours:
        assert ours[key] == expected_by_group[key], key  # == on floats: the same bits
    assert _same_bits(disparities(table), expected), (disparities(table), expected)

    large = {
        g for g in range(len(groups.keys)) if np.sum(groups.codes == g) >= 100
    }  # the race "d" groups are small
    assert len(large) < len(groups.keys)
    _, expected_large = _fairlearn_on_rows(sex, race, y_true, y_pred, keep=np.isin(groups.codes, list(large)))
    assert _same_bits(disparities(table, keep_groups=large), expected_large)
    assert set(disparities(table, keep_groups={0}).values()) == {None}
