"""Predictions from a model artifact (joblib or skops) instead of a prediction column."""

from __future__ import annotations

import operator
from pathlib import Path

import pandas as pd
import pytest

from govflow.checks.fairness import evaluate_fairness
from govflow.checks.model_predictions import load_model, untrusted_types

SAMPLE = Path(__file__).resolve().parents[2] / "include" / "sample" / "adult"
FEATURES = ["age", "education-num", "hours-per-week", "capital-gain"]


@pytest.fixture(scope="module")
def eval_data() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "eval.csv")


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = pd.read_csv(SAMPLE / "train.csv")
    pipeline = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), FEATURES)]),
        LogisticRegression(max_iter=500),
    )
    return pipeline.fit(train[FEATURES], train["income"])


def expected(eval_data: pd.DataFrame, model) -> dict:  # type: ignore[no-untyped-def]
    frame = eval_data.assign(prediction=model.predict(eval_data[FEATURES]))
    return evaluate_fairness(
        frame, label="income", prediction="prediction", sensitive=["sex"], positive_label=">50K"
    ).details["by_group"]


def test_joblib_model_predicts_like_the_model(eval_data: pd.DataFrame, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import joblib

    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    result = evaluate_fairness(
        eval_data, label="income", sensitive=["sex"], positive_label=">50K", model_path=path
    )
    assert result.status in ("pass", "warn", "fail")
    assert result.summary["prediction_source"] == "model"
    assert result.details["model"]["type"] == "Pipeline"
    assert len(result.details["model"]["sha256"]) == 64
    assert result.details["by_group"] == expected(eval_data, model)


def test_skops_model_with_default_trusted_types(eval_data: pd.DataFrame, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import skops.io as sio

    path = tmp_path / "model.skops"
    sio.dump(model, path)
    assert untrusted_types(path) == []
    result = evaluate_fairness(
        eval_data, label="income", sensitive=["sex"], positive_label=">50K", model_path=path
    )
    assert result.details["by_group"] == expected(eval_data, model)


def test_skops_refuses_unreviewed_types_unless_trusted(tmp_path: Path) -> None:
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x = np.arange(40, dtype=float).reshape(20, 2)
    y = (x[:, 0] > 20).astype(int)
    path = tmp_path / "model.skops"
    sio.dump(make_pipeline(FunctionTransformer(operator.neg), LogisticRegression()).fit(x, y), path)

    from govflow.checks._result import CheckInputError

    with pytest.raises(CheckInputError, match=r"types skops does not trust by default: _operator\.neg"):
        load_model(path)
    assert load_model(path, trusted=["_operator.neg"]).predict(x).shape == (20,)

    frame = pd.DataFrame(x, columns=["a", "b"]).assign(y=y, g=["u", "v"] * 10)
    refused = evaluate_fairness(frame, label="y", sensitive=["g"], model_path=path, min_group_size=1)
    assert refused.status == "error" and "_operator.neg" in refused.errors[0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("model.joblib", b"not a pickle", "cannot load joblib model"),
        ("model.skops", b"not a zip", "cannot read skops model"),
        ("model.onnx", b"x", "cannot load ONNX model"),
        ("model.h5", b"x", "unsupported model file type '.h5'"),
        ("model.joblib", b"", "empty model file"),
    ],
)
def test_bad_model_files(
    eval_data: pd.DataFrame, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = evaluate_fairness(
        eval_data, label="income", sensitive=["sex"], positive_label=">50K", model_path=path
    )
    assert result.status == "error"
    assert message in result.errors[0]


def test_model_needs_its_feature_columns(eval_data: pd.DataFrame, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import joblib

    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    result = evaluate_fairness(
        eval_data.drop(columns=["age"]),
        label="income",
        sensitive=["sex"],
        positive_label=">50K",
        model_path=path,
    )
    assert result.status == "error"
    assert "feature column(s) the model needs are missing from the data: age" in result.errors[0]


def test_zero_one_model_output_maps_to_string_labels(tmp_path):
    """A model trained on y == '>50K' predicts 0/1; 1 means the positive label of the eval data."""
    import joblib
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from govflow.checks.fairness import evaluate_fairness

    frame = pd.DataFrame({"x": [0, 1, 2, 3, 4, 5, 6, 7] * 10, "g": ["a", "b"] * 40})
    frame["income"] = [">50K" if x >= 4 else "<=50K" for x in frame["x"]]
    model = LogisticRegression().fit(frame[["x"]], (frame["income"] == ">50K").astype(int))
    path = tmp_path / "m.joblib"
    joblib.dump(model, path)
    result = evaluate_fairness(
        frame, label="income", sensitive=["g"], positive_label=">50K", model_path=path, min_group_size=1
    )
    assert result.status != "error", result.errors
    assert result.details["by_group"]["a"]["accuracy"] == pytest.approx(1.0)
    assert result.details["by_group"]["b"]["selection_rate"] == pytest.approx(0.5)
