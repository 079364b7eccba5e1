"""Production data batches: the newest file under a model's ``batches_uri``, and its columns.

Batch files are expected to sort by time (``batch-0001.csv``, ``2026-11-27.parquet``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["batch_columns", "batch_name", "newest_batch"]


def newest_batch(batches_uri: str | None) -> str | None:
    """The newest production data batch (CSV/Parquet) under ``batches_uri``, by file name."""
    if not batches_uri:
        return None
    if "://" in batches_uri and not batches_uri.startswith("file://"):
        import fsspec

        fs, root = fsspec.core.url_to_fs(batches_uri)
        names = [n for n in fs.ls(root, detail=False) if n.endswith((".csv", ".parquet"))]
        if not names:
            return None
        protocol = batches_uri.split("://", 1)[0]
        return f"{protocol}://{sorted(names)[-1]}"
    folder = Path(batches_uri.removeprefix("file://"))
    if folder.is_file():
        return str(folder)
    files = sorted(p for p in folder.glob("*") if p.suffix in (".csv", ".parquet")) if folder.is_dir() else []
    return str(files[-1]) if files else None


def batch_columns(path: str) -> list[str]:
    """The column names of a batch, read from its header (no rows loaded)."""
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import pandas as pd

    return [str(c) for c in pd.read_csv(path, nrows=0).columns]


def batch_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
