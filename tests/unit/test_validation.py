"""validate_table: known answers on hand-made fixtures and on the UCI Adult sample.

tests/fixtures/validation/people_broken.csv has these injected faults (rows 1-based):
age 145 (row 2) and -3 (row 5); plan 'gold' (row 3) and 'platinum' (row 7);
contact_email empty (rows 4, 8) and 'not-an-email' (row 7); score empty (rows 4, 6, 9).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from govflow.checks.validation import load_suite, validate_table
from govflow.data import suite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "validation"
ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT / "include" / "sample" / "adult"
ADULT_SUITE = suite("adult")
PEOPLE_SUITE = FIXTURES / "people.yaml"


def by_key(result):
    """Expectations keyed by (type, column): the fixtures use each pair once."""
    return {(e["type"], e["column"]): e for e in result.details["expectations"]}


class TestCleanAndBroken:
    def test_clean_file_passes_every_expectation(self):
        result = validate_table(FIXTURES / "people_clean.csv", PEOPLE_SUITE)
        assert result.check == "validation"
        assert result.status == "pass", result.errors
        assert result.summary == {"evaluated": 8, "failed": 0, "rows": 10, "missing_columns": []}
        assert all(e["success"] for e in result.details["expectations"])
        assert result.library_versions["great_expectations"] == "1.24.1"

    def test_broken_file_fails_naming_each_failed_expectation_and_count(self):
        result = validate_table(FIXTURES / "people_broken.csv", PEOPLE_SUITE)
        assert result.status == "fail"
        assert result.summary["evaluated"] == 8 and result.summary["failed"] == 5
        failed = {
            (e["type"], e["column"]): e["unexpected_count"]
            for e in result.details["expectations"]
            if not e["success"]
        }
        assert failed == {
            ("expect_column_values_to_be_between", "age"): 2,
            ("expect_column_values_to_be_in_set", "plan"): 2,
            ("expect_column_values_to_not_be_null", "contact_email"): 2,
            ("expect_column_values_to_match_regex", "contact_email"): 1,
            ("expect_column_values_to_not_be_null", "score"): 3,
        }

    def test_entries_keep_suite_order(self):
        result = validate_table(FIXTURES / "people_broken.csv", PEOPLE_SUITE)
        suite = load_suite(PEOPLE_SUITE)
        assert [e["type"] for e in result.details["expectations"]] == [s.type for s in suite.expectations]

    def test_unexpected_examples_shown_for_ordinary_columns(self):
        entries = by_key(validate_table(FIXTURES / "people_broken.csv", PEOPLE_SUITE))
        assert sorted(
            entries[("expect_column_values_to_be_between", "age")]["partial_unexpected_values"]
        ) == [-3, 145]
        assert sorted(
            entries[("expect_column_values_to_be_in_set", "plan")]["partial_unexpected_values"]
        ) == [
            "gold",
            "platinum",
        ]
        assert entries[("expect_column_values_to_be_in_set", "plan")]["kwargs"] == {
            "value_set": ["basic", "premium", "family"],
        }

    def test_no_raw_values_for_columns_named_like_personal_data(self):
        result = validate_table(FIXTURES / "people_broken.csv", PEOPLE_SUITE)
        regex = by_key(result)[("expect_column_values_to_match_regex", "contact_email")]
        assert regex["values_withheld"] is True
        assert regex["partial_unexpected_values"] is None and regex["unexpected_count"] == 1
        text = json.dumps(result.to_dict())
        assert "not-an-email" not in text and "example.com" not in text

    def test_declared_pii_column_is_withheld_too(self):
        result = validate_table(FIXTURES / "people_broken.csv", PEOPLE_SUITE, pii_columns=["plan"])
        plan = by_key(result)[("expect_column_values_to_be_in_set", "plan")]
        assert plan["values_withheld"] is True and plan["unexpected_count"] == 2
        assert plan["kwargs"] == {"value_set": "<3 values withheld>"}
        assert "platinum" not in json.dumps(result.to_dict())

    def test_only_warning_severity_failures_give_warn(self):
        frame = pd.read_csv(FIXTURES / "people_clean.csv")
        frame.loc[[0, 1, 2], "score"] = None  # 4 of 10 null: the warning-level 'mostly 0.8' fails
        result = validate_table(frame, PEOPLE_SUITE)
        assert result.status == "warn"
        assert [(e["column"], e["severity"]) for e in result.details["expectations"] if not e["success"]] == [
            ("score", "warning"),
        ]

    def test_parquet_input_gives_the_same_answer_as_csv(self, tmp_path):
        parquet = tmp_path / "people_broken.parquet"
        pd.read_csv(FIXTURES / "people_broken.csv").to_parquet(parquet)
        from_csv = validate_table(FIXTURES / "people_broken.csv", PEOPLE_SUITE)
        from_parquet = validate_table(parquet, PEOPLE_SUITE)
        assert from_parquet.status == "fail"
        assert from_parquet.summary == from_csv.summary
        assert [(e["success"], e["unexpected_count"]) for e in from_parquet.details["expectations"]] == [
            (e["success"], e["unexpected_count"]) for e in from_csv.details["expectations"]
        ]

    def test_suite_identity_is_recorded(self):
        result = validate_table(FIXTURES / "people_clean.csv", PEOPLE_SUITE)
        suite = result.details["suite"]
        assert suite["name"] == "people" and suite["needs_review"] is False
        assert suite["sha256"] == load_suite(PEOPLE_SUITE).content_sha256()


class TestMissingColumns:
    """A column the suite names but the data lacks is a failed expectation, not an error."""

    def test_missing_column_fails_with_a_clear_reason_and_others_still_run(self):
        frame = pd.read_csv(FIXTURES / "people_clean.csv").drop(columns=["plan"])
        result = validate_table(frame, PEOPLE_SUITE)
        assert result.status == "fail"
        assert result.summary["missing_columns"] == ["plan"]
        entries = by_key(result)
        plan = entries[("expect_column_values_to_be_in_set", "plan")]
        assert plan["success"] is False and plan["error"] == "column 'plan' is missing from the data"
        assert entries[("expect_table_columns_to_match_ordered_list", None)]["success"] is False
        assert entries[("expect_column_values_to_be_between", "age")]["success"] is True
        assert result.summary["failed"] == 2

    def test_wrong_type_for_an_expectation_fails_with_gx_reason(self):
        frame = pd.read_csv(FIXTURES / "people_clean.csv")
        frame["age"] = frame["age"].astype(str)  # a numeric range on text cannot be evaluated
        result = validate_table(frame, PEOPLE_SUITE)
        assert result.status == "fail"
        age = by_key(result)[("expect_column_values_to_be_between", "age")]
        assert age["success"] is False and "same type" in age["error"]


class TestBadInput:
    @pytest.mark.parametrize(
        ("suite_text", "message"),
        [
            ("name: x\nexpectations: [", "malformed suite"),
            ("name: x\nexpectations: []\n", "the suite has no expectations"),
            ("name: x\n", "missing 'expectations'"),
            ("- a\n- b\n", "a suite must be a mapping"),
            (
                "expectations:\n  - type: expect_column_values_to_be_purple\n    kwargs: {column: age}\n",
                "expectation #1 (expect_column_values_to_be_purple): unknown expectation type",
            ),
            (
                "expectations:\n  - type: expect_column_values_to_be_between\n"
                "    kwargs: {column: age, mostly: 3}\n",
                "expectation #1 (expect_column_values_to_be_between): invalid kwargs: mostly:",
            ),
            (
                "expectations:\n  - expectation_type: expect_column_values_to_not_be_null\n",
                "unknown key 'expectation_type' (Great Expectations 1.x calls it 'type')",
            ),
            (
                "expectations:\n  - type: expect_column_values_to_not_be_null\n    kwargs: {column: age}\n"
                "    severity: fatal\n",
                "severity must be one of critical, warning, info",
            ),
        ],
    )
    def test_bad_suite_is_an_error_with_a_clear_line(self, tmp_path, suite_text, message):
        suite = tmp_path / "suite.yaml"
        suite.write_text(suite_text)
        result = validate_table(FIXTURES / "people_clean.csv", suite)
        assert result.status == "error"
        assert len(result.errors) == 1 and message in result.errors[0]
        assert "\n" not in result.errors[0]

    def test_missing_suite_file(self, tmp_path):
        result = validate_table(FIXTURES / "people_clean.csv", tmp_path / "nope.yaml")
        assert result.status == "error" and result.errors == [
            f"suite file not found: {tmp_path / 'nope.yaml'}"
        ]

    def test_missing_data_file(self, tmp_path):
        result = validate_table(tmp_path / "nope.csv", PEOPLE_SUITE)
        assert result.status == "error" and result.errors == [f"file not found: {tmp_path / 'nope.csv'}"]

    def test_empty_and_header_only_files(self, tmp_path):
        empty = tmp_path / "empty.csv"
        empty.write_text("")
        header_only = tmp_path / "header.csv"
        header_only.write_text("customer_id,age,plan,contact_email,score\n")
        assert validate_table(empty, PEOPLE_SUITE).errors == [f"empty file: {empty}"]
        assert validate_table(header_only, PEOPLE_SUITE).errors == [f"{header_only} has no data rows"]

    def test_unreadable_parquet(self, tmp_path):
        bad = tmp_path / "bad.parquet"
        bad.write_bytes(b"not parquet at all")
        result = validate_table(bad, PEOPLE_SUITE)
        assert result.status == "error" and result.errors[0].startswith(f"cannot read {bad}")

    def test_empty_dataframe(self):
        result = validate_table(pd.DataFrame({"age": []}), PEOPLE_SUITE)
        assert result.status == "error" and result.errors == ["data has no rows"]


class TestAdultSample:
    def test_reviewed_adult_suite_passes_train_and_eval(self):
        for name in ("train.csv", "eval.csv"):
            result = validate_table(ADULT / name, ADULT_SUITE)
            assert result.status == "pass", (
                name,
                [e for e in result.details["expectations"] if not e["success"]],
            )
            assert result.summary["evaluated"] == 46

    def test_broken_adult_eval_fails_with_known_counts(self):
        frame = pd.read_csv(ADULT / "eval.csv")
        frame.loc[[0, 1, 2], "age"] = 150
        frame.loc[[10, 11], "sex"] = "Unknown"
        frame.loc[:499, "workclass"] = None  # 500 more nulls: far above the reviewed bound
        result = validate_table(frame, ADULT_SUITE)
        assert result.status == "fail"
        failed = {
            (e["type"], e["column"]): e["unexpected_count"]
            for e in result.details["expectations"]
            if not e["success"]
        }
        base_nulls = int(pd.read_csv(ADULT / "eval.csv")["workclass"].iloc[500:].isna().sum())
        assert failed == {
            ("expect_column_values_to_be_between", "age"): 3,
            ("expect_column_values_to_be_in_set", "sex"): 2,
            ("expect_column_values_to_not_be_null", "workclass"): 500 + base_nulls,
        }


class TestEvidenceHasNoRawPersonalData:
    def test_gx_error_messages_are_scrubbed_for_personal_data_columns(self):
        # pandas quotes the offending values when a mean of text is asked for.
        suite = {
            "name": "x",
            "expectations": [
                {
                    "type": "expect_column_mean_to_be_between",
                    "kwargs": {"column": "contact_email", "min_value": 0},
                },
                {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "plan", "min_value": 0}},
            ],
        }
        result = validate_table(FIXTURES / "people_clean.csv", suite)
        email, plan = result.details["expectations"]
        assert result.status == "fail" and not email["success"] and not plan["success"]
        assert email["error"] == "Could not convert string '...' to numeric"
        assert "basic" in plan["error"]  # an ordinary column keeps GX's full message
        assert "example.com" not in json.dumps(result.to_dict())


def test_importing_the_check_and_its_cli_loads_neither_gx_nor_pandas():
    import subprocess
    import sys

    code = (
        "import sys, govflow.checks.validation, govflow.cli._check_validation, govflow.cli._suite; "
        "heavy = [m for m in ('great_expectations', 'pandas', 'yaml') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
