"""Production data batches: the newest file under a model's ``batches_uri``, and its columns.

Batch files are expected to sort by time (``batch-0001.csv``, ``2026-11-27.parquet``).
"""

from __future__ import annotations

from govflow import storage

__all__ = ["batch_columns", "batch_name", "newest_batch"]


def newest_batch(batches_uri: str | None) -> str | None:
    """The newest production data batch (CSV/Parquet) under ``batches_uri``, by file name."""
    if not batches_uri:
        return None
    where = storage.resolve(batches_uri)
    if where.kind == "local" and where.local.is_file():
        return str(where.local)
    found = [u for u in storage.glob(batches_uri, "*") if u.endswith((".csv", ".parquet"))]
    return found[-1] if found else None


def batch_columns(path: str) -> list[str]:
    """The column names of a batch, read from its header (no rows loaded)."""
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import pandas as pd

    return [str(c) for c in pd.read_csv(path, nrows=0).columns]


def batch_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
