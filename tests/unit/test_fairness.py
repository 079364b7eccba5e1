"""evaluate_fairness: hand-computed numbers on a tiny table, and Fairlearn's own numbers on UCI Adult."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow.checks.fairness import evaluate_fairness

ADULT_EVAL = Path(__file__).resolve().parents[2] / "include" / "sample" / "adult" / "eval.csv"
METRICS = ("selection_rate", "accuracy", "true_positive_rate", "false_positive_rate", "false_negative_rate")


def tiny() -> pd.DataFrame:
    # group a: (y, p) = (1,1) (1,0) (0,1) (0,0); group b: (1,1) x3, (0,1), (0,0) x2
    return pd.DataFrame(
        {
            "y": ["yes", "yes", "no", "no", "yes", "yes", "yes", "no", "no", "no"],
            "p": ["yes", "no", "yes", "no", "yes", "yes", "yes", "yes", "no", "no"],
            "g": ["a"] * 4 + ["b"] * 6,
            "h": ["x", "y", "x", "y", "x", "x", "y", "y", "x", "y"],
        }
    )


def numeric_tiny() -> pd.DataFrame:
    frame = tiny()
    for column in ("y", "p"):
        frame[column] = frame[column].map({"yes": 1, "no": 0})
    return frame


class TestHandComputed:
    def test_group_rates(self) -> None:
        result = evaluate_fairness(
            tiny(), label="y", prediction="p", sensitive=["g"], positive_label="yes", min_group_size=1
        )
        a, b = result.details["by_group"]["a"], result.details["by_group"]["b"]
        assert a["count"] == 4 and b["count"] == 6
        assert a["selection_rate"] == pytest.approx(2 / 4)
        assert a["accuracy"] == pytest.approx(2 / 4)
        assert a["true_positive_rate"] == pytest.approx(1 / 2)
        assert a["false_positive_rate"] == pytest.approx(1 / 2)
        assert a["false_negative_rate"] == pytest.approx(1 / 2)
        assert b["selection_rate"] == pytest.approx(4 / 6)
        assert b["accuracy"] == pytest.approx(5 / 6)
        assert b["true_positive_rate"] == pytest.approx(1.0)
        assert b["false_positive_rate"] == pytest.approx(1 / 3)
        assert b["false_negative_rate"] == pytest.approx(0.0)
        assert (b["positives"], b["negatives"]) == (3, 3)

    def test_disparities_and_failing_status(self) -> None:
        result = evaluate_fairness(
            tiny(), label="y", prediction="p", sensitive=["g"], positive_label="yes", min_group_size=1
        )
        assert result.summary["demographic_parity_difference"] == pytest.approx(4 / 6 - 2 / 4)
        assert result.summary["demographic_parity_ratio"] == pytest.approx((2 / 4) / (4 / 6))
        # max(TPR gap 1 - 1/2, FPR gap 1/2 - 1/3)
        assert result.summary["equalized_odds_difference"] == pytest.approx(0.5)
        assert result.status == "fail"
        assert result.summary["exceeded"] == ["demographic_parity_difference", "equalized_odds_difference"]

    def test_passes_within_thresholds(self) -> None:
        result = evaluate_fairness(
            tiny(),
            label="y",
            prediction="p",
            sensitive=["g"],
            positive_label="yes",
            min_group_size=1,
            max_demographic_parity_difference=0.2,
            max_equalized_odds_difference=0.6,
        )
        assert result.status == "pass"
        assert result.summary["exceeded"] == []

    def test_positive_label_flips_the_rates(self) -> None:
        result = evaluate_fairness(
            tiny(), label="y", prediction="p", sensitive=["g"], positive_label="no", min_group_size=1
        )
        assert result.details["by_group"]["b"]["selection_rate"] == pytest.approx(2 / 6)
        assert result.details["by_group"]["b"]["true_positive_rate"] == pytest.approx(2 / 3)  # TNR of "yes"

    def test_numeric_labels_default_to_positive_one(self) -> None:
        frame = numeric_tiny()
        result = evaluate_fairness(frame, label="y", prediction="p", sensitive=["g"], min_group_size=1)
        assert result.summary["positive_label"] == 1
        assert result.details["by_group"]["a"]["selection_rate"] == pytest.approx(0.5)

    def test_cli_style_text_positive_label_matches_integer_labels(self) -> None:
        frame = numeric_tiny()
        result = evaluate_fairness(
            frame, label="y", prediction="p", sensitive=["g"], positive_label="0", min_group_size=1
        )
        assert result.summary["positive_label"] == 0
        assert result.details["by_group"]["b"]["selection_rate"] == pytest.approx(2 / 6)

    def test_intersections_are_keyed_with_a_bar(self) -> None:
        result = evaluate_fairness(
            tiny(), label="y", prediction="p", sensitive=["g", "h"], positive_label="yes", min_group_size=1
        )
        assert sorted(result.details["by_group"]) == ["a|x", "a|y", "b|x", "b|y"]
        # b|y rows: (1,1) and (0,1), (0,0) -> selection 2/3, TPR 1, FPR 1/2
        by = result.details["by_group"]["b|y"]
        assert by["count"] == 3
        assert by["selection_rate"] == pytest.approx(2 / 3)
        assert by["true_positive_rate"] == pytest.approx(1.0)
        assert by["false_positive_rate"] == pytest.approx(1 / 2)

    def test_small_groups_are_flagged_not_hidden(self) -> None:
        result = evaluate_fairness(
            tiny(),
            label="y",
            prediction="p",
            sensitive=["g"],
            positive_label="yes",
            min_group_size=5,
            max_demographic_parity_difference=1,
            max_equalized_odds_difference=1,
        )
        assert result.status == "warn"
        assert result.summary["insufficient_groups"] == ["a"]
        assert result.details["by_group"]["a"]["insufficient"] is True
        assert result.details["by_group"]["a"]["count"] == 4
        # one sufficient group: nothing to compare; all groups still reported
        assert result.summary["demographic_parity_difference"] is None
        assert result.details["disparities"]["all_groups"]["demographic_parity_difference"] == pytest.approx(
            1 / 6
        )

    def test_missing_sensitive_values_form_their_own_group(self) -> None:
        frame = tiny()
        frame.loc[0, "g"] = None
        result = evaluate_fairness(
            frame, label="y", prediction="p", sensitive=["g"], positive_label="yes", min_group_size=1
        )
        assert result.details["by_group"]["(missing)"]["count"] == 1
        assert result.details["by_group"]["a"]["count"] == 3

    def test_rows_without_label_are_excluded_and_counted(self) -> None:
        frame = tiny()
        frame.loc[9, "y"] = None
        result = evaluate_fairness(
            frame, label="y", prediction="p", sensitive=["g"], positive_label="yes", min_group_size=1
        )
        assert result.summary["rows_excluded"] == 1
        assert result.summary["rows"] == 9
        assert result.details["by_group"]["b"]["count"] == 5


def adult_with_predictions() -> pd.DataFrame:
    frame = pd.read_csv(ADULT_EVAL)
    rng = np.random.default_rng(7)
    # A deliberately imperfect rule so every rate is away from 0 and 1.
    predicted = (
        (frame["education-num"] >= 13) | (frame["capital-gain"] > 5000) | (rng.random(len(frame)) < 0.05)
    )
    frame["prediction"] = np.where(predicted, ">50K", "<=50K")
    return frame


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return adult_with_predictions()


@pytest.mark.oracle
class TestAgainstFairlearnOnAdult:
    @pytest.mark.parametrize("sensitive", [["sex"], ["race"], ["sex", "race"]])
    def test_group_metrics_equal_metricframe(self, data: pd.DataFrame, sensitive: list[str]) -> None:
        from fairlearn.metrics import (
            MetricFrame,
            false_negative_rate,
            false_positive_rate,
            selection_rate,
            true_positive_rate,
        )
        from sklearn.metrics import accuracy_score

        result = evaluate_fairness(
            data, label="income", prediction="prediction", sensitive=sensitive, positive_label=">50K"
        )
        y_true = (data["income"] == ">50K").astype(int)
        y_pred = (data["prediction"] == ">50K").astype(int)
        frame = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "accuracy": accuracy_score,
                "true_positive_rate": true_positive_rate,
                "false_positive_rate": false_positive_rate,
                "false_negative_rate": false_negative_rate,
            },
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=data[sensitive],
        )
        expected = {
            "|".join(map(str, index if isinstance(index, tuple) else (index,))): row
            for index, row in frame.by_group.iterrows()
        }
        by_group = result.details["by_group"]
        assert set(by_group) == set(expected)
        for key, row in expected.items():
            for metric in METRICS:
                assert by_group[key][metric] == pytest.approx(row[metric], abs=1e-12), (key, metric)
        counts = data.groupby(sensitive).size()
        for index, count in counts.items():
            key = "|".join(map(str, index if isinstance(index, tuple) else (index,)))
            assert by_group[key]["count"] == count

    @pytest.mark.parametrize("sensitive", [["sex"], ["sex", "race"]])
    def test_disparities_equal_fairlearn_functions(self, data: pd.DataFrame, sensitive: list[str]) -> None:
        from fairlearn.metrics import (
            demographic_parity_difference,
            demographic_parity_ratio,
            equalized_odds_difference,
        )

        result = evaluate_fairness(
            data,
            label="income",
            prediction="prediction",
            sensitive=sensitive,
            positive_label=">50K",
            min_group_size=30,
        )
        y_true = (data["income"] == ">50K").astype(int)
        y_pred = (data["prediction"] == ">50K").astype(int)

        def fairlearn_numbers(rows: pd.Series) -> dict[str, float]:
            args = {
                "y_true": y_true[rows],
                "y_pred": y_pred[rows],
                "sensitive_features": data.loc[rows, sensitive],
            }
            return {
                "demographic_parity_difference": demographic_parity_difference(**args),
                "demographic_parity_ratio": demographic_parity_ratio(**args),
                "equalized_odds_difference": equalized_odds_difference(**args),
            }

        everyone = pd.Series(True, index=data.index)
        sizes = data.groupby(sensitive)[sensitive[0]].transform("size")
        assert result.details["disparities"]["all_groups"] == pytest.approx(fairlearn_numbers(everyone))
        judged = {k: result.summary[k] for k in fairlearn_numbers(everyone)}
        assert judged == pytest.approx(fairlearn_numbers(sizes >= 30))

    def test_adult_intersections_flag_the_small_groups(self, data: pd.DataFrame) -> None:
        result = evaluate_fairness(
            data,
            label="income",
            prediction="prediction",
            sensitive=["sex", "race"],
            positive_label=">50K",
            min_group_size=30,
            max_demographic_parity_difference=1,
            max_equalized_odds_difference=1,
        )
        sizes = data.groupby(["sex", "race"]).size()
        small = sorted(f"{s}|{r}" for (s, r), n in sizes.items() if n < 30)
        assert small  # the sample has some (e.g. Female|Other)
        assert sorted(result.summary["insufficient_groups"]) == small
        assert result.summary["groups"] == len(sizes)
        assert result.status == "warn"

    def test_reads_csv_and_parquet_files(self, data: pd.DataFrame, tmp_path: Path) -> None:
        data.to_csv(tmp_path / "eval.csv", index=False)
        data.to_parquet(tmp_path / "eval.parquet", index=False)
        from_frame = evaluate_fairness(
            data, label="income", prediction="prediction", sensitive=["sex"], positive_label=">50K"
        )
        for name in ("eval.csv", "eval.parquet"):
            from_file = evaluate_fairness(
                tmp_path / name,
                label="income",
                prediction="prediction",
                sensitive=["sex"],
                positive_label=">50K",
            )
            assert from_file.summary == from_frame.summary
            assert from_file.details == from_frame.details


class TestNothingToCompare:
    def test_a_single_group_is_an_error_not_a_warning(self) -> None:
        frame = tiny()
        frame["g"] = "a"  # every row in one group: no disparity can be measured
        result = evaluate_fairness(frame, label="y", prediction="p", sensitive=["g"], positive_label="yes")
        assert result.status == "error"
        assert "single group" in result.errors[0] and "'a'" in result.errors[0]
