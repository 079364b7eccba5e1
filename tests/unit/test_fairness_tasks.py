"""Multiclass and regression fairness, task detection and bootstrap intervals.

Known answers on tiny tables, and Fairlearn's ``MetricFrame`` and disparity
functions on the same random rows (one-vs-rest for the multiclass rates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govflow.checks.fairness import evaluate_fairness

CLASSES = ["cat", "dog", "eel"]


def tiny_multiclass() -> pd.DataFrame:
    # group a: (y, p) = (cat,cat) (dog,cat) (eel,eel) (dog,dog)
    # group b: (cat,cat) (cat,dog) (eel,dog) (dog,dog)
    return pd.DataFrame(
        {
            "y": ["cat", "dog", "eel", "dog", "cat", "cat", "eel", "dog"],
            "p": ["cat", "cat", "eel", "dog", "cat", "dog", "dog", "dog"],
            "g": ["a"] * 4 + ["b"] * 4,
        }
    )


def tiny_regression() -> pd.DataFrame:
    # group a: errors +1, -1, +2 (pred 3, 1, 6); group b: errors 0, +4 (pred 10, 14)
    return pd.DataFrame(
        {
            "y": [2.0, 2.0, 4.0, 10.0, 10.0],
            "p": [3.0, 1.0, 6.0, 10.0, 14.0],
            "g": ["a", "a", "a", "b", "b"],
        }
    )


def random_frame(seed: int = 3, rows: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2])
    h = rng.choice(["x", "y"], rows)
    y = rng.choice(CLASSES, rows, p=[0.5, 0.3, 0.2])
    wrong = rng.random(rows) < np.where(g == "a", 0.2, 0.35)
    p = np.where(wrong, rng.choice(CLASSES, rows), y)
    target = rng.normal(50, 10, rows)
    pred = target + rng.normal(np.where(g == "c", 3.0, 0.0), np.where(g == "b", 4.0, 2.0))
    return pd.DataFrame({"g": g, "h": h, "y": y, "p": p, "t": target, "q": pred})


class TestMulticlassKnownAnswers:
    def test_group_metrics(self) -> None:
        result = evaluate_fairness(
            tiny_multiclass(), label="y", prediction="p", sensitive=["g"], min_group_size=1
        )
        a, b = result.details["by_group"]["a"], result.details["by_group"]["b"]
        assert result.summary["task"] == "multiclass"
        assert result.summary["task_detected"] == "label 'y' has 3 distinct classes"
        assert a["accuracy"] == 0.75 and b["accuracy"] == 0.5
        assert a["selection_rate.cat"] == 0.5 and b["selection_rate.dog"] == 0.75
        assert a["true_positive_rate.dog"] == 0.5  # one of a's two dogs predicted dog
        assert b["true_positive_rate.eel"] == 0.0
        assert a["false_positive_rate.cat"] == pytest.approx(1 / 3)  # a dog called cat, of 3 non-cats
        assert b["false_positive_rate.dog"] == pytest.approx(2 / 3)

    def test_summary_is_the_largest_over_classes(self) -> None:
        result = evaluate_fairness(
            tiny_multiclass(), label="y", prediction="p", sensitive=["g"], min_group_size=1
        )
        s = result.summary
        assert s["demographic_parity_difference"] == pytest.approx(0.5)  # dog: 0.25 vs 0.75
        assert s["accuracy_difference"] == pytest.approx(0.25)
        # eel TPR: 1 vs 0
        assert s["equalized_odds_difference"] == pytest.approx(1.0)
        assert result.status == "fail"
        assert s["classes"] == CLASSES

    def test_accuracy_difference_is_judged_when_the_policy_sets_it(self) -> None:
        result = evaluate_fairness(
            tiny_multiclass(),
            label="y",
            prediction="p",
            sensitive=["g"],
            min_group_size=1,
            max_demographic_parity_difference=1,
            max_equalized_odds_difference=1,
            max_accuracy_difference=0.2,
        )
        assert result.status == "fail" and result.summary["exceeded"] == ["accuracy_difference"]


class TestRegressionKnownAnswers:
    def test_group_metrics_and_differences(self) -> None:
        result = evaluate_fairness(
            tiny_regression(),
            label="y",
            prediction="p",
            sensitive=["g"],
            task="regression",
            min_group_size=1,
            max_mean_absolute_error_difference=1.0,
        )
        a, b = result.details["by_group"]["a"], result.details["by_group"]["b"]
        assert a["count"] == 3 and b["count"] == 2
        assert a["mean_prediction"] == pytest.approx(10 / 3) and b["mean_prediction"] == 12.0
        assert a["mean_absolute_error"] == pytest.approx(4 / 3) and b["mean_absolute_error"] == 2.0
        assert a["root_mean_squared_error"] == pytest.approx(np.sqrt(2.0))
        assert b["root_mean_squared_error"] == pytest.approx(np.sqrt(8.0))
        s = result.summary
        assert s["task"] == "regression" and s["task_detected"] is None
        assert s["mean_prediction_difference"] == pytest.approx(12 - 10 / 3)
        assert s["mean_absolute_error_difference"] == pytest.approx(2 / 3)
        assert s["worst_group_mean_absolute_error"] == 2.0
        assert s["bounded_group_loss"]["worst_group"] == "b"
        assert result.status == "pass"

    def test_fails_above_the_threshold(self) -> None:
        result = evaluate_fairness(
            tiny_regression(),
            label="y",
            prediction="p",
            sensitive=["g"],
            task="regression",
            min_group_size=1,
            max_mean_absolute_error_difference=0.5,
        )
        assert result.status == "fail" and result.summary["exceeded"] == ["mean_absolute_error_difference"]

    def test_without_a_threshold_it_warns_and_says_so(self) -> None:
        result = evaluate_fairness(
            tiny_regression(), label="y", prediction="p", sensitive=["g"], task="regression", min_group_size=1
        )
        assert result.status == "warn" and "no disparity was judged" in result.summary["note"]

    def test_whole_numbers_few_values_are_classes_fractions_are_quantities(self) -> None:
        whole = evaluate_fairness(
            tiny_regression(), label="y", prediction="p", sensitive=["g"], min_group_size=1
        )
        # 2, 4 and 10 are three whole numbers: read as classes, and predictions 3, 1, 6, 14 are no class.
        assert whole.status == "error" and "not label classes" in whole.errors[0]
        fractional = tiny_regression().assign(y=[2.5, 2.0, 4.0, 10.0, 10.0])
        result = evaluate_fairness(fractional, label="y", prediction="p", sensitive=["g"], min_group_size=1)
        assert result.summary["task"] == "regression"
        assert result.summary["task_detected"] == "label 'y' has non-integer numbers"


@pytest.mark.oracle
class TestAgainstFairlearn:
    def test_multiclass_equals_metricframe(self) -> None:
        from fairlearn.metrics import (
            MetricFrame,
            demographic_parity_difference,
            equalized_odds_difference,
            false_positive_rate,
            selection_rate,
            true_positive_rate,
        )
        from sklearn.metrics import accuracy_score

        df = random_frame()
        result = evaluate_fairness(df, label="y", prediction="p", sensitive=["g", "h"], task="multiclass")
        sensitive = df[["g", "h"]]
        metrics = {"accuracy": accuracy_score}
        for c in CLASSES:
            metrics[f"selection_rate.{c}"] = lambda t, p, c=c: selection_rate(t == c, p == c, pos_label=True)
            metrics[f"true_positive_rate.{c}"] = lambda t, p, c=c: true_positive_rate(
                t == c, p == c, pos_label=True
            )
            metrics[f"false_positive_rate.{c}"] = lambda t, p, c=c: false_positive_rate(
                t == c, p == c, pos_label=True
            )
        frame = MetricFrame(metrics=metrics, y_true=df["y"], y_pred=df["p"], sensitive_features=sensitive)
        for (g, h), row in frame.by_group.iterrows():
            ours = result.details["by_group"][f"{g}|{h}"]
            for name in metrics:
                assert ours[name] == pytest.approx(row[name], abs=1e-12), (g, h, name)
        dpd = max(
            demographic_parity_difference(df["y"] == c, df["p"] == c, sensitive_features=sensitive)
            for c in CLASSES
        )
        eod = max(
            equalized_odds_difference(df["y"] == c, df["p"] == c, sensitive_features=sensitive)
            for c in CLASSES
        )
        assert result.summary["demographic_parity_difference"] == pytest.approx(dpd, abs=1e-12)
        assert result.summary["equalized_odds_difference"] == pytest.approx(eod, abs=1e-12)
        assert result.summary["accuracy_difference"] == pytest.approx(
            frame.difference()["accuracy"], abs=1e-12
        )

    def test_regression_equals_metricframe(self) -> None:
        from fairlearn.metrics import MetricFrame, count, mean_prediction
        from sklearn.metrics import mean_absolute_error, root_mean_squared_error

        df = random_frame()
        result = evaluate_fairness(df, label="t", prediction="q", sensitive=["g", "h"])
        assert result.summary["task"] == "regression"
        assert result.summary["task_detected"] == "label 't' has non-integer numbers"
        frame = MetricFrame(
            metrics={
                "count": count,
                "mean_prediction": mean_prediction,
                "mean_absolute_error": mean_absolute_error,
                "root_mean_squared_error": root_mean_squared_error,
            },
            y_true=df["t"],
            y_pred=df["q"],
            sensitive_features=df[["g", "h"]],
        )
        for (g, h), row in frame.by_group.iterrows():
            ours = result.details["by_group"][f"{g}|{h}"]
            assert ours["count"] == row["count"]
            for name in ("mean_prediction", "mean_absolute_error", "root_mean_squared_error"):
                assert ours[name] == pytest.approx(row[name], rel=1e-12), (g, h, name)
        difference = frame.difference()
        assert result.summary["mean_prediction_difference"] == pytest.approx(difference["mean_prediction"])
        assert result.summary["mean_absolute_error_difference"] == pytest.approx(
            difference["mean_absolute_error"]
        )
        # Bounded group loss: the worst group's MAE is MetricFrame's group_max.
        assert result.summary["worst_group_mean_absolute_error"] == pytest.approx(
            frame.group_max()["mean_absolute_error"]
        )


class TestBootstrap:
    @pytest.mark.parametrize(
        ("label", "prediction", "metric", "disparity"),
        [
            ("y", "p", "accuracy", "accuracy_difference"),
            ("t", "q", "mean_absolute_error", "mean_absolute_error_difference"),
        ],
    )
    def test_intervals_cover_the_point_and_repeat_with_the_seed(
        self, label: str, prediction: str, metric: str, disparity: str
    ) -> None:
        df = random_frame()
        run = lambda seed: evaluate_fairness(  # noqa: E731
            df, label=label, prediction=prediction, sensitive=["g"], bootstrap=200, bootstrap_seed=seed
        )
        first, again, other = run(7), run(7), run(8)
        for key, entry in first.details["by_group"].items():
            low, high = entry[f"{metric}_ci"]
            assert low <= entry[metric] <= high
            assert again.details["by_group"][key][f"{metric}_ci"] == [low, high]
        low, high = first.summary[f"{disparity}_ci"]
        assert low < high
        assert other.summary[f"{disparity}_ci"] != [low, high]
        assert (
            first.summary["bootstrap"].items() >= {"replicates": 200, "seed": 7, "confidence": 0.95}.items()
        )

    def test_binary_intervals_keep_fairlearns_points(self) -> None:
        df = random_frame()
        df["yb"], df["pb"] = (df["y"] == "cat").astype(int), (df["p"] == "cat").astype(int)
        plain = evaluate_fairness(df, label="yb", prediction="pb", sensitive=["g"])
        boot = evaluate_fairness(df, label="yb", prediction="pb", sensitive=["g"], bootstrap=100)
        assert boot.summary["demographic_parity_difference"] == plain.summary["demographic_parity_difference"]
        low, high = boot.summary["demographic_parity_difference_ci"]
        assert low <= plain.summary["demographic_parity_difference"] <= high
        assert "true_positive_rate_ci" in boot.details["by_group"]["a"]

    def test_interval_rule_judges_small_groups_by_the_upper_end(self) -> None:
        df = random_frame(rows=3000)
        small = df[df["g"] != "c"].copy()
        small = pd.concat([small, df[df["g"] == "c"].head(12)])  # group c: 12 rows
        common = dict(label="t", prediction="q", sensitive=["g"], max_mean_absolute_error_difference=1.5)
        excluded = evaluate_fairness(small, **common)
        judged = evaluate_fairness(small, **common, bootstrap=200, small_groups="interval")
        assert excluded.summary["insufficient_groups"] == ["c"]
        assert "c" not in excluded.summary["bounded_group_loss"]["worst_group"]
        upper = judged.summary["mean_absolute_error_difference_ci"][1]
        assert (judged.status == "fail") == (upper > 1.5)
        assert judged.summary["small_groups"] == "interval"

    def test_interval_rule_needs_replicates(self) -> None:
        result = evaluate_fairness(
            tiny_multiclass(), label="y", prediction="p", sensitive=["g"], small_groups="interval"
        )
        assert result.status == "error" and "bootstrap" in result.errors[0]


class TestBadInput:
    def test_text_label_for_regression(self) -> None:
        result = evaluate_fairness(
            tiny_multiclass(), label="y", prediction="p", sensitive=["g"], task="regression"
        )
        assert result.status == "error"
        assert result.errors == [
            "label column 'y' is not numeric ('cat', 'dog', 'eel'): regression needs numbers"
        ]

    def test_one_class_only(self) -> None:
        df = tiny_multiclass().assign(y="cat")
        result = evaluate_fairness(df, label="y", prediction="p", sensitive=["g"], task="multiclass")
        assert result.status == "error" and "single class ('cat')" in result.errors[0]

    @pytest.mark.parametrize("task", ["regression", "multiclass"])
    def test_nan_predictions(self, task: str) -> None:
        df = tiny_regression() if task == "regression" else tiny_multiclass()
        df.loc[1, "p"] = np.nan
        result = evaluate_fairness(
            df, label="y", prediction="p", sensitive=["g"], task=task, min_group_size=1
        )
        assert result.status == "error"
        assert "is missing (NaN) on 1 of" in result.errors[0]

    def test_unknown_task(self) -> None:
        result = evaluate_fairness(
            tiny_regression(), label="y", prediction="p", sensitive=["g"], task="ranking"
        )
        assert result.errors == ["unknown task 'ranking': choose one of binary, multiclass, regression"]

    @pytest.mark.parametrize("bootstrap", [-1, 10_001, 2.5])
    def test_bad_bootstrap(self, bootstrap: object) -> None:
        result = evaluate_fairness(
            tiny_regression(), label="y", prediction="p", sensitive=["g"], bootstrap=bootstrap
        )
        assert result.status == "error" and "bootstrap must be an integer" in result.errors[0]


def test_large_groups_bootstrap_from_the_normal_limit_like_resampling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from govflow.checks.fairness import _bootstrap

    rng = np.random.default_rng(9)
    rows = 50_000
    df = pd.DataFrame({"g": rng.choice(["a", "b"], rows), "t": rng.gamma(2.0, 10.0, rows)})
    df["q"] = df["t"] + rng.standard_t(4, rows) * 5  # heavy-tailed errors
    run = lambda: evaluate_fairness(df, label="t", prediction="q", sensitive=["g"], bootstrap=300)  # noqa: E731
    normal = run()
    assert normal.summary["bootstrap"]["normal_limit_groups"] == ["a", "b"]
    monkeypatch.setattr(_bootstrap, "NORMAL_ABOVE", 10**9)
    resampled = run()
    assert resampled.summary["bootstrap"]["normal_limit_groups"] == []
    for metric in ("mean_prediction", "mean_absolute_error", "root_mean_squared_error"):
        low, high = resampled.details["by_group"]["a"][f"{metric}_ci"]
        other = normal.details["by_group"]["a"][f"{metric}_ci"]
        assert other == pytest.approx([low, high], abs=0.25 * (high - low)), metric
    low, high = resampled.summary["mean_absolute_error_difference_ci"]
    assert normal.summary["mean_absolute_error_difference_ci"] == pytest.approx(
        [low, high], abs=0.3 * (high - low)
    )
