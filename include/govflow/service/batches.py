"""Production data batches: the newest file under a model's ``batches_uri``, and its columns.

Batch files are expected to sort by time (``batch-0001.csv``, ``2026-11-27.parquet``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from govflow import storage
from govflow.scoped import kept_in, remembered

__all__ = ["batch_columns", "batch_name", "batches_listed_once", "newest_batch", "read_once"]

# What a ``batches_listed_once()`` block found: ("newest", uri) -> batch, ("columns", path) -> names.
T = TypeVar("T")
_SEEN: ContextVar[dict[tuple[str, str], Any] | None] = ContextVar("govflow_batches_seen", default=None)


@contextmanager
def batches_listed_once() -> Iterator[None]:
    """Within the block, a prefix is listed and a batch's header read once: every check of one model
    in a nightly task judges the same newest batch, even if a newer one lands meanwhile."""
    with kept_in(_SEEN):
        yield


def read_once(kind: str, key: str, find: Callable[[], T]) -> T:
    """``find()``, or inside ``batches_listed_once()`` what it returned for (kind, key) earlier."""
    return remembered(_SEEN, (kind, key), find)


def newest_batch(batches_uri: str | None) -> str | None:
    """The newest production data batch (CSV/Parquet) under ``batches_uri``, by file name."""
    if not batches_uri:
        return None
    return read_once("newest", batches_uri, lambda: _newest(batches_uri))


def _newest(batches_uri: str) -> str | None:
    where = storage.resolve(batches_uri)
    if where.kind == "local" and where.local.is_file():
        return str(where.local)
    found = [u for u in storage.glob(batches_uri, "*") if u.endswith((".csv", ".parquet"))]
    return found[-1] if found else None


def batch_columns(path: str) -> list[str]:
    """The column names of a batch, read from its header (no rows loaded)."""
    return list(read_once("columns", path, lambda: _columns(path)))


def _columns(path: str) -> list[str]:
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import pandas as pd

    return [str(c) for c in pd.read_csv(path, nrows=0).columns]


def batch_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
