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
