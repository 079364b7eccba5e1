"""Benchmark: govflow's fairness check vs. plain Fairlearn ``MetricFrame`` on the same rows.

``--rows`` rows with 2 sensitive features (sex x race: 12 intersectional
groups), a 0/1 label and 0/1 predictions with group-dependent rates. The
baseline is what one would write with Fairlearn directly: a ``MetricFrame``
of the five group metrics plus ``demographic_parity_difference``,
``demographic_parity_ratio`` and ``equalized_odds_difference`` on the raw rows.
Prints both times, their ratio and the largest difference between the numbers.

    python bench/bench_fairness.py                 # binary, multiclass, regression on 1,000,000 rows
    python bench/bench_fairness.py --rows 100000   # a quick run
    python bench/bench_fairness.py --task binary   # the binary path's per-group table

Multiclass (3 classes) and regression run the same way against what one
would write with Fairlearn: a ``MetricFrame`` of one-vs-rest rates per class
(or count, mean prediction, MAE, RMSE) and the disparities from Fairlearn's
functions per class (or ``MetricFrame.difference``/``group_max``).
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


CLASSES = ["low", "medium", "high"]


def add_task_columns(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A 3-class label and prediction, and a numeric target and prediction, all group-dependent."""
    rng = np.random.default_rng(seed + 1)
    rows = len(frame)
    male = (frame["sex"] == "Male").to_numpy()
    label = rng.choice(3, rows, p=[0.5, 0.3, 0.2])
    wrong = rng.random(rows) < np.where(male, 0.2, 0.3)
    predicted = np.where(wrong, rng.choice(3, rows), label)
    names = np.asarray(CLASSES, dtype=object)
    target = rng.gamma(4.0, 10.0, rows)
    estimate = target + rng.normal(np.where(male, 1.0, -1.0), np.where(male, 4.0, 6.0))
    return frame.assign(cls=names[label], cls_pred=names[predicted], amount=target, amount_pred=estimate)


def multiclass_baseline(frame: pd.DataFrame) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Fairlearn by hand: a MetricFrame of one-vs-rest rates per class, the disparities per class."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    y_true, y_pred, sensitive = frame["cls"], frame["cls_pred"], frame[["sex", "race"]]
    metrics = {"count": count, "accuracy": accuracy_score}
    for c in CLASSES:
        metrics[f"selection_rate.{c}"] = lambda t, p, c=c: selection_rate(t == c, p == c, pos_label=True)
        metrics[f"true_positive_rate.{c}"] = lambda t, p, c=c: true_positive_rate(
            t == c, p == c, pos_label=True
        )
        metrics[f"false_positive_rate.{c}"] = lambda t, p, c=c: false_positive_rate(
            t == c, p == c, pos_label=True
        )
    metric_frame = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive)
    by_group = {f"{s}|{r}": row.to_dict() for (s, r), row in metric_frame.by_group.iterrows()}
    disparities = {
        "demographic_parity_difference": max(
            demographic_parity_difference(y_true == c, y_pred == c, sensitive_features=sensitive)
            for c in CLASSES
        ),
        "equalized_odds_difference": max(
            equalized_odds_difference(y_true == c, y_pred == c, sensitive_features=sensitive) for c in CLASSES
        ),
        "accuracy_difference": metric_frame.difference()["accuracy"],
    }
    return by_group, disparities


def regression_baseline(frame: pd.DataFrame) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    from fairlearn.metrics import MetricFrame, count, mean_prediction
    from sklearn.metrics import mean_absolute_error, root_mean_squared_error

    metric_frame = MetricFrame(
        metrics={
            "count": count,
            "mean_prediction": mean_prediction,
            "mean_absolute_error": mean_absolute_error,
            "root_mean_squared_error": root_mean_squared_error,
        },
        y_true=frame["amount"],
        y_pred=frame["amount_pred"],
        sensitive_features=frame[["sex", "race"]],
    )
    by_group = {f"{s}|{r}": row.to_dict() for (s, r), row in metric_frame.by_group.iterrows()}
    difference = metric_frame.difference()
    disparities = {
        "mean_prediction_difference": difference["mean_prediction"],
        "mean_absolute_error_difference": difference["mean_absolute_error"],
        "root_mean_squared_error_difference": difference["root_mean_squared_error"],
        "worst_group_mean_absolute_error": metric_frame.group_max()["mean_absolute_error"],
    }
    return by_group, disparities


