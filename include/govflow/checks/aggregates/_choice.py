"""Which engine computes a check's numbers: the one asked for, or the one the table's size needs.

``GOVFLOW_MAX_WORKER_MEMORY`` (bytes, or with a K/M/G suffix: ``2G``; default 4G) is
what one worker may hold. A file is read into pandas at roughly ``MEMORY_FACTOR`` times
its size on disk (Parquet decompresses, CSV text becomes objects: measured 6-12x on the
bench tables, so the factor is the pessimistic end); when that exceeds the budget the
check runs through DuckDB instead. A warehouse table (``SqlTable``) always stays in
the warehouse.

DuckDB itself gets half the budget as its ``memory_limit`` (it spills to disk beyond it;
the other half is the Python process, its imports and DuckDB's buffers outside the limit)
and one thread per 256 MiB of that half, at most one per core: each thread keeps its own
hash tables and Parquet buffers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, get_args

from govflow.checks._result import CheckInputError

EngineName = Literal["memory", "duckdb", "sql"]
ENGINES: tuple[EngineName, ...] = get_args(EngineName)
DEFAULT_MAX_WORKER_MEMORY = 4 * 1024**3
MEMORY_FACTOR = {".parquet": 12, ".pq": 12, ".csv": 6}
REMOTE_SCHEMES = ("s3", "gs", "gcs", "az", "abfs")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def remote_filesystem(scheme: str) -> Any:
    """The fsspec filesystem of ``scheme`` (``s3fs`` for ``s3://``; credentials as it finds them)."""
    import fsspec

    try:
        return fsspec.filesystem(scheme)
    except (ImportError, ValueError) as err:
        raise CheckInputError(f"no filesystem for {scheme}:// here: {str(err).splitlines()[0]}") from err


def max_worker_memory() -> int:
    """``GOVFLOW_MAX_WORKER_MEMORY`` in bytes (default 4 GiB)."""
    raw = os.environ.get("GOVFLOW_MAX_WORKER_MEMORY")
    if not raw:
        return DEFAULT_MAX_WORKER_MEMORY
    match = _SIZE.match(raw)
    if not match:
        raise CheckInputError(f"GOVFLOW_MAX_WORKER_MEMORY must be bytes or a size like 2G, not {raw!r}")
    scale = 1024 ** " kmgt".index((match.group(2) or " ").lower())
    return int(float(match.group(1)) * scale)


def duckdb_settings() -> dict[str, Any]:
    """DuckDB's configuration for a check, bounded by ``GOVFLOW_MAX_WORKER_MEMORY``."""
    import tempfile

    limit = max(max_worker_memory() // 2, 128 * 1024**2)
    threads = max(1, min(os.cpu_count() or 1, limit // (256 * 1024**2)))
    return {
        "memory_limit": f"{limit // 1024**2}MB",
        "threads": threads,
        "temp_directory": str(Path(tempfile.gettempdir()) / "govflow-duckdb"),
    }


def choose_engine(data: Any, requested: str | None = None) -> EngineName:
    """The engine for ``data`` (a DataFrame, a file path or a ``SqlTable``)."""
    from govflow.checks.aggregates._table import SqlTable

    if requested is not None and requested not in ENGINES:
        raise CheckInputError(f"unknown engine {requested!r}: choose one of {', '.join(ENGINES)}")
    if isinstance(data, SqlTable):
        if requested not in (None, "sql"):
            raise CheckInputError(
                f"a warehouse table is checked in the warehouse (engine sql), not {requested}"
            )
        return "sql"
    if requested == "sql":
        raise CheckInputError("engine sql needs a warehouse table (conn://CONN_ID/SCHEMA.TABLE)")
    if requested is not None:
        if requested == "duckdb" and not isinstance(data, (str, Path)):
            raise CheckInputError("engine duckdb reads a Parquet or CSV file: give its path")
        return requested
    if not isinstance(data, (str, Path)):
        return "memory"
    size = _remote_size(str(data)) if "://" in str(data) else None
    path = Path(data)
    if size is None:
        if not path.is_file():
            return "memory"  # the reader says what is wrong with it
        size = path.stat().st_size
    estimate = size * MEMORY_FACTOR.get(path.suffix.lower(), 12)
    return "duckdb" if estimate > max_worker_memory() else "memory"


def _remote_size(url: str) -> int | None:
    """The size of a remote file (``s3://``...) as its fsspec filesystem says; None if unknown."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in REMOTE_SCHEMES:
        return None
    try:
        return int(remote_filesystem(scheme).size(url))
    except Exception:  # noqa: BLE001 - unreachable or unknown: the reader says what is wrong
        return None
