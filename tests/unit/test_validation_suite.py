"""Suite inference and the suite file format: known proposals, round trips, refusals."""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path

import pandas as pd
import pytest

from govflow.checks.validation import infer_suite, load_suite, validate_table, write_suite
from govflow.checks.validation._pii_names import name_suggests_pii
from govflow.errors import BadInputError

ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT / "include" / "sample" / "adult"


def small_reference() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30, 41, 25, 58, 33, 47, 39, 62, 29, 50],
            "score": [0.5, 0.25, None, 0.75, 1.0, 0.0, 0.5, None, 0.125, 0.5],
            "plan": [
                "basic",
                "premium",
                "basic",
                "family",
                "basic",
                "premium",
                "basic",
                "family",
                "basic",
                "premium",
            ],
            "active": [True, False, True, True, False, True, True, False, True, True],
            "email": [f"user{i}@example.com" for i in range(10)],
            "city": ["Lyon", "Oslo", "Kyiv", "Pune", "Lima", "Rome", "Bern", "Riga", "Suva", "Apia"],
        }
    )


def expectations_of(document, column):
    return {e["type"]: e for e in document["expectations"] if e["kwargs"].get("column") == column}


class TestInferenceProposals:
    def test_column_list_and_order(self):
        document = infer_suite(small_reference(), name="people")
        first = document["expectations"][0]
        assert first == {
            "type": "expect_table_columns_to_match_ordered_list",
            "kwargs": {"column_list": ["age", "score", "plan", "active", "email", "city"]},
        }
        assert document["name"] == "people"
        assert document["meta"]["govflow"]["needs_review"] is True

    def test_numeric_column_gets_type_family_not_null_and_observed_range(self):
        age = expectations_of(infer_suite(small_reference()), "age")
        assert "int64" in age["expect_column_values_to_be_in_type_list"]["kwargs"]["type_list"]
        assert "Int64Dtype" in age["expect_column_values_to_be_in_type_list"]["kwargs"]["type_list"]
        assert age["expect_column_values_to_not_be_null"]["kwargs"] == {"column": "age"}
        assert age["expect_column_values_to_be_between"]["kwargs"] == {
            "column": "age",
            "min_value": 25,
            "max_value": 62,
        }
        assert isinstance(age["expect_column_values_to_be_between"]["kwargs"]["min_value"], int)

    def test_null_rate_bound_is_observed_rate_plus_slack(self):
        score = expectations_of(infer_suite(small_reference()), "score")
        not_null = score["expect_column_values_to_not_be_null"]
        # 2 of 10 null: allowed 0.2 + max(0.01, 0.1) = 0.3, so mostly 0.7.
        assert not_null["kwargs"] == {"column": "score", "mostly": 0.7}
        assert not_null["meta"] == {"observed_null_rate": 0.2}
        assert score["expect_column_values_to_be_between"]["kwargs"] == {
            "column": "score",
            "min_value": 0.0,
            "max_value": 1.0,
        }
        assert "float64" in score["expect_column_values_to_be_in_type_list"]["kwargs"]["type_list"]
        # A float column may hold only whole numbers next time (read back as int64).
        assert "int64" in score["expect_column_values_to_be_in_type_list"]["kwargs"]["type_list"]

    def test_low_cardinality_text_gets_a_sorted_value_set(self):
        plan = expectations_of(infer_suite(small_reference()), "plan")
        assert plan["expect_column_values_to_be_in_set"]["kwargs"]["value_set"] == [
            "basic",
            "family",
            "premium",
        ]
        assert plan["expect_column_values_to_be_in_type_list"]["kwargs"]["type_list"] == ["str"]

    def test_all_distinct_text_gets_no_value_set(self):
        city = expectations_of(infer_suite(small_reference()), "city")
        assert set(city) == {"expect_column_values_to_be_in_type_list", "expect_column_values_to_not_be_null"}

    def test_max_categories_limits_value_sets(self):
        plan = expectations_of(infer_suite(small_reference(), max_categories=2), "plan")
        assert "expect_column_values_to_be_in_set" not in plan

    def test_bool_column_gets_type_only(self):
        active = expectations_of(infer_suite(small_reference()), "active")
        assert active["expect_column_values_to_be_in_type_list"]["kwargs"]["type_list"] == [
            "bool",
            "BooleanDtype",
        ]
        assert set(active) == {
            "expect_column_values_to_be_in_type_list",
            "expect_column_values_to_not_be_null",
        }

    def test_personal_data_columns_get_no_values_in_the_suite(self):
        frame = small_reference()
        frame["email"] = ["a@example.com", "b@example.com"] * 5  # low cardinality: would get a set
        document = infer_suite(frame, pii_columns=["plan"])
        for column in ("email", "plan"):
            assert set(expectations_of(document, column)) == {
                "expect_column_values_to_be_in_type_list",
                "expect_column_values_to_not_be_null",
            }
        assert document["meta"]["govflow"]["personal_data_columns"] == [
            "plan",
            "email",
            "city",
        ]  # city: the PII scan hints LOCATION
        text = json.dumps(document)
        assert "example.com" not in text and "premium" not in text

    def test_entirely_null_column_is_noted_not_guessed(self):
        frame = small_reference().assign(empty=None)
        document = infer_suite(frame)
        assert expectations_of(document, "empty") == {}
        assert any(n.startswith("empty: entirely null") for n in document["meta"]["govflow"]["notes"])

    def test_reference_file_identified_by_name_and_hash(self):
        document = infer_suite(ADULT / "train.csv")
        reference = document["meta"]["govflow"]["reference"]
        assert reference["file"] == "train.csv" and len(reference["sha256"]) == 64
        assert reference["rows"] == 10_000 and reference["columns"] == 15
        assert document["name"] == "train"
        assert str(ROOT) not in json.dumps(document)  # no local paths in a file meant for the repo

    def test_bad_reference_is_a_clear_error(self, tmp_path):
        from govflow.checks import CheckInputError

        with pytest.raises(CheckInputError, match="file not found"):
            infer_suite(tmp_path / "nope.csv")
        with pytest.raises(CheckInputError, match="reference data has no rows"):
            infer_suite(pd.DataFrame({"a": []}))