TASKS = {
    "binary": ("label", "prediction", fairlearn_baseline),
    "multiclass": ("cls", "cls_pred", multiclass_baseline),
    "regression": ("amount", "amount_pred", regression_baseline),
}


def compare(task: str, frame: pd.DataFrame) -> dict[str, float]:
    """Time govflow and the Fairlearn baseline on the same rows; the largest difference in their numbers."""
    from govflow.checks.fairness import evaluate_fairness

    label, prediction, baseline = TASKS[task]
    options = {"label": label, "prediction": prediction, "sensitive": ["sex", "race"], "task": task}
    evaluate_fairness(frame.iloc[:5000], **options)  # warm up imports, not timed
    baseline(frame.iloc[:5000])
    started = time.perf_counter()
    result = evaluate_fairness(frame, **options)
    govflow_s = time.perf_counter() - started
    assert result.status != "error", result.errors
    started = time.perf_counter()
    expected_groups, expected_disparities = baseline(frame)
    fairlearn_s = time.perf_counter() - started
    ours = result.details["by_group"]
    assert set(ours) == set(expected_groups)
    group_diff = max(abs(ours[g][m] - v) for g in expected_groups for m, v in expected_groups[g].items())
    disparity_diff = max(abs(result.summary[k] - v) for k, v in expected_disparities.items())
    return {
        "groups": len(ours),
        "govflow_s": govflow_s,
        "fairlearn_s": fairlearn_s,
        "diff": max(group_diff, disparity_diff),
    }


def bootstrap_cost(task: str, frame: pd.DataFrame, replicates: int) -> float:
    from govflow.checks.fairness import evaluate_fairness

    label, prediction, _ = TASKS[task]
    started = time.perf_counter()
    result = evaluate_fairness(
        frame, label=label, prediction=prediction, sensitive=["sex", "race"], task=task, bootstrap=replicates
    )
    assert result.status != "error", result.errors
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--task", choices=[*TASKS, "all"], default="all")
    parser.add_argument("--bootstrap", type=int, default=200, help="replicates for the interval cost line")
    args = parser.parse_args()
    if args.task == "binary":
        binary_detail(args)
        return
    frame = add_task_columns(make_frame(args.rows, args.seed), args.seed)
    tasks = list(TASKS) if args.task == "all" else [args.task]
    print(f"rows: {args.rows:,}; sensitive: sex x race (12 groups); same group keys and numbers checked")
    print(
        f"{'task':<11} {'groups':>6} {'govflow s':>10} {'Fairlearn s':>12} {'speed-up':>9} {'max |diff|':>11}"
    )
    for task in tasks:
        row = compare(task, frame)
        print(
            f"{task:<11} {row['groups']:>6} {row['govflow_s']:>10.3f} {row['fairlearn_s']:>12.3f} "
            f"{row['fairlearn_s'] / row['govflow_s']:>8.1f}x {row['diff']:>11.2e}"
        )
    if args.bootstrap:
        for task in tasks:
            seconds = bootstrap_cost(task, frame, args.bootstrap)
            print(
                f"{task} with --bootstrap {args.bootstrap} (95% intervals on every number): {seconds:.3f} s"
            )


def binary_detail(args: argparse.Namespace) -> None:
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
        f"rows: {args.rows:,}; groups: {len(ours)} (sex x race); "
        f"same group keys: {set(ours) == set(expected_groups)}"
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
