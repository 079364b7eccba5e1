"""Fairness bad input (status error, one clear line) and the `govflow check fairness` CLI contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow.checks.fairness import evaluate_fairness
from govflow.cli import main

ADULT_EVAL = Path(__file__).resolve().parents[2] / "include" / "sample" / "adult" / "eval.csv"


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1, 0, 1, 0, 1, 0],
            "p": [1, 0, 0, 0, 1, 1],
            "g": ["a", "a", "a", "b", "b", "b"],
        }
    )


def _with(**columns: object) -> pd.DataFrame:
    frame = table()
    for name, values in columns.items():
        frame[name] = values
    return frame


BAD_FRAMES = [
    pytest.param(
        table(), {"label": "label"}, "column(s) missing from the evaluation data: label", id="missing-label"
    ),
    pytest.param(
        table(),
        {"sensitive": ["sex"]},
        "column(s) missing from the evaluation data: sex",
        id="missing-sensitive",
    ),
    pytest.param(_with(y=[1] * 6), {}, "label column 'y' has a single class (1)", id="single-class-label"),
    pytest.param(_with(y=[None] * 6), {}, "label column 'y' has only null values", id="all-null-label"),
    pytest.param(
        _with(y=[0, 1, 2, 0, 1, 2]),
        {"task": "binary"},  # detected, three classes are a multiclass task
        "label column 'y' is not binary: 3 distinct values",
        id="multiclass-label",
    ),
    pytest.param(
        _with(p=[0.1, 0.7, 0.4, 0.2, 0.9, 0.6]),
        {},
        "prediction 'p' is not binary: 6 distinct values",
        id="probabilities-as-prediction",
    ),
    pytest.param(
        _with(p=[1, 0, 1, 0, 1, 1]).assign(p=["yes", "no", "yes", "no", "yes", "no"]),
        {},
        "prediction 'p' has value(s) that are not label classes: 'yes', 'no'",
        id="prediction-not-label-classes",
    ),
    pytest.param(
        table(),
        {"positive_label": "approved"},
        "positive label 'approved' is not a value of label column 'y'",
        id="unknown-positive-label",
    ),
    pytest.param(
        _with(y=["hi", "lo", "hi", "lo", "hi", "lo"], p=["hi"] * 6),
        {},
        "cannot tell which value of label column 'y' is positive",
        id="text-label-needs-positive",
    ),
    pytest.param(
        _with(g=[None] * 6), {}, "sensitive column 'g' has only null values", id="all-null-sensitive"
    ),
    pytest.param(table(), {"sensitive": []}, "give at least one sensitive feature column", id="no-sensitive"),
    pytest.param(table(), {"prediction": None}, "give a prediction column or a model", id="no-prediction"),
    pytest.param(
        table(),
        {"model_path": "m.joblib"},
        "give either a prediction column or a model, not both",
        id="prediction-and-model",
    ),
    pytest.param(table().iloc[:0], {}, "the evaluation data has no rows", id="no-rows"),
]


@pytest.mark.parametrize(("frame", "options", "message"), BAD_FRAMES)
def test_bad_input_is_a_one_line_error(frame: pd.DataFrame, options: dict, message: str) -> None:
    kwargs = {"label": "y", "prediction": "p", "sensitive": ["g"], **options}
    result = evaluate_fairness(frame, **kwargs)
    assert result.status == "error"
    assert len(result.errors) == 1 and "\n" not in result.errors[0]
    assert message in result.errors[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"y,p,g\n", "has no data rows"),
        (b"\xff\xfe\x00garbage\x00", "not valid UTF-8"),
    ],
)
def test_unreadable_or_empty_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "eval.csv"
    path.write_bytes(content)
    result = evaluate_fairness(path, label="y", prediction="p", sensitive=["g"])
    assert result.status == "error"
    assert message in result.errors[0]


def test_missing_file(tmp_path: Path) -> None:
    result = evaluate_fairness(tmp_path / "nope.csv", label="y", prediction="p", sensitive=["g"])
    assert result.status == "error" and "file not found" in result.errors[0]


class TestCli:
    def run(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        code = main(["check", "fairness", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    def adult_file(self, tmp_path: Path, *, suffix: str = ".csv") -> Path:
        frame = pd.read_csv(ADULT_EVAL)
        rng = np.random.default_rng(1)
        frame["prediction"] = np.where(rng.random(len(frame)) < 0.25, ">50K", "<=50K")
        path = tmp_path / f"eval{suffix}"
        frame.to_parquet(path, index=False) if suffix == ".parquet" else frame.to_csv(path, index=False)
        return path

    @pytest.mark.parametrize("suffix", [".csv", ".parquet"])
    def test_json_contract(self, capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str) -> None:
        path = self.adult_file(tmp_path, suffix=suffix)
        code, out, _ = self.run(
            capsys,
            "--data",
            str(path),
            "--label",
            "income",
            "--prediction",
            "prediction",
            "--sensitive",
            "sex",
            "--sensitive",
            "race",
            "--positive-label",
            ">50K",
            "--max-demographic-parity-difference",
            "1",
            "--max-equalized-odds-difference",
            "1",
            "--json",
        )
        payload = json.loads(out)
        assert code == 0
        assert payload["check"] == "fairness" and payload["status"] == "warn"  # small intersections
        assert {"demographic_parity_difference", "equalized_odds_difference"} <= set(payload["summary"])
        group = payload["by_group"]["Male|White"]
        assert {
            "count",
            "selection_rate",
            "accuracy",
            "true_positive_rate",
            "false_positive_rate",
            "false_negative_rate",
        } <= set(group)
        assert all("|" in key for key in payload["by_group"])

    def test_failing_disparity_exits_1(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        path = tmp_path / "t.csv"
        frame = pd.DataFrame({"y": [1, 0] * 40, "p": [1, 1] * 20 + [0, 0] * 20, "g": ["a"] * 40 + ["b"] * 40})
        frame.to_csv(path, index=False)
        code, out, _ = self.run(
            capsys, "--data", str(path), "--label", "y", "--prediction", "p", "--sensitive", "g", "--json"
        )
        assert code == 1
        assert json.loads(out)["summary"]["demographic_parity_difference"] == pytest.approx(1.0)

    def test_bad_input_exits_2_with_one_line(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = self.adult_file(tmp_path)
        code, out, err = self.run(
            capsys,
            "--data",
            str(path),
            "--label",
            "income",
            "--prediction",
            "prediction",
            "--sensitive",
            "sex",
            "--positive-label",
            "rich",
            "--json",
        )
        assert code == 2
        assert json.loads(out)["status"] == "error"
        assert err.count("\n") == 1 and "positive label 'rich'" in err

    def test_tier_thresholds_come_from_the_policy(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        from govflow.policy import load_policy

        policy = (
            Path(__file__).resolve().parents[2] / "include" / "govflow" / "data" / "policies" / "default.yaml"
        )
        expected = load_policy(policy).tier("high").fairness
        path = self.adult_file(tmp_path)
        _code, out, _ = self.run(
            capsys,
            "--data",
            str(path),
            "--label",
            "income",
            "--prediction",
            "prediction",
            "--sensitive",
            "sex",
            "--positive-label",
            ">50K",
            "--tier",
            "high",
            "--policy",
            str(policy),
            "--min-group-size",
            "7",
            "--json",
        )
        summary = json.loads(out)["summary"]
        assert summary["max_demographic_parity_difference"] == expected.max_demographic_parity_difference
        assert summary["max_equalized_odds_difference"] == expected.max_equalized_odds_difference
        assert summary["min_group_size"] == 7  # the explicit flag wins
