"""CLI contract of `govflow check validation` and `govflow suite infer`: one JSON object, exit 0/1/2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from govflow.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "validation"
ADULT = ROOT / "include" / "sample" / "adult"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def check(capsys, data, suite, *extra):
    return run(capsys, "check", "validation", "--data", str(data), "--suite", str(suite), "--json", *extra)


class TestCheckValidation:
    def test_pass_prints_one_contract_object_and_exits_0(self, capsys):
        code, out, err = check(capsys, FIXTURES / "people_clean.csv", FIXTURES / "people.yaml")
        assert code == 0 and err == ""  # no progress bars or warnings from GX
        assert len(out.strip().splitlines()) == 1
        payload = json.loads(out)
        assert payload["check"] == "validation" and payload["status"] == "pass"
        assert payload["summary"]["evaluated"] == 8 and payload["summary"]["failed"] == 0
        for entry in payload["expectations"]:
            assert {"type", "column", "success", "unexpected_count"} <= set(entry)

    def test_fail_exits_1_and_lists_failed_expectations(self, capsys):
        code, out, _ = check(capsys, FIXTURES / "people_broken.csv", FIXTURES / "people.yaml")
        payload = json.loads(out)
        assert code == 1 and payload["status"] == "fail"
        assert payload["summary"]["failed"] == 5
        assert {
            (e["column"], e["unexpected_count"]) for e in payload["expectations"] if not e["success"]
        } == {
            ("age", 2),
            ("plan", 2),
            ("contact_email", 2),
            ("contact_email", 1),
            ("score", 3),
        }
        assert "example.com" not in out

    def test_parquet_data(self, capsys, tmp_path):
        parquet = tmp_path / "broken.parquet"
        pd.read_csv(FIXTURES / "people_broken.csv").to_parquet(parquet)
        code, out, _ = check(capsys, parquet, FIXTURES / "people.yaml")
        assert code == 1 and json.loads(out)["summary"]["failed"] == 5

    def test_pii_column_option_withholds_values(self, capsys):
        code, out, _ = check(
            capsys, FIXTURES / "people_broken.csv", FIXTURES / "people.yaml", "--pii-column", "plan"
        )
        assert code == 1 and "platinum" not in out

    @pytest.mark.parametrize(
        ("data", "suite", "message"),
        [
            ("missing.csv", FIXTURES / "people.yaml", "file not found"),
            (FIXTURES / "people_clean.csv", "missing.yaml", "suite file not found"),
        ],
    )
    def test_bad_input_exits_2_with_error_status_and_one_stderr_line(
        self, capsys, tmp_path, data, suite, message
    ):
        data = data if isinstance(data, Path) else tmp_path / data
        suite = suite if isinstance(suite, Path) else tmp_path / suite
        code, out, err = check(capsys, data, suite)
        payload = json.loads(out)
        assert code == 2 and payload["status"] == "error" and message in payload["errors"][0]
        assert err.startswith("govflow: error: ") and len(err.strip().splitlines()) == 1

    def test_unknown_expectation_type_exits_2(self, capsys, tmp_path):
        suite = tmp_path / "s.yaml"
        suite.write_text("expectations:\n  - type: expect_nothing_at_all\n")
        code, out, _ = check(capsys, FIXTURES / "people_clean.csv", suite)
        assert code == 2 and "unknown expectation type" in json.loads(out)["errors"][0]

    def test_human_output_names_failed_expectations(self, capsys):
        code, out, _ = run(
            capsys,
            "check",
            "validation",
            "--data",
            str(FIXTURES / "people_broken.csv"),
            "--suite",
            str(FIXTURES / "people.yaml"),
        )
        assert code == 1
        assert "validation: fail" in out
        assert "FAILED expect_column_values_to_be_between age unexpected=2" in out

    def test_missing_required_option_is_usage_error_2(self, capsys):
        code, _, err = run(capsys, "check", "validation", "--data", "x.csv")
        assert code == 2 and "--suite" in err


class TestSuiteInfer:
    def test_infer_writes_a_suite_that_validates_the_reference(self, capsys, tmp_path):
        out_path = tmp_path / "adult.yaml"
        code, out, err = run(
            capsys,
            "suite",
            "infer",
            "--reference",
            str(ADULT / "train.csv"),
            "--out",
            str(out_path),
            "--json",
        )
        assert code == 0 and err == ""
        payload = json.loads(out)
        assert payload == {
            "suite": str(out_path),
            "name": "train",
            "expectations": 46,
            "columns": 15,
            "rows": 10_000,
            "needs_review": True,
            "notes": [],
        }
        code, out, _ = check(capsys, ADULT / "train.csv", out_path)
        assert code == 0 and json.loads(out)["status"] == "pass"

    def test_infer_refuses_to_overwrite_without_force(self, capsys, tmp_path):
        out_path = tmp_path / "s.yaml"
        out_path.write_text("reviewed")
        argv = [
            "suite",
            "infer",
            "--reference",
            str(FIXTURES / "people_clean.csv"),
            "--out",
            str(out_path),
            "--json",
        ]
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and "already exists" in err
        assert out_path.read_text() == "reviewed"
        code, _, _ = run(capsys, *argv, "--force")
        assert code == 0 and out_path.read_text() != "reviewed"

    def test_infer_bad_reference_exits_2(self, capsys, tmp_path):
        empty = tmp_path / "empty.csv"
        empty.write_text("")
        code, out, err = run(
            capsys, "suite", "infer", "--reference", str(empty), "--out", str(tmp_path / "s.yaml")
        )
        assert code == 2 and out == "" and err.strip() == f"govflow: error: empty file: {empty}"


def test_console_script_exit_code_and_single_json_line(tmp_path):
    """The installed entry point, in a fresh process: stdout is exactly one JSON object."""
    env = {**os.environ, "GOVFLOW_HOME": str(tmp_path)}
    script = Path(sys.executable).parent / "govflow"
    if not script.exists():
        pytest.skip("the govflow console script is not installed next to this interpreter")
    proc = subprocess.run(
        [
            str(script),
            "check",
            "validation",
            "--data",
            str(FIXTURES / "people_broken.csv"),
            "--suite",
            str(FIXTURES / "people.yaml"),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["status"] == "fail"
