"""Hostile inputs are refused with one line before they can exhaust a worker.

Before, validation read training data with no bound (a 2 GB CSV, or a 4.7 MB Parquet file
expanding to 2^30 rows, went past 4 GiB in seconds), 100k columns kept the PII scan busy past
90 s, and deeply nested ``--params`` crashed the CLI with a RecursionError traceback. The files
here are small but declare themselves large (a sparse file, constant row groups, a wide header).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from govflow.checks._io import iter_table_chunks, read_table
from govflow.checks._result import CheckInputError
from tests._helpers import cli


def _rows_parquet(path: Path, row_groups: int, rows_per_group: int = 1 << 20) -> Path:
    """A compressed Parquet file of one constant column: tiny on disk, ``row_groups`` x 2^20 rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"x": np.zeros(rows_per_group, dtype=np.int8)})
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for _ in range(row_groups):
            writer.write_table(table, row_group_size=rows_per_group)
    return path


def _wide_csv(path: Path, columns: int) -> Path:
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("0" * columns) + "\n")
    return path


def test_a_small_parquet_file_declaring_too_many_rows_is_refused_before_any_is_read(tmp_path):
    path = _rows_parquet(tmp_path / "bomb.parquet", row_groups=16)  # 2^24 rows > the default 10M
    assert path.stat().st_size < 1_000_000
    started = time.perf_counter()
    for read in (read_table, lambda p: next(iter_table_chunks(p))):
        with pytest.raises(
            CheckInputError, match=r"16,777,216 rows: more than the 10,000,000 allowed \(GOVFLOW_MAX_ROWS\)"
        ):
            read(path)
    assert time.perf_counter() - started < 2.0  # the footer only: decoding would take far longer


def test_the_parquet_row_bound_is_a_setting_and_decompressed_bytes_are_bounded_too(tmp_path, monkeypatch):
    path = _rows_parquet(tmp_path / "small.parquet", row_groups=1, rows_per_group=5000)
    assert len(read_table(path)) == 5000
    monkeypatch.setenv("GOVFLOW_MAX_ROWS", "4999")
    with pytest.raises(CheckInputError, match="GOVFLOW_MAX_ROWS"):
        read_table(path)
    monkeypatch.delenv("GOVFLOW_MAX_ROWS")
    import pyarrow as pa
    import pyarrow.parquet as pq

    wide = tmp_path / "strings.parquet"  # 5000 distinct 200-character strings: ~1 MB decoded
    pq.write_table(pa.table({"s": [f"{i:0200d}" for i in range(5000)]}), wide, compression="zstd")
    assert wide.stat().st_size < 100_000
    monkeypatch.setenv("GOVFLOW_MAX_DATA_BYTES", "100000")
    with pytest.raises(CheckInputError, match="bytes once decompressed"):
        read_table(wide)


def test_a_2_gb_csv_is_refused_by_its_size(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"a,b\n1,2\n")
        handle.truncate(2 * 1024**3)  # sparse: 2 GB long, nothing written
    with pytest.raises(CheckInputError, match=r"2,147,483,648 bytes: .*GOVFLOW_MAX_DATA_BYTES") as raised:
        read_table(path)
    assert "\n" not in str(raised.value)


def test_a_csv_with_too_many_rows_stops_at_the_bound(tmp_path, monkeypatch):
    path = tmp_path / "long.csv"
    path.write_text("a\n" + "1\n" * 150)
    monkeypatch.setenv("GOVFLOW_MAX_ROWS", "100")
    with pytest.raises(CheckInputError, match="more than the 100 rows allowed"):
        read_table(path)
    with pytest.raises(CheckInputError, match="more than the 100 rows allowed"):
        list(iter_table_chunks(path, chunk_rows=40))


def test_100k_columns_are_refused_before_the_pii_scan(tmp_path, capsys):
    path = _wide_csv(tmp_path / "wide.csv", 100_000)
    with pytest.raises(CheckInputError, match=r"100,000 columns: .*GOVFLOW_MAX_COLUMNS"):
        read_table(path)
    started = time.perf_counter()
    suite = Path(__file__).resolve().parents[1] / "fixtures" / "validation" / "people.yaml"
    for argv in (("pii",), ("validation", "--suite", str(suite))):
        code, _, err = cli(capsys, "check", *argv, "--data", str(path))
        assert code == 2 and "100,000 columns" in err and "Traceback" not in err, err
    assert time.perf_counter() - started < 20


def test_deeply_nested_params_are_one_line_errors(db_url, sample_files, capsys):
    from tests._helpers import register_model

    register_model(capsys, "credit")
    for depth in (33, 100_000):
        code, _, err = cli(
            capsys,
            "version", "register", "--model", "credit", "--version", "1",
            "--artifact", str(sample_files["artifact"]), "--training-data", str(sample_files["training"]),
            "--params", "[" * depth + "]" * depth, "--as", "alice",
        )  # fmt: skip
        assert code == 2, err
        assert "--params nests deeper than 32 levels (GOVFLOW_MAX_PARAMS_DEPTH)" in err
        assert "Traceback" not in err and "RecursionError" not in err
    fine = '{"a": {"b": [1, "]]]]", {"c": 2}]}}'
    code, _, err = cli(
        capsys,
        "version", "register", "--model", "credit", "--version", "1",
        "--artifact", str(sample_files["artifact"]), "--training-data", str(sample_files["training"]),
        "--params", fine, "--as", "alice",
    )  # fmt: skip
    assert code == 0, err
