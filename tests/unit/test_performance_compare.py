"""Champion vs. challenger: both skops artifacts score the same eval rows; drops per metric and per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

from govflow.checks._model_artifact import ModelArtifact
from govflow.checks.performance_compare import compare_with_production


def _artifact(model, name: str) -> ModelArtifact:
    return ModelArtifact(data=skops.io.dumps(model), name=f"{name}.skops")


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=600), "x2": rng.normal(size=600)})
    frame["y"] = 3 * frame["x1"] - frame["x2"] + rng.normal(0, 0.5, 600)
    frame["g"] = rng.choice(["a", "b"], 600)
    return frame


def test_a_worse_regressor_fails_by_relative_error_increase(regression_data):
    features = regression_data[["x1", "x2"]]
    good = LinearRegression().fit(features, regression_data["y"])
    bad = DummyRegressor().fit(features, regression_data["y"])
    data = regression_data[["x1", "x2", "y", "g"]]
    result = compare_with_production(
        data,
        label="y",
        candidate=_artifact(bad, "challenger"),
        production=_artifact(good, "champion"),
        production_version="1.0",
        sensitive=["g"],
        task="regression",
        max_drop=0.1,
    )
    assert result.status == "fail", result.errors
    overall = result.details["comparison"]["overall"]["mean_absolute_error"]
    assert overall["drop"] == pytest.approx(
        (overall["candidate"] - overall["production"]) / overall["production"]
    )
    assert overall["candidate"] > 2 * overall["production"]
    assert "mean_absolute_error" in result.summary["exceeded"]
    assert "mean_absolute_error@a" in result.summary["exceeded"]
    assert result.summary["production_version"] == "1.0"
    assert result.details["comparison"]["by_group"]["a"]["count"] == int((data["g"] == "a").sum())


def test_the_same_model_drops_nothing_and_passes(regression_data):
    model = LinearRegression().fit(regression_data[["x1", "x2"]], regression_data["y"])
    data = regression_data[["x1", "x2", "y", "g"]]
    result = compare_with_production(
        data,
        label="y",
        candidate=_artifact(model, "a"),
        production=_artifact(model, "b"),
        production_version="2.3",
        sensitive=["g"],
        max_drop=0.0,
    )
    assert result.status == "pass"
    assert result.summary["task"] == "regression"  # detected: fractional labels
    assert set(result.summary["drops"].values()) == {0.0}


def test_multiclass_accuracy_drop_and_report_only_without_a_threshold():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=900)})
    frame["y"] = np.digitize(frame["x"], [-0.5, 0.5])
    frame["y"] = np.asarray(["low", "mid", "high"], dtype=object)[frame["y"]]
    good = LogisticRegression(max_iter=500).fit(frame[["x"]], frame["y"])
    bad = DummyClassifier(strategy="most_frequent").fit(frame[["x"]], frame["y"])
    result = compare_with_production(
        frame,
        label="y",
        candidate=_artifact(bad, "c"),
        production=_artifact(good, "p"),
        production_version="1",
    )
    assert result.status == "warn" and "not judged" in result.summary["note"]
    drop = result.summary["drops"]["accuracy"]
    assert drop == pytest.approx(
        result.summary["production_metrics"]["accuracy"] - result.summary["metrics"]["accuracy"]
    )
    assert drop > 0.3


def test_bad_threshold_is_an_error(regression_data):
    model = LinearRegression().fit(regression_data[["x1", "x2"]], regression_data["y"])
    result = compare_with_production(
        regression_data[["x1", "x2", "y"]],
        label="y",
        candidate=_artifact(model, "a"),
        production=_artifact(model, "b"),
        production_version="1",
        max_drop=2.0,
    )
    assert result.status == "error" and "between 0 and 1" in result.errors[0]


class TestNightlyPerformancePerTask:
    """evaluate_performance (the nightly re-check) on regression and multiclass batches."""

    def test_regression_error_growth_is_relative_to_the_registered_error(self):
        from govflow.checks.performance import evaluate_performance

        batch = pd.DataFrame({"y": [1.5, 2.0, 3.0, 4.0], "p": [2.5, 2.0, 3.0, 6.0]})  # MAE 0.75
        result = evaluate_performance(
            batch, label="y", prediction="p", baseline={"mean_absolute_error": 0.6, "r2": -10.0}, max_drop=0.2
        )
        assert result.summary["task"] == "regression"
        assert result.summary["metrics"]["mean_absolute_error"] == 0.75
        assert result.details["comparisons"]["mean_absolute_error"]["drop"] == pytest.approx(0.25)
        assert result.status == "fail" and result.summary["dropped"] == ["mean_absolute_error"]

    def test_multiclass_accuracy_and_macro_f1(self):
        from govflow.checks.performance import evaluate_performance

        batch = pd.DataFrame({"y": ["a", "b", "c", "a"], "p": ["a", "b", "b", "a"]})
        result = evaluate_performance(
            batch, label="y", prediction="p", baseline={"accuracy": 0.8}, max_drop=0.1
        )
        assert result.summary["task"] == "multiclass"
        assert result.summary["metrics"]["accuracy"] == 0.75
        assert result.status == "pass"

    def test_text_predictions_for_regression_are_an_error(self):
        from govflow.checks.performance import evaluate_performance

        batch = pd.DataFrame({"y": [1.5, 2.0], "p": ["x", "y"]})
        result = evaluate_performance(batch, label="y", prediction="p", task="regression")
        assert result.status == "error" and "is not numeric" in result.errors[0]
