"""Performance, validation and PII through the aggregate engines (DuckDB on Parquet/CSV, PostgreSQL)
give the in-memory decisions, and the in-memory numbers where the aggregates are exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from govflow.checks.aggregates import SqlTable
from govflow.checks.performance import evaluate_performance


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.round(np.clip(0.35 * y + rng.normal(0.35, 0.2, n), 0, 1), 3)  # ties on purpose
    label3 = rng.choice(["cat", "dog", "fox"], n)
    value = rng.normal(10, 3, n)
    return pd.DataFrame(
        {
            "y": y,
            "p": (score > 0.5).astype(int),
            "score": score,
            "label3": label3,
            "pred3": np.where(rng.random(n) < 0.7, label3, rng.choice(["cat", "dog", "fox"], n)),
            "value": value,
            "value_hat": value + rng.normal(0.2, 1.0, n),
            "flag": np.where(y == 1, "yes", "no"),
            "flag_hat": np.where(score > 0.45, "yes", "no"),
        }
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("agg")
    frame = _table(20_000, 7)
    frame.loc[::97, ["label3", "value"]] = None  # rows without a label: dropped on both paths
    out = {"parquet": folder / "t.parquet", "csv": folder / "t.csv"}
    frame.to_parquet(out["parquet"])
    frame.to_csv(out["csv"], index=False)
    return out


CASES: list[dict[str, Any]] = [
    dict(label="y", prediction="p", score="score", baseline={"accuracy": 0.9, "roc_auc": 0.8, "f1": 0.7}),
    dict(label="flag", prediction="flag_hat", positive_label="yes", baseline={"accuracy": 1.0}),
    dict(label="label3", prediction="pred3", baseline={"accuracy": 0.9, "macro_f1": 0.7}),
    dict(label="value", prediction="value_hat", baseline={"mean_absolute_error": 0.7, "r2": 0.95}),
]


def _same(memory: Any, other: Any) -> None:
    assert memory.status != "error", memory.errors
    assert (other.status, other.summary, other.details["comparisons"]) == (
        memory.status,
        memory.summary,
        memory.details["comparisons"],
    )


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
@pytest.mark.parametrize("case", CASES, ids=["binary+auc", "text-binary", "multiclass", "regression"])
def test_performance_through_duckdb_equals_memory(files: dict[str, Path], suffix: str, case: dict) -> None:
    memory = evaluate_performance(files[suffix], engine="memory", **case)
    duck = evaluate_performance(files[suffix], engine="duckdb", **case)
    _same(memory, duck)
    assert duck.details["provenance"]["engine"].startswith("duckdb ")


def test_performance_auc_from_counts_is_scikit_learns(files: dict[str, Path]) -> None:
    from sklearn.metrics import roc_auc_score

    frame = pd.read_parquet(files["parquet"])
    duck = evaluate_performance(files["parquet"], engine="duckdb", label="y", prediction="p", score="score")
    assert duck.summary["metrics"]["roc_auc"] == round(roc_auc_score(frame["y"], frame["score"]), 6)
    assert duck.details["provenance"]["exactness"] == "exact"


@pytest.mark.postgres
def test_performance_in_postgres_equals_memory(files: dict[str, Path], empty_pg_url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(empty_pg_url)
    pd.read_parquet(files["parquet"]).to_sql("t", engine, index=False)
    try:
        for case in CASES:
            memory = evaluate_performance(files["parquet"], engine="memory", **case)
            _same(memory, evaluate_performance(SqlTable(engine, "t"), **case))
    finally:
        engine.dispose()


SAMPLE = Path(__file__).resolve().parents[2] / "include" / "sample" / "adult"
ADULT_SUITE = Path(__file__).resolve().parents[2] / "include" / "govflow" / "data" / "suites" / "adult.yaml"


def _broken_adult(folder: Path) -> dict[str, Path]:
    """The Adult eval sample with broken rows: ages out of range, an unknown workclass, nulls."""
    frame = pd.read_csv(SAMPLE / "eval.csv")
    frame.loc[[3, 50, 51], "age"] = [7, 130, 140]
    frame.loc[[10, 11], "workclass"] = ["Robot", None]
    frame.loc[[20], "hours-per-week" if "hours-per-week" in frame else frame.columns[-2]] = None
    out = {"parquet": folder / "adult.parquet", "csv": folder / "adult.csv"}
    frame.to_parquet(out["parquet"])
    frame.to_csv(out["csv"], index=False)
    return out


def _validation_view(result: Any) -> tuple[Any, ...]:
    return result.status, result.summary, result.details["expectations"]


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_validation_through_duckdb_equals_great_expectations(tmp_path: Path, suffix: str) -> None:
    from govflow.checks.validation import validate_table

    data = _broken_adult(tmp_path)[suffix]
    memory = validate_table(data, ADULT_SUITE, engine="memory")
    duck = validate_table(data, ADULT_SUITE, engine="duckdb")
    assert memory.status == "fail" and memory.summary["failed"] >= 3
    assert _validation_view(duck) == _validation_view(memory)
    assert duck.details["provenance"]["engine"].startswith("duckdb ")
    clean = validate_table(SAMPLE / "eval.csv", ADULT_SUITE, engine="duckdb")
    assert clean.status == validate_table(SAMPLE / "eval.csv", ADULT_SUITE, engine="memory").status == "pass"


def test_validation_refuses_an_expectation_it_cannot_count(tmp_path: Path) -> None:
    from govflow.checks.validation import validate_table

    suite = {
        "name": "s",
        "expectations": [
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "a", "regex": "x"}}
        ],
    }
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": ["x", "y"]}).to_parquet(path)
    result = validate_table(path, suite, engine="duckdb")
    assert result.status == "error" and "use engine memory" in result.errors[0]


@pytest.mark.postgres
def test_validation_in_postgres_equals_great_expectations(tmp_path: Path, empty_pg_url: str) -> None:
    from sqlalchemy import create_engine

    from govflow.checks.validation import validate_table

    data = _broken_adult(tmp_path)["parquet"]
    engine = create_engine(empty_pg_url)
    pd.read_parquet(data).to_sql("adult", engine, index=False)
    try:
        memory = validate_table(data, ADULT_SUITE, engine="memory")
        sql = validate_table(SqlTable(engine, "adult"), ADULT_SUITE)
        assert _validation_view(sql) == _validation_view(memory)
        assert sql.details["provenance"]["engine"].startswith("postgresql ")
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_validation_in_postgres_runs_other_expectations_through_gx_sql(empty_pg_url: str) -> None:
    from sqlalchemy import create_engine

    from govflow.checks.validation import validate_table

    frame = pd.DataFrame({"code": ["AB-1", "AB-2", "zz", None], "n": [1, 2, 3, 4]})
    suite = {
        "name": "s",
        "expectations": [
            {
                "type": "expect_column_values_to_match_regex",
                "kwargs": {"column": "code", "regex": "^AB-[0-9]$"},
            },
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "n"}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "code"}},
        ],
    }
    engine = create_engine(empty_pg_url)
    frame.to_sql("codes", engine, index=False)
    try:
        memory = validate_table(frame, suite, engine="memory")
        sql = validate_table(SqlTable(engine, "codes"), suite)
        decisions = [(e["type"], e["success"], e["unexpected_count"]) for e in memory.details["expectations"]]
        assert decisions == [
            (e["type"], e["success"], e["unexpected_count"]) for e in sql.details["expectations"]
        ]
        assert decisions[0] == ("expect_column_values_to_match_regex", False, 1)
        assert sql.details["provenance"]["great_expectations_sql"] == [
            "expect_column_values_to_be_unique",
            "expect_column_values_to_match_regex",
        ]
    finally:
        engine.dispose()


def _people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "contact": [f"user{i}@example.com" for i in range(n)],
            "note": rng.choice(["ok", "call back", "late"], n),
            "age": rng.integers(18, 90, n),
            "sex": rng.choice(["F", "M"], n),
            "score": rng.random(n),
        }
    )


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_pii_on_a_table_the_sample_covers_equals_memory(tmp_path: Path, suffix: str) -> None:
    from govflow.checks.aggregates import scan_pii_in_engine
    from govflow.checks.pii import scan_pii

    path = tmp_path / f"people.{suffix}"
    frame = _people(2_000, 1)
    frame.to_parquet(path) if suffix == "parquet" else frame.to_csv(path, index=False)
    memory = scan_pii(path, allowed_entities=["PERSON"], min_k_anonymity=2)
    duck = scan_pii_in_engine(path, "duckdb", allowed_entities=["PERSON"], min_k_anonymity=2)
    keys = ("columns_with_pii", "entities_found", "entities_not_allowed", "k_anonymity", "unique_share")
    assert memory.status == duck.status == "fail"
    assert {k: duck.summary[k] for k in keys} == {k: memory.summary[k] for k in keys}
    assert duck.details["provenance"]["exactness"] == "exact"
    assert duck.details["columns"]["contact"]["full_table_pattern_counts"] == {"EMAIL_ADDRESS": 2_000}


def test_pii_sample_misses_a_rare_email_the_pattern_counts_catch(tmp_path: Path) -> None:
    from govflow.checks.aggregates import scan_pii_in_engine

    frame = _people(30_000, 2).drop(columns=["contact"])
    frame.loc[29_999, "note"] = "write to ana.lopez@example.com"  # one row in 30,000
    path = tmp_path / "notes.parquet"
    frame.to_parquet(path)
    result = scan_pii_in_engine(path, "duckdb", sample_rows=500, seed=3)
    assert result.details["provenance"]["sample_rows"] == 500
    assert result.details["provenance"]["exactness"] == "sampled"
    assert result.details["columns"]["note"]["full_table_pattern_counts"] == {"EMAIL_ADDRESS": 1}
    assert result.status == "fail" and result.summary["missed_by_the_sample"] == ["EMAIL_ADDRESS in note"]
    again = scan_pii_in_engine(path, "duckdb", sample_rows=500, seed=3)
    assert again.summary == result.summary  # the same seed, the same sample


@pytest.mark.postgres
def test_pii_in_postgres(empty_pg_url: str) -> None:
    from sqlalchemy import create_engine

    from govflow.checks.aggregates import scan_pii_in_engine
    from govflow.checks.pii import scan_pii

    frame = _people(1_500, 4)
    engine = create_engine(empty_pg_url)
    frame.to_sql("people", engine, index=False)
    try:
        memory = scan_pii(frame, allowed_entities=["EMAIL_ADDRESS"])
        sql = scan_pii_in_engine(SqlTable(engine, "people"), "sql", allowed_entities=["EMAIL_ADDRESS"])
        assert sql.status == memory.status
        assert sql.summary["entities_found"] == memory.summary["entities_found"]
        assert sql.summary["k_anonymity"] == memory.summary["k_anonymity"]
        assert sql.details["columns"]["contact"]["full_table_pattern_counts"] == {"EMAIL_ADDRESS": 1_500}
    finally:
        engine.dispose()


def test_the_pipelines_pii_check_scans_a_table_bigger_than_the_worker_in_an_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate's and nightly's PII check picks the engine from the table's size, as fairness, drift,
    performance and validation do: the same verdict, the sample and the engine in the evidence."""
    from govflow.policy import load_policy
    from govflow.service.pipeline import check_on_data
    from tests._helpers import version_inputs

    path = tmp_path / "people.parquet"
    _people(2_000, 5).to_parquet(path)
    inputs = version_inputs(str(path))
    monkeypatch.setenv("GOVFLOW_MAX_WORKER_MEMORY", "4G")
    memory, _ = check_on_data("pii", inputs, data=str(path), policy=load_policy())
    monkeypatch.setenv("GOVFLOW_MAX_WORKER_MEMORY", "100K")
    engine, _ = check_on_data("pii", inputs, data=str(path), policy=load_policy())
    assert "provenance" not in memory.details or "duckdb" not in str(memory.details["provenance"])
    assert engine.details["provenance"]["engine"].startswith("duckdb ")
    assert engine.details["provenance"]["sample_rows"] == 2_000
    assert engine.status == memory.status == "fail"
    assert engine.summary["entities_not_allowed"] == memory.summary["entities_not_allowed"]
    monkeypatch.setenv("GOVFLOW_MAX_WORKER_MEMORY", "lots")
    bad, _ = check_on_data("pii", inputs, data=str(path), policy=load_policy())
    assert bad.status == "error" and "GOVFLOW_MAX_WORKER_MEMORY" in bad.errors[0]
