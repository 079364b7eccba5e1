"""Explanations a reviewer can act on: base rates, which criteria hold, slices ranked by how they differ.

Every number is computed by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.linear_model import LinearRegression, LogisticRegression

from govflow.checks._model_artifact import ModelArtifact
from govflow.checks.explain import explain_model
from govflow.checks.explain._base_rates import base_rates, calibration
from govflow.checks.explain._bins import slice_feature
from govflow.checks.explain._errors import slice_findings
from govflow.checks.explain._text import base_rate_sentences, slice_sentence

FAST = {"importance_rows": 100, "n_repeats": 1, "min_group_size": 10}


class TestBaseRates:
    def test_binary_base_rates_and_which_criteria_cannot_hold(self) -> None:
        # a: 10 rows, 5 positive (0.5); b: 10 rows, 2 positive (0.2)
        y = np.array([1] * 5 + [0] * 5 + [1] * 2 + [0] * 8, dtype=bool)
        groups = np.array(["a"] * 10 + ["b"] * 10, dtype=object)
        rates = base_rates(y, groups, eligible=["a", "b"], task="binary")
        assert rates["by_group"] == {"a": {"rows": 10, "base_rate": 0.5}, "b": {"rows": 10, "base_rate": 0.2}}
        assert rates["largest_gap"] == {
            "what": "positive label rate",
            "high_group": "a",
            "high": 0.5,
            "low_group": "b",
            "low": 0.2,
            "difference": 0.3,
        }
        assert rates["differ"] is True
        sentence = rates["criteria"]
        assert sentence.startswith("Base rates differ (positive label rate 0.50 for a vs 0.20 for b)")
        assert "equalized odds" in sentence and "calibration" in sentence and "demographic parity" in sentence
        assert base_rate_sentences(rates)[0] == "Base rates (share of positive labels): a 0.50 and b 0.20."

    def test_equal_base_rates_say_nothing_about_the_conflict(self) -> None:
        y = np.array([1, 0] * 20, dtype=bool)
        groups = np.array(["a", "a", "b", "b"] * 10, dtype=object)
        rates = base_rates(y, groups, eligible=["a", "b"], task="binary")
        assert rates["differ"] is False and rates["criteria"] is None
        assert len(base_rate_sentences(rates)) == 1

    def test_calibration_per_group_by_hand(self) -> None:
        # bin [0.1, 0.2): scores 0.1, 0.1 with 1 positive -> |0.2 - 1| = 0.8 of score mass vs hits
        # bin [0.9, 1.0]: scores 0.9, 0.9 with 2 positives -> |1.8 - 2| = 0.2
        # ECE = (0.8 + 0.2) / 4 = 0.25
        result = calibration(np.array([True, False, True, True]), np.array([0.1, 0.1, 0.9, 0.9]))
        assert result == {"mean_score": 0.5, "positive_rate": 0.75, "expected_calibration_error": 0.25}

    def test_multiclass_and_regression_base_rates(self) -> None:
        labels = np.array(["x", "x", "y", "y", "x", "y", "y", "y"], dtype=object)
        groups = np.array(["a"] * 4 + ["b"] * 4, dtype=object)
        rates = base_rates(labels, groups, eligible=["a", "b"], task="multiclass")
        assert rates["by_group"]["b"]["class_shares"] == {"x": 0.25, "y": 0.75}
        assert rates["largest_gap"]["difference"] == 0.25 and rates["differ"]

        values = np.array([1.0, 2.0, 3.0, 10.0, 11.0, 12.0])
        rates = base_rates(
            values, np.array(["a"] * 3 + ["b"] * 3, dtype=object), eligible=["a", "b"], task="regression"
        )
        assert rates["by_group"] == {
            "a": {"rows": 3, "mean_label": 2.0},
            "b": {"rows": 3, "mean_label": 11.0},
        }
        assert rates["criteria"].startswith("Base rates differ (mean label 11.00 for b vs 2.00 for a)")


def _one_group(feature_values: dict[str, list], wrong: list[bool]) -> tuple:
    n = len(wrong)
    slices = [slice_feature(pd.Series(v, name=k), min_rows=1) for k, v in feature_values.items()]
    mine = np.ones(n, dtype=bool)
    return slices, np.array(wrong), mine, np.zeros(n, dtype=bool)


class TestSlicesThatDiffer:
    def test_a_slice_of_most_of_the_group_is_context_not_a_finding(self) -> None:
        # 100 rows: "big" 90 rows with 20 errors, "small" 10 rows with 1 error.
        # By excess errors "big" would win (20 - 90 * 1/10 = 11); it covers 90% of the group: context.
        values = ["big"] * 90 + ["small"] * 10
        wrong = [True] * 20 + [False] * 70 + [True] + [False] * 9
        result = slice_findings(*_one_group({"f": values}, wrong), max_slices=5, min_slice_rows=5)
        assert result["slices"] == []
        assert [c["slice"] for c in result["context"]] == ["f = big"]
        assert result["context"][0]["share_of_group"] == 0.9

    def test_ranked_by_lift_not_by_excess_errors(self) -> None:
        # 200 rows. wide: rows 0-79 (40%), 24 errors (0.30); narrow: rows 80-99 (10%), 12 errors (0.60);
        # the other 100 rows: 10 errors. Excess: wide 24 - 80 * 22/120 = 9.3, narrow 12 - 20 * 34/180 = 8.2
        # Lift: wide 0.30 / (22/120 = 0.1833) = 1.64; narrow 0.60 / (34/180 = 0.1889) = 3.18.
        wide = ["w"] * 80 + ["o"] * 120
        narrow = ["o"] * 80 + ["n"] * 20 + ["o"] * 100
        wrong = np.zeros(200, dtype=bool)
        wrong[:24] = True
        wrong[80:92] = True
        wrong[100:110] = True
        result = slice_findings(
            *_one_group({"wide": wide, "narrow": narrow}, wrong.tolist()), max_slices=5, min_slice_rows=5
        )
        assert [s["slice"] for s in result["slices"]] == ["narrow = n", "wide = w"]
        narrow_slice, wide_slice = result["slices"]
        assert narrow_slice["lift"] == pytest.approx(0.6 / (34 / 180), abs=1e-4)
        assert wide_slice["lift"] == pytest.approx(0.3 / (22 / 120), abs=1e-4)
        assert wide_slice["excess_errors"] > narrow_slice["excess_errors"]

    def test_lift_over_the_same_slice_in_other_groups(self) -> None:
        # group g: slice s 10 rows 6 wrong, t 10 rows 1 wrong; group h: s 10 rows 2 wrong (0.2)
        feature = pd.Series(["s"] * 10 + ["t"] * 10 + ["s"] * 10 + ["t"] * 10, name="f")
        wrong = np.zeros(40, dtype=bool)
        wrong[[0, 1, 2, 3, 4, 5, 10, 20, 21, 30]] = True
        mine = np.arange(40) < 20
        result = slice_findings(
            [slice_feature(feature, min_rows=1)], wrong, mine, ~mine, max_slices=5, min_slice_rows=5
        )
        top = result["slices"][0]
        assert (top["lift"], top["lift_other_groups"]) == (6.0, 3.0)
        entry = {
            "group": "g",
            "errors": "false negatives",
            "metrics": [{"metric": "false_negative_rate", "value": 0.35, "other_groups": 0.15}],
            "slices": [top],
        }
        assert slice_sentence(entry) == (
            "g has the highest false negative rate (false negative rate 0.35 vs 0.15 for the other groups); "
            "its false negatives are most over-represented in f = s (10 rows, 50% of the group): error rate "
            "0.60, 6.0 times the rest of the group (0.10) and 3.0 times the same slice in the other groups "
            "(0.20)."
        )

    def test_two_feature_slice_when_it_explains_more(self) -> None:
        # 160 rows, a and b each half "1"; errors only where a = 1 and b = 1 (40 rows, 20 wrong: 0.5),
        # nowhere else (0 of 120). Alone, a = 1 has 20/80 = 0.25 vs 0/80: the pair differs more.
        a = ["1"] * 80 + ["0"] * 80
        b = (["1"] * 40 + ["0"] * 40) * 2
        wrong = [True, False] * 20 + [False] * 120
        result = slice_findings(*_one_group({"a": a, "b": b}, wrong), max_slices=5, min_slice_rows=5)
        top = result["slices"][0]
        assert top["feature"] == "a & b" and top["slice"] == "a = 1 and b = 1"
        assert (top["rows"], top["errors"], top["error_rate"], top["error_rate_rest"]) == (40, 20, 0.5, 0.0)
        assert top["lift"] is None  # no errors in the rest: an unbounded ratio is not printed
        assert "while the rest of the group has 0.00" in slice_sentence(
            {
                "group": "g",
                "errors": "errors",
                "metrics": [{"metric": "accuracy", "value": 0.88, "other_groups": 0.9}],
                "slices": [top],
            }
        )

    def test_no_pair_when_one_feature_says_it_all(self) -> None:
        # errors only where a = 1 (20 of 80, evenly over b = 1 and b = 0): a alone explains them
        a = ["1"] * 80 + ["0"] * 80
        b = (["1"] * 40 + ["0"] * 40) * 2
        wrong = [True, False, False, False] * 20 + [False] * 80
        result = slice_findings(*_one_group({"a": a, "b": b}, wrong), max_slices=5, min_slice_rows=5)
        assert [s["slice"] for s in result["slices"]] == ["a = 1"]


def _frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(rows) < 0.5, "A", "B")
    x = rng.normal(size=rows)
    label = (x + np.where(group == "A", 0.8, -0.4) + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    return pd.DataFrame({"x": x, "w": rng.normal(size=rows), "group": group, "label": label})


class TestInTheExplanation:
    def test_binary_explanation_reports_base_rates_calibration_and_the_conflict(self) -> None:
        frame = _frame()
        model = LogisticRegression().fit(frame[["x", "w"]], frame["label"])
        frame["score"] = model.predict_proba(frame[["x", "w"]])[:, 1]
        artifact = ModelArtifact(data=skops.io.dumps(model), name="m.skops")
        result = explain_model(
            frame, model_path=artifact, label="label", sensitive="group", score="score", **FAST
        )
        rates = result["base_rates"]
        for g in ("A", "B"):
            mine = frame["group"] == g
            assert rates["by_group"][g]["base_rate"] == round(frame.loc[mine, "label"].mean(), 4)
            assert rates["by_group"][g]["calibration"]["mean_score"] == round(
                frame.loc[mine, "score"].mean(), 4
            )
        assert rates["differ"] and rates["criteria"] in result["findings"]
        assert any(
            f.startswith("Calibration of the score per group: ") and "A mean score" in f
            for f in result["findings"]
        )

    def test_regression_explanation_reports_mean_labels(self) -> None:
        frame = _frame()
        frame["label"] = frame["x"] * 2 + np.where(frame["group"] == "A", 3.0, 0.0)
        model = LinearRegression().fit(frame[["x", "w"]], frame["label"])
        artifact = ModelArtifact(data=skops.io.dumps(model), name="m.skops")
        result = explain_model(
            frame, model_path=artifact, label="label", sensitive="group", task="regression", **FAST
        )
        means = frame.groupby("group")["label"].mean().round(4).to_dict()
        assert {g: v["mean_label"] for g, v in result["base_rates"]["by_group"].items()} == means
        assert result["base_rates"]["criteria"] in result["findings"]
