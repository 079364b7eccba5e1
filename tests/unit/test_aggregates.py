"""Fairness and drift through the aggregate engines (DuckDB on Parquet/CSV, PostgreSQL) give the
in-memory decisions, and the in-memory numbers where the aggregates are exact counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from govflow.checks.aggregates import SqlTable, choose_engine
from govflow.checks.drift import detect_drift
from govflow.checks.drift._aggregated import w1_bounds
from govflow.checks.drift._stattests import wasserstein_distance_norm
from govflow.checks.fairness import evaluate_fairness

SAMPLE = Path(__file__).resolve().parents[2] / "include" / "sample" / "adult"


def _without_provenance(result: Any) -> tuple[str, dict, dict]:
    details = {k: v for k, v in result.details.items() if k != "provenance"}
    summary = {k: v for k, v in result.summary.items() if k != "duration_s"}
    return result.status, summary, details


@pytest.fixture(scope="module")
def adult(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("adult")
    out = {}
    for name in ("train", "eval"):
        frame = pd.read_csv(SAMPLE / f"{name}.csv")
        rng = np.random.default_rng(1)
        wrong = rng.random(len(frame)) < 0.25
        flipped = np.where(frame["income"] == ">50K", "<=50K", ">50K")
        frame["pred"] = np.where(wrong, flipped, frame["income"])
        for suffix in ("csv", "parquet"):
            path = folder / f"{name}.{suffix}"
            frame.to_csv(path, index=False) if suffix == "csv" else frame.to_parquet(path)
            out[f"{name}.{suffix}"] = path
    return out


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
@pytest.mark.parametrize("sensitive", [["sex"], ["sex", "race"]])
def test_binary_fairness_through_duckdb_equals_memory(
    adult: dict[str, Path], suffix: str, sensitive: list
) -> None:
    kwargs: dict[str, Any] = dict(
        label="income", prediction="pred", sensitive=sensitive, positive_label=">50K", bootstrap=200
    )
    memory = evaluate_fairness(adult[f"eval.{suffix}"], engine="memory", **kwargs)
    duck = evaluate_fairness(adult[f"eval.{suffix}"], engine="duckdb", **kwargs)
    assert memory.status != "error"
    # Every number (rates, disparities, bootstrap intervals from the same counts) is the same float.
    assert _without_provenance(duck) == _without_provenance(memory)
    assert duck.details["provenance"]["engine"].startswith("duckdb ")
    assert duck.details["provenance"]["exactness"] == "exact"


def _generated(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south"], n)
    label = rng.choice(["cat", "dog", "fox"], n)
    pred = np.where(
        rng.random(n) < np.where(group == "c", 0.5, 0.8), label, rng.choice(["cat", "dog", "fox"], n)
    )
    y = rng.normal(10, 3, n)
    return pd.DataFrame(
        {
            "group": group,
            "region": region,
            "label": label,
            "pred": pred,
            "y": y,
            "y_hat": y + rng.normal(np.where(group == "a", 0.0, 0.8), 1.0, n),
            "x": rng.normal(0, 1, n),
            "k": rng.integers(0, 4, n),
        }
    )


def test_multiclass_and_regression_through_duckdb(tmp_path: Path) -> None:
    frame = _generated(20_000, 3)
    path = tmp_path / "gen.parquet"
    frame.to_parquet(path)
    multi = dict(label="label", prediction="pred", sensitive=["group", "region"], bootstrap=100)
    memory = evaluate_fairness(path, engine="memory", **multi)
    duck = evaluate_fairness(path, engine="duckdb", **multi)
    assert memory.summary["task"] == "multiclass"
    assert _without_provenance(duck) == _without_provenance(memory)

    reg = dict(label="y", prediction="y_hat", sensitive=["group"], max_mean_absolute_error_difference=0.15)
    memory = evaluate_fairness(path, engine="memory", **reg)
    duck = evaluate_fairness(path, engine="duckdb", **reg)
    assert memory.summary["task"] == "regression" and memory.status == duck.status == "fail"
    for key, entry in memory.details["by_group"].items():
        for name, value in entry.items():
            assert duck.details["by_group"][key][name] == pytest.approx(value, rel=1e-12)
    bad = evaluate_fairness(path, engine="duckdb", bootstrap=10, **reg)
    assert bad.status == "error" and "resample rows" in bad.errors[0]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_drift_through_duckdb_same_decisions_exact_categories(adult: dict[str, Path], suffix: str) -> None:
    reference, current = adult[f"train.{suffix}"], adult[f"eval.{suffix}"]
    memory = detect_drift(reference, current, engine="memory")
    duck = detect_drift(reference, current, engine="duckdb")
    assert memory.status == duck.status
    assert memory.summary["drifted_columns"] == duck.summary["drifted_columns"]
    for name, entry in memory.details["columns"].items():
        got = duck.details["columns"][name]
        assert (got["method"], got["type"], got["drifted"]) == (
            entry["method"],
            entry["type"],
            entry["drifted"],
        )
        assert (got["missing_reference"], got["missing_current"]) == (
            entry["missing_reference"],
            entry["missing_current"],
        )
        if entry["method"] == "jensenshannon":
            assert got["score"] == entry["score"]  # exact counts, same order: the same bits
        else:
            low, high = got["score_bound"]
            assert low <= entry["score"] * (1 + 1e-9) and entry["score"] <= high * (1 + 1e-9)
    assert duck.details["provenance"]["exactness"] == "bounded"


def test_drift_detected_through_duckdb_on_a_shift(tmp_path: Path) -> None:
    reference, current = _generated(30_000, 1), _generated(30_000, 2)
    current["x"] = current["x"] + 0.5  # drifts (normed Wasserstein ~0.5)
    current["group"] = np.where(np.arange(len(current)) % 3 == 0, "c", current["group"])
    paths = []
    for name, frame in (("ref", reference), ("cur", current)):
        paths.append(tmp_path / f"{name}.parquet")
        frame.to_parquet(paths[-1])
    memory = detect_drift(*paths, engine="memory", columns=["x", "group", "k", "y"])
    duck = detect_drift(*paths, engine="duckdb", columns=["x", "group", "k", "y"])
    assert memory.summary["drifted_columns"] == duck.summary["drifted_columns"] == ["x", "group"]
    assert memory.status == duck.status


def test_w1_bounds_hold_the_exact_distance() -> None:
    rng = np.random.default_rng(0)
    for shift in (0.0, 0.05, 1.0):
        a, b = np.sort(rng.normal(0, 1, 5000)), np.sort(rng.standard_t(3, 7000) + shift)
        low, high = min(a[0], b[0]), max(a[-1], b[-1])
        edges = np.linspace(low, high, 4097)
        estimate, lower, upper = w1_bounds(
            np.histogram(a, edges)[0], np.histogram(b, edges)[0], (high - low) / 4096
        )
        exact = wasserstein_distance_norm(a, b) * max(float(np.std(a)), 0.001)
        assert lower <= exact <= upper and lower <= estimate <= upper


def test_engine_chosen_from_the_worker_budget(
    adult: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVFLOW_MAX_WORKER_MEMORY", "4G")
    assert choose_engine(adult["eval.parquet"]) == "memory"
    monkeypatch.setenv("GOVFLOW_MAX_WORKER_MEMORY", "100K")
    assert choose_engine(adult["eval.parquet"]) == "duckdb"
    result = evaluate_fairness(
        adult["eval.parquet"], label="income", prediction="pred", sensitive=["sex"], positive_label=">50K"
    )
    assert result.details["provenance"]["engine"].startswith("duckdb ")
    monkeypatch.setenv("GOVFLOW_MAX_WORKER_MEMORY", "lots")
    bad = evaluate_fairness(adult["eval.parquet"], label="income", prediction="pred", sensitive=["sex"])
    assert bad.status == "error" and "GOVFLOW_MAX_WORKER_MEMORY" in bad.errors[0]


def test_remote_paths_read_through_fsspec_not_httpfs(
    adult: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An s3:// file is read by DuckDB through the scheme's fsspec filesystem (here a local folder
    posing as a bucket: no S3 server offline), never through DuckDB's downloaded httpfs."""
    from fsspec.implementations.dirfs import DirFileSystem
    from fsspec.implementations.local import LocalFileSystem

    from govflow.checks.aggregates import _backends, _choice

    class FolderAsBucket(DirFileSystem):
        protocol = "s3"

        @classmethod
        def _strip_protocol(cls, path: Any) -> Any:
            return path.removeprefix("s3://") if isinstance(path, str) else path

    (tmp_path / "bucket").mkdir()
    (tmp_path / "bucket" / "eval.parquet").write_bytes(adult["eval.parquet"].read_bytes())
    asked: list[str] = []

    def filesystem(scheme: str) -> Any:
        asked.append(scheme)
        return FolderAsBucket(path=str(tmp_path), fs=LocalFileSystem())

    monkeypatch.setattr(_backends, "remote_filesystem", filesystem)
    monkeypatch.setattr(_choice, "remote_filesystem", filesystem)
    kwargs: dict[str, Any] = dict(label="income", prediction="pred", sensitive=["sex"], positive_label=">50K")
    remote = evaluate_fairness("s3://bucket/eval.parquet", engine="duckdb", **kwargs)
    local = evaluate_fairness(adult["eval.parquet"], engine="duckdb", **kwargs)
    assert asked == ["s3"] and remote.status == local.status != "error"
    monkeypatch.setenv("GOVFLOW_MAX_WORKER_MEMORY", "100K")
    assert choose_engine("s3://bucket/eval.parquet") == "duckdb"  # sized through fsspec
    assert _without_provenance(remote) == _without_provenance(local)
    missing = evaluate_fairness("s3://bucket/none.parquet", engine="duckdb", **kwargs)
    assert missing.status == "error" and missing.errors == ["file not found: s3://bucket/none.parquet"]
    other = evaluate_fairness("ftp://host/t.parquet", engine="duckdb", **kwargs)
    assert other.status == "error" and "not ftp://" in other.errors[0]