class TestRoundTrip:
    def test_infer_then_validate_the_same_adult_data_passes(self, tmp_path):
        suite_path = write_suite(infer_suite(ADULT / "train.csv", name="adult"), tmp_path / "adult.yaml")
        result = validate_table(ADULT / "train.csv", suite_path)
        assert result.status == "pass", [e for e in result.details["expectations"] if not e["success"]]
        assert result.summary["evaluated"] == 46 and result.details["suite"]["needs_review"] is True

    def test_suite_inferred_from_csv_accepts_the_same_data_as_parquet(self, tmp_path):
        parquet = tmp_path / "train.parquet"
        pd.read_csv(ADULT / "train.csv").to_parquet(parquet)
        suite_path = write_suite(infer_suite(ADULT / "train.csv"), tmp_path / "s.yaml")
        assert validate_table(parquet, suite_path).status == "pass"

    def test_inferred_suite_catches_a_changed_table(self, tmp_path):
        suite_path = write_suite(infer_suite(small_reference()), tmp_path / "s.yaml")
        changed = small_reference()
        changed.loc[0, "age"] = 99
        changed.loc[1, "plan"] = "gold"
        changed["score"] = None
        result = validate_table(changed, suite_path)
        failed = {
            (e["type"], e["column"]): e["unexpected_count"]
            for e in result.details["expectations"]
            if not e["success"]
        }
        assert failed == {
            ("expect_column_values_to_be_between", "age"): 1,
            ("expect_column_values_to_be_in_set", "plan"): 1,
            ("expect_column_values_to_not_be_null", "score"): 10,
        }

    def test_written_yaml_loads_back_to_the_same_suite(self, tmp_path):
        document = infer_suite(small_reference(), name="people")
        path = write_suite(document, tmp_path / "people.yaml")
        assert load_suite(path).to_dict() == document
        text = path.read_text()
        assert text.startswith("# Proposed by `govflow suite infer`")
        assert "needs_review: true" in text

    def test_json_suite_round_trip(self, tmp_path):
        document = infer_suite(small_reference(), name="people")
        path = write_suite(document, tmp_path / "people.json")
        assert json.loads(path.read_text()) == document
        assert load_suite(path).to_dict() == document

    def test_inference_is_deterministic(self, tmp_path):
        one = write_suite(infer_suite(ADULT / "eval.csv"), tmp_path / "one.yaml").read_bytes()
        two = write_suite(infer_suite(ADULT / "eval.csv"), tmp_path / "two.yaml").read_bytes()
        assert one == two

    def test_existing_suite_is_not_overwritten_without_force(self, tmp_path):
        path = tmp_path / "s.yaml"
        path.write_text("reviewed")
        with pytest.raises(BadInputError, match="already exists"):
            write_suite(infer_suite(small_reference()), path)
        assert path.read_text() == "reviewed"
        write_suite(infer_suite(small_reference()), path, overwrite=True)
        assert load_suite(path).name == "inferred"

    def test_bad_output_suffix(self, tmp_path):
        with pytest.raises(BadInputError, match=r"must end in \.yaml, \.yml or \.json"):
            write_suite(infer_suite(small_reference()), tmp_path / "s.txt")


def test_validation_makes_no_network_connection(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network connection attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    document = infer_suite(small_reference())
    assert validate_table(small_reference(), document).status == "pass"


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("email", True),
        ("contact_email", True),
        ("E-Mail", True),
        ("firstName", True),
        ("last_name", True),
        ("phone_number", True),
        ("SSN", True),
        ("home_address", True),
        ("dob", True),
        ("date_of_birth", True),
        ("zip", True),
        ("ip", True),
        ("city", True),
        ("customer_ipv4", True),
        ("age", False),
        ("native-country", False),
        ("relationship", False),
        ("education-num", False),
        ("income", False),
        ("score", False),
        ("description", False),
    ],
)
def test_pii_name_heuristic(column, expected):
    assert name_suggests_pii(column) is expected


def test_an_infinite_value_leaves_that_side_of_the_range_open():
    frame = pd.DataFrame({"x": [1.5, math.inf, -2.0, 3.0]})
    document = infer_suite(frame)
    between = expectations_of(document, "x")["expect_column_values_to_be_between"]
    assert between["kwargs"] == {"column": "x", "min_value": -2.0}
    assert validate_table(frame, document).status == "pass"
