"""Explanations of regression and multiclass models: importance on the error, error slices, proxies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from govflow.checks._model_artifact import ModelArtifact
from govflow.checks.explain import explain_model

FAST = {"importance_rows": 200, "n_repeats": 2, "min_group_size": 30}


def _artifact(model) -> ModelArtifact:
    return ModelArtifact(data=skops.io.dumps(model), name="model.skops")


@pytest.fixture(scope="module")
def regression():
    # y depends on x only; group B's rows with high z are noisy (its errors concentrate there);
    # "zone" is a perfect proxy of the group.
    rng = np.random.default_rng(2)
    rows = 1200
    group = rng.choice(["A", "B"], rows)
    x, z = rng.normal(size=rows), rng.uniform(0, 1, rows)
    noise = np.where((group == "B") & (z > 0.7), 3.0, 0.3)
    frame = pd.DataFrame({"x": x, "z": z, "zone": np.where(group == "A", "north", "south"), "group": group})
    frame["y"] = 5 * x + rng.normal(0, noise)
    features = ["x", "z", "zone"]
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["zone"]), remainder="passthrough"), LinearRegression()
    )
    model.fit(frame[features], frame["y"])
    return frame, _artifact(model)


def test_regression_importance_on_the_error_and_the_worst_groups_slices(regression):
    frame, artifact = regression
    result = explain_model(frame, model_path=artifact, label="y", sensitive="group", **FAST)
    assert result["task"] == "regression"
    importance = result["feature_importance"]
    assert importance["overall"][0]["feature"] == "x"
    assert importance["overall"][0]["mean_absolute_error_increase"] > 1.0  # x is what the model needs
    assert set(importance["by_group"]) == {"A", "B"}
    worst = result["error_analysis"][0]
    assert worst["group"] == "B" and worst["errors"] == "large errors"
    assert worst["metrics"][0]["metric"] == "mean_absolute_error"
    assert worst["metrics"][0]["value"] > worst["metrics"][0]["other_groups"]
    assert worst["slices"][0]["feature"] == "z" and ">" in worst["slices"][0]["slice"]
    assert result["summary"]["strong_proxies"] == {"group": ["zone"]}
    assert result["status"] == "warn"


def test_multiclass_per_class_errors_and_importance():
    rng = np.random.default_rng(4)
    rows = 1500
    group = rng.choice(["A", "B"], rows)
    x = rng.normal(size=rows)
    y = np.asarray(["low", "mid", "high"], dtype=object)[np.digitize(x, [-0.5, 0.5])]
    # Group B's recorded x reads low: its "high" rows are often called "mid".
    recorded = x - np.where(group == "B", 0.6, 0.0)
    frame = pd.DataFrame({"x": recorded, "w": rng.normal(size=rows), "group": group, "y": y})
    model = LogisticRegression(max_iter=500).fit(pd.DataFrame({"x": x, "w": frame["w"]}), y)
    result = explain_model(frame, model_path=_artifact(model), label="y", sensitive="group", **FAST)
    assert result["task"] == "multiclass"
    assert result["feature_importance"]["overall"][0]["feature"] == "x"
    assert set(result["feature_importance"]["by_class"]) == {"low", "mid", "high"}
    assert result["feature_importance"]["by_class"]["high"][0]["feature"] == "x"
    missed = {e["errors"]: e for e in result["error_analysis"]}
    assert missed["missed high"]["group"] == "B"
    assert missed["missed high"]["metrics"][0]["metric"] == "true_positive_rate.high"
    assert result["error_analysis"][0]["group"] == "B"  # the worst accuracy


def test_regression_given_as_task_on_a_text_label_is_one_clear_error(regression):
    frame, artifact = regression
    from govflow.checks._result import CheckInputError

    with pytest.raises(CheckInputError, match="label column 'y'"):
        explain_model(
            frame.assign(y="a"), model_path=artifact, label="y", sensitive="group", task="binary", **FAST
        )