def test_cli_engine_flag(adult: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from govflow.cli import main

    args = ["check", "fairness", "--data", str(adult["eval.parquet"]), "--label", "income"]
    args += ["--prediction", "pred", "--sensitive", "sex", "--positive-label", ">50K", "--json"]
    assert main([*args, "--engine", "duckdb"]) in (0, 1)
    out = json.loads(capsys.readouterr().out)
    assert out["provenance"]["engine"].startswith("duckdb ")


@pytest.mark.postgres
def test_postgres_table_checked_in_the_warehouse(adult: dict[str, Path], empty_pg_url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(empty_pg_url)
    for name in ("train", "eval"):
        pd.read_csv(adult[f"{name}.csv"]).to_sql(name, engine, index=False)
    try:
        kwargs: dict[str, Any] = dict(
            label="income", prediction="pred", sensitive=["sex", "race"], positive_label=">50K", bootstrap=100
        )
        memory = evaluate_fairness(adult["eval.csv"], engine="memory", **kwargs)
        sql = evaluate_fairness(SqlTable(engine, "eval"), **kwargs)
        assert sql.details["provenance"]["engine"].startswith("postgresql ")
        assert _without_provenance(sql) == _without_provenance(memory)

        memory = detect_drift(adult["train.csv"], adult["eval.csv"], engine="memory")
        sql = detect_drift(SqlTable(engine, "train"), SqlTable(engine, "eval"))
        assert memory.summary["drifted_columns"] == sql.summary["drifted_columns"]
        for name, entry in memory.details["columns"].items():
            if entry["method"] == "jensenshannon":
                assert sql.details["columns"][name]["score"] == entry["score"]
    finally:
        engine.dispose()


def test_drift_scans_each_table_a_fixed_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Profiles, categories, histograms: three reads of each file however many columns it has."""
    from govflow.checks.aggregates import _backends

    frame = _generated(5_000, 4)
    for i in range(12):
        frame[f"z{i}"] = np.random.default_rng(i).normal(i, 1, len(frame))
    paths = []
    for name, shift in (("ref", 0.0), ("cur", 0.3)):
        paths.append(tmp_path / f"{name}.parquet")
        (frame.assign(z0=frame["z0"] + shift)).to_parquet(paths[-1])
    queries: list[str] = []
    opened = _backends._duckdb_table

    def counting(data: Any) -> Any:
        table = opened(data)
        run = table._run

        def counted(sql: str) -> Any:
            if "DESCRIBE" not in sql:
                queries.append(sql)
            return run(sql)

        table._run = counted
        return table

    monkeypatch.setattr(_backends, "_duckdb_table", counting)
    memory = detect_drift(*paths, engine="memory")
    duck = detect_drift(*paths, engine="duckdb")
    assert memory.summary["drifted_columns"] == duck.summary["drifted_columns"] == ["z0"]
    assert len(queries) == 2 * 3
