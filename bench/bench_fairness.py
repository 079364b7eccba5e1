"""Benchmark: govflow's fairness check vs. plain Fairlearn ``MetricFrame`` on the same rows.

``--rows`` rows with 2 sensitive features (sex x race: 12 intersectional
groups), a 0/1 label and 0/1 predictions with group-dependent rates. The
baseline is what one would write with Fairlearn directly: a ``MetricFrame``
of the five group metrics plus ``demographic_parity_difference``,
``demographic_parity_ratio`` and ``equalized_odds_difference`` on the raw rows.
Prints both times, their ratio and the largest difference between the numbers.

    python bench/bench_fairness.py                 # 1,000,000 rows
    python bench/bench_fairness.py --rows 100000   # a quick run
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

SEXES = ["Female", "Male"]
RACES = ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Hispanic"]


def make_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(len(SEXES), rows, p=[0.45, 0.55])
    race = rng.choice(len(RACES), rows, p=[0.6, 0.12, 0.1, 0.03, 0.05, 0.1])
    base_rate = 0.15 + 0.1 * sex + 0.02 * race  # group-dependent label rates
    label = (rng.random(rows) < base_rate).astype(np.int64)
    hit = rng.random(rows) < 0.75 + 0.03 * sex  # group-dependent TPR
    false_alarm = rng.random(rows) < 0.08 + 0.01 * race  # group-dependent FPR
    prediction = np.where(label == 1, hit, false_alarm).astype(np.int64)
    return pd.DataFrame(
        {
            "sex": np.asarray(SEXES, dtype=object)[sex],
            "race": np.asarray(RACES, dtype=object)[race],
            "label": label,
            "prediction": prediction,
        }
    )


def fairlearn_baseline(frame: pd.DataFrame) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        demographic_parity_ratio,
        equalized_odds_difference,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    y_true, y_pred, sensitive = frame["label"], frame["prediction"], frame[["sex", "race"]]
    metric_frame = MetricFrame(
        metrics={
            "count": count,
            "selection_rate": selection_rate,
            "accuracy": accuracy_score,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
            "false_negative_rate": false_negative_rate,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive,
    )
    by_group = {f"{s}|{r}": row.to_dict() for (s, r), row in metric_frame.by_group.iterrows()}
    disparities = {
        "demographic_parity_difference": demographic_parity_difference(
            y_true, y_pred, sensitive_features=sensitive
        ),
        "demographic_parity_ratio": demographic_parity_ratio(y_true, y_pred, sensitive_features=sensitive),
        "equalized_odds_difference": equalized_odds_difference(y_true, y_pred, sensitive_features=sensitive),
    }
    return by_group, disparities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from govflow.checks.fairness import evaluate_fairness

    frame = make_frame(args.rows, args.seed)
    options = {"label": "label", "prediction": "prediction", "sensitive": ["sex", "race"]}
    evaluate_fairness(frame.iloc[:5000], **options)  # warm up imports, not timed
    fairlearn_baseline(frame.iloc[:5000])

    started = time.perf_counter()
    result = evaluate_fairness(frame, **options)
    govflow_s = time.perf_counter() - started
    assert result.status != "error", result.errors

    started = time.perf_counter()
    expected_groups, expected_disparities = fairlearn_baseline(frame)
    fairlearn_s = time.perf_counter() - started

    ours = result.details["by_group"]
    metrics = [
        "count",
        "selection_rate",
        "accuracy",
        "true_positive_rate",
        "false_positive_rate",
        "false_negative_rate",
    ]
    group_diff = max(abs(ours[g][m] - expected_groups[g][m]) for g in expected_groups for m in metrics)
    judged = {k: result.summary[k] for k in expected_disparities}
    disparity_diff = max(abs(judged[k] - expected_disparities[k]) for k in expected_disparities)

    print(
        f"rows: {args.rows:,}; groups: {len(ours)} (sex x race); same group keys: {set(ours) == set(expected_groups)}"
    )
    print(f"{'group':<28} {'count':>8} {'selection':>10} {'accuracy':>9} {'TPR':>7} {'FPR':>7} {'FNR':>7}")
    for key, entry in ours.items():
        print(
            f"{key:<28} {entry['count']:>8} {entry['selection_rate']:>10.5f} {entry['accuracy']:>9.5f} "
            f"{entry['true_positive_rate']:>7.4f} {entry['false_positive_rate']:>7.4f} "
            f"{entry['false_negative_rate']:>7.4f}"
        )
    for name, value in expected_disparities.items():
        print(f"{name}: govflow {judged[name]:.12f}  Fairlearn {value:.12f}")
    print(f"largest difference: group metrics {group_diff:.3g}, disparities {disparity_diff:.3g}")
    print(f"govflow evaluate_fairness:                {govflow_s:8.3f} s")
    print(f"Fairlearn MetricFrame + disparity funcs:  {fairlearn_s:8.3f} s")
    print(f"speed-up: {fairlearn_s / govflow_s:.1f}x")


if __name__ == "__main__":
    main()
