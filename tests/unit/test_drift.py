"""detect_drift: quiet on same-distribution data, flags injected shifts, agrees with Evidently's Report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow.checks.drift import detect_drift

SAMPLE = Path(__file__).resolve().parents[2] / "include" / "sample" / "adult"


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "train.csv")


@pytest.fixture(scope="module")
def evaluation() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "eval.csv")


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    """Adult with known shifts: older people, longer hours, more men, a new workclass; fnlwgt untouched."""
    out = frame.copy()
    rng = np.random.default_rng(3)
    out["age"] = out["age"] + 8
    out["hours-per-week"] = (out["hours-per-week"] * 1.3).round()
    women = out.index[out["sex"] == "Female"]
    out.loc[rng.choice(women, size=len(women) * 3 // 5, replace=False), "sex"] = "Male"
    out.loc[out.sample(frac=0.4, random_state=1).index, "workclass"] = "Gig-economy"
    return out


def evidently_report(reference: pd.DataFrame, current: pd.DataFrame, **preset: object) -> dict[str, tuple]:
    """Per column: (method display name, score, threshold, drifted) from Evidently's own Report."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    snapshot = Report([DataDriftPreset(**preset)], include_tests=True).run(current, reference).dict()
    drifted = {
        test["metric_config"]["params"]["column"]: str(test["status"].value) == "FAIL"
        for test in snapshot["tests"]
        if test["id"] == "drift"
    }
    out = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            column = config["column"]
            out[column] = (config["method"], float(metric["value"]), config["threshold"], drifted[column])
    return out


def display_name(method: str) -> str:
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests

    return next(iter(_registered_stat_tests[method].values())).display_name


def assert_same_as_evidently(result, expected: dict[str, tuple]) -> None:  # type: ignore[no-untyped-def]
    columns = result.details["columns"]
    assert set(columns) == set(expected)
    for name, (method, score, threshold, drifted) in expected.items():
        entry = columns[name]
        # Evidently names a default test by its display name and an overridden one as given.
        assert method in (entry["method"], display_name(entry["method"])), name
        assert entry["score"] == pytest.approx(score, rel=1e-9, abs=1e-12), name
        assert entry["threshold"] == pytest.approx(threshold), name
        assert entry["drifted"] is drifted, name


class TestKnownAnswers:
    def test_same_distribution_stays_quiet(self, train: pd.DataFrame, evaluation: pd.DataFrame) -> None:
        result = detect_drift(train, evaluation)
        assert result.status == "pass"
        assert result.summary["drifted_columns"] == []
        assert result.summary["share_drifted"] == 0.0
        assert result.summary["number_of_columns"] == 15

    def test_injected_shifts_are_flagged(self, train: pd.DataFrame, evaluation: pd.DataFrame) -> None:
        result = detect_drift(train, shifted(evaluation))
        assert sorted(result.summary["drifted_columns"]) == ["age", "hours-per-week", "sex", "workclass"]
        assert result.summary["share_drifted"] == pytest.approx(4 / 15)
        assert result.status == "warn"  # drift within the allowed share
        age = result.details["columns"]["age"]
        assert (age["method"], age["threshold"], age["type"]) == ("wasserstein", 0.1, "numeric")
        sex = result.details["columns"]["sex"]
        assert (sex["method"], sex["type"]) == ("jensenshannon", "categorical")
        assert result.details["columns"]["fnlwgt"]["drifted"] is False

    def test_share_above_the_maximum_fails(self, train: pd.DataFrame, evaluation: pd.DataFrame) -> None:
        result = detect_drift(train, shifted(evaluation), max_share_drifted=0.2)
        assert result.status == "fail"

    def test_a_drifted_key_column_fails(self, train: pd.DataFrame, evaluation: pd.DataFrame) -> None:
        result = detect_drift(train, shifted(evaluation), key_columns=["sex"])
        assert result.status == "fail"
        assert result.summary["key_columns_drifted"] == ["sex"]
        quiet_key = detect_drift(train, shifted(evaluation), key_columns=["fnlwgt"])
        assert quiet_key.status == "warn"

    def test_columns_option_limits_the_test(self, train: pd.DataFrame, evaluation: pd.DataFrame) -> None:
        result = detect_drift(train, shifted(evaluation), columns=["age", "fnlwgt"])
        assert list(result.details["columns"]) == ["age", "fnlwgt"]
        assert result.summary["share_drifted"] == 0.5

    def test_stattest_and_threshold_overrides(self, train: pd.DataFrame, evaluation: pd.DataFrame) -> None:
        result = detect_drift(train, shifted(evaluation), stattest="psi", stattest_threshold=0.2)
        assert {e["method"] for e in result.details["columns"].values()} == {"psi"}
        assert {e["threshold"] for e in result.details["columns"].values()} == {0.2}
        assert "age" in result.summary["drifted_columns"]


