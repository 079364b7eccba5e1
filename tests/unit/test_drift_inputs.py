"""Drift bad input (status error, one clear line) and the `govflow check drift` CLI contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow.checks.drift import detect_drift
from govflow.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "include" / "sample" / "adult"


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 1500), "c": rng.choice(list("abc"), 1500)})
    current = pd.DataFrame({"x": rng.normal(0, 1, 1200), "c": rng.choice(list("abc"), 1200)})
    return reference, current


def _bad(change: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    reference, current = frames()
    options: dict = {}
    if change == "missing-current":
        current = current.drop(columns=["c"])
    elif change == "missing-reference":
        current["extra"] = 1.0
    elif change == "wrong-type":
        current["x"] = current["x"].map(lambda v: f"v{v:.2f}")
    elif change == "all-null":
        current["x"] = np.nan
    elif change == "all-null-reference":
        reference["c"] = None
    elif change == "no-rows":
        current = current.iloc[:0]
    elif change == "unknown-key":
        options = {"key_columns": ["nope"]}
    elif change == "unknown-column":
        options = {"columns": ["x", "nope"]}
    elif change == "bad-share":
        options = {"max_share_drifted": 1.5}
    elif change == "bad-stattest":
        options = {"stattest": "no_such_test"}
    return reference, current, options


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing-current", "column(s) missing from the current data: c"),
        ("missing-reference", "column(s) missing from the reference data: extra"),
        (
            "wrong-type",
            "column 'x' holds number values in the reference data but text values in the current data",
        ),
        ("all-null", "column 'x' has only null values in the current data"),
        ("all-null-reference", "column 'c' has only null values in the reference data"),
        ("no-rows", "the current data has no rows"),
        ("unknown-key", "key column(s) not among the tested columns: nope"),
        ("unknown-column", "column(s) missing from the current data: nope"),
        ("bad-share", "max_share_drifted must be between 0 and 1"),
        ("bad-stattest", "stattest 'no_such_test' cannot test"),
    ],
)
def test_bad_input_is_a_one_line_error(change: str, message: str) -> None:
    reference, current, options = _bad(change)
    result = detect_drift(reference, current, **options)
    assert result.status == "error"
    assert len(result.errors) == 1 and "\n" not in result.errors[0]
    assert message in result.errors[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"x,c\n", "has no data rows"),
        (b"x,x\n1,2\n", "duplicate column name 'x'"),
    ],
)
def test_unreadable_or_empty_files(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "current.csv"
    bad.write_bytes(content)
    result = detect_drift(SAMPLE / "train.csv", bad)
    assert result.status == "error"
    assert message in result.errors[0]


class TestCli:
    def run(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        code = main(["check", "drift", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    @pytest.mark.parametrize("suffix", [".csv", ".parquet"])
    def test_json_contract_on_same_distribution(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str
    ) -> None:
        reference, current = SAMPLE / "train.csv", SAMPLE / "eval.csv"
        if suffix == ".parquet":
            reference, current = tmp_path / "r.parquet", tmp_path / "c.parquet"
            pd.read_csv(SAMPLE / "train.csv").to_parquet(reference)
            pd.read_csv(SAMPLE / "eval.csv").to_parquet(current)
        code, out, _ = self.run(capsys, "--reference", str(reference), "--current", str(current), "--json")
        payload = json.loads(out)
        assert code == 0
        assert payload["check"] == "drift" and payload["status"] == "pass"
        assert payload["summary"]["share_drifted"] == 0.0 and payload["summary"]["drifted_columns"] == []
        assert {"drifted", "method", "score"} <= set(payload["columns"]["age"])

    def test_drifted_key_column_exits_1(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        current = pd.read_csv(SAMPLE / "eval.csv")
        current["age"] += 10
        path = tmp_path / "current.csv"
        current.to_csv(path, index=False)
        code, out, _ = self.run(
            capsys,
            "--reference",
            str(SAMPLE / "train.csv"),
            "--current",
            str(path),
            "--key-column",
            "age",
            "--json",
        )
        payload = json.loads(out)
        assert code == 1
        assert payload["summary"]["drifted_columns"] == ["age"]
        assert payload["summary"]["key_columns_drifted"] == ["age"]

    def test_missing_column_exits_2_naming_it(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "current.csv"
        pd.read_csv(SAMPLE / "eval.csv").drop(columns=["occupation"]).to_csv(path, index=False)
        code, out, err = self.run(
            capsys, "--reference", str(SAMPLE / "train.csv"), "--current", str(path), "--json"
        )
        assert code == 2
        assert json.loads(out)["status"] == "error"
        assert err.count("\n") == 1 and "missing from the current data: occupation" in err

    def test_tier_settings_come_from_the_policy(self, capsys: pytest.CaptureFixture[str]) -> None:
        from govflow.policy import load_policy

        policy = (
            Path(__file__).resolve().parents[2] / "include" / "govflow" / "data" / "policies" / "default.yaml"
        )
        expected = load_policy(policy).tier("high").drift
        _code, out, _ = self.run(
            capsys,
            "--reference",
            str(SAMPLE / "train.csv"),
            "--current",
            str(SAMPLE / "eval.csv"),
            "--tier",
            "high",
            "--policy",
            str(policy),
            "--json",
        )
        assert json.loads(out)["summary"]["max_share_drifted"] == expected.max_share_drifted

    def test_human_output_lists_columns(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = self.run(
            capsys,
            "--reference",
            str(SAMPLE / "train.csv"),
            "--current",
            str(SAMPLE / "eval.csv"),
            "--column",
            "age",
            "--column",
            "sex",
        )
        assert code == 0
        assert "drift: pass" in out and "ok age: wasserstein" in out and "ok sex: jensenshannon" in out