class TestSameAsEvidently:
    def test_default_tests_on_adult(self, train: pd.DataFrame, evaluation: pd.DataFrame) -> None:
        current = shifted(evaluation)
        assert_same_as_evidently(detect_drift(train, current), evidently_report(train, current))

    def test_small_sample_tests_on_adult(self, train: pd.DataFrame, evaluation: pd.DataFrame) -> None:
        # At most 1,000 reference rows Evidently switches to K-S, chi-square and the Z-test.
        reference, current = train.iloc[:600], shifted(evaluation).iloc[:400]
        result = detect_drift(reference, current)
        methods = {e["method"] for e in result.details["columns"].values()}
        assert {"ks", "chisquare", "z"} <= methods
        assert_same_as_evidently(result, evidently_report(reference, current))

    def test_overridden_stattest(self, train: pd.DataFrame, evaluation: pd.DataFrame) -> None:
        current = shifted(evaluation)
        result = detect_drift(train, current, stattest="jensenshannon", stattest_threshold=0.05)
        assert_same_as_evidently(
            result, evidently_report(train, current, method="jensenshannon", threshold=0.05)
        )

    def test_numbers_with_few_values_and_nulls(self) -> None:
        rng = np.random.default_rng(5)
        reference = pd.DataFrame(
            {
                "rating": rng.choice([1.0, 2.0, 3.0, 4.0], 3000),  # numeric, <= 5 values: Jensen-Shannon
                "score": rng.normal(0, 1, 3000),
                "grade": rng.integers(0, 7, 3000),  # int, <= 10 values: categorical
            }
        )
        current = pd.DataFrame(
            {
                "rating": rng.choice([1.0, 2.0, 3.0, 4.0], 2500, p=[0.1, 0.2, 0.3, 0.4]),
                "score": rng.normal(0.3, 1, 2500),
                "grade": rng.integers(0, 7, 2500),
            }
        )
        current.loc[::7, "score"] = np.nan
        reference.loc[::11, "rating"] = np.nan
        result = detect_drift(reference, current)
        assert result.details["columns"]["score"]["missing_current"] == len(current.index[::7])
        assert result.details["columns"]["grade"]["type"] == "categorical"
        assert_same_as_evidently(result, evidently_report(reference, current))

    def test_free_text_uses_evidentlys_text_drift(self) -> None:
        rng = np.random.default_rng(9)
        words = np.array(
            ["loan", "late", "payment", "fine", "good", "refund", "card", "fee", "branch", "call"]
        )

        def notes(n: int, weights: np.ndarray) -> list[str]:
            return [" ".join(rng.choice(words, 6, p=weights)) + f" #{i}" for i in range(n)]

        even = np.full(10, 0.1)
        skewed = np.array([0.4, 0.3] + [0.0375] * 8)
        reference = pd.DataFrame({"note": notes(1500, even)})
        current = pd.DataFrame({"note": notes(1200, skewed)})
        result = detect_drift(reference, current)
        assert result.details["columns"]["note"]["type"] == "text"
        assert result.details["columns"]["note"]["method"] == "abs_text_content_drift"
        assert result.summary["drifted_columns"] == ["note"]
        assert_same_as_evidently(result, evidently_report(reference, current))


class TestColumnTypes:
    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        rng = np.random.default_rng(11)
        n = 2000
        reference = pd.DataFrame(
            {
                "flag": rng.random(n) < 0.3,
                "flag_with_nulls": pd.Series(rng.random(n) < 0.5, dtype=object),
                "seen_at": pd.Timestamp("2024-01-01")
                + pd.to_timedelta(rng.integers(0, 30 * 86400, n), unit="s"),
                "amount": pd.array(rng.integers(0, 10_000, n), dtype="Int64"),
            }
        )
        current = pd.DataFrame(
            {
                "flag": rng.random(n) < 0.7,
                "flag_with_nulls": pd.Series(rng.random(n) < 0.5, dtype=object),
                "seen_at": pd.Timestamp("2024-06-01")
                + pd.to_timedelta(rng.integers(0, 30 * 86400, n), unit="s"),
                "amount": pd.array(rng.integers(0, 10_000, n), dtype="Int64"),
            }
        )
        reference.loc[::5, "flag_with_nulls"] = None
        current.loc[::3, "flag_with_nulls"] = None
        current.loc[::4, "amount"] = pd.NA
        return reference, current

    def test_boolean_datetime_and_nullable_columns(self) -> None:
        reference, current = self.frames()
        columns = detect_drift(reference, current).details["columns"]
        assert columns["flag"]["type"] == "boolean" and columns["flag"]["drifted"] is True
        assert (
            columns["flag_with_nulls"]["type"] == "boolean" and columns["flag_with_nulls"]["drifted"] is False
        )
        assert columns["flag_with_nulls"]["missing_current"] == len(current.index[::3])
        assert columns["seen_at"]["type"] == "datetime" and columns["seen_at"]["drifted"] is True
        assert "epoch seconds" in columns["seen_at"]["note"]
        assert columns["amount"]["type"] == "numeric" and columns["amount"]["drifted"] is False
        assert columns["amount"]["missing_current"] == 500

    def test_unknown_object_columns_are_skipped_and_warned(self) -> None:
        reference = pd.DataFrame({"x": np.arange(2000.0), "blob": [[1, 2]] * 2000})
        result = detect_drift(reference, reference.copy())
        assert result.status == "warn"
        assert "blob" in result.details["skipped_columns"]
        assert list(result.details["columns"]) == ["x"]


def test_html_report_is_optional_evidence(
    tmp_path: Path, train: pd.DataFrame, evaluation: pd.DataFrame
) -> None:
    target = tmp_path / "drift.html"
    result = detect_drift(train.iloc[:300], evaluation.iloc[:300], columns=["age", "sex"], html_report=target)
    info = result.details["html_report"]
    assert info["path"] == str(target) and not info["sampled"]
    html = target.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>") and "sex" in html
    assert len(info["sha256"]) == 64
    assert "html_report" not in detect_drift(train.iloc[:300], evaluation.iloc[:300], columns=["age"]).details


class TestMostlyMissing:
    def test_a_batch_with_297_of_300_values_missing_fails(self) -> None:
        rng = np.random.default_rng(0)
        reference = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300)})
        current = reference.copy()
        current.loc[3:, "x"] = np.nan  # 297 of 300 missing: a broken feed, not "no drift"
        result = detect_drift(reference, current)
        assert result.status == "fail"
        assert result.summary["mostly_missing_columns"] == ["x"]
        assert result.summary["max_missing_share"] == 0.5
        assert result.details["columns"]["x"]["missing_current"] == 297

    def test_a_column_as_sparse_as_in_the_reference_is_judged_normally(self) -> None:
        rng = np.random.default_rng(1)
        reference = pd.DataFrame({"x": rng.normal(size=300)})
        reference.loc[10:, "x"] = np.nan  # an optional field, mostly empty in both
        current = reference.copy()
        result = detect_drift(reference, current)
        assert result.summary["mostly_missing_columns"] == []
        assert result.status == "pass"
