"""Reading CSV and Parquet tables for checks, with one-line errors for bad files.

Every file is held to the deployment's input bounds before a byte of it is parsed
(``check_table_bounds``), so a hostile table is refused with one line instead of
exhausting a worker:

1. its size on disk: ``GOVFLOW_MAX_DATA_BYTES`` (default 1 GiB);
2. its columns: a CSV's header line, a Parquet file's schema, ``GOVFLOW_MAX_COLUMNS``
   (default 5,000);
3. its rows: a Parquet file's footer declares them (and the bytes its row groups expand to,
   held to the size bound): a 5 MB file of one constant column can declare 2^30 rows, so that
   is read before any row group is; a CSV declares nothing, so its readers stop at
   ``GOVFLOW_MAX_ROWS`` (default 10,000,000) + 1 rows and refuse.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from govflow.checks._result import CheckInputError
from govflow.progress import NO_PROGRESS, CountingReader, Progress, resolve

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")
MAX_DATA_BYTES_ENV, MAX_ROWS_ENV, MAX_COLUMNS_ENV = (
    "GOVFLOW_MAX_DATA_BYTES",
    "GOVFLOW_MAX_ROWS",
    "GOVFLOW_MAX_COLUMNS",
)


@dataclass(frozen=True)
class InputLimits:
    """The bounds a data file must stay within (settings: ``GOVFLOW_MAX_*``)."""

    max_bytes: int = 1 << 30
    max_rows: int = 10_000_000
    max_columns: int = 5_000

    @classmethod
    def from_env(cls) -> InputLimits:
        return cls(
            max_bytes=_setting(MAX_DATA_BYTES_ENV, cls.max_bytes),
            max_rows=_setting(MAX_ROWS_ENV, cls.max_rows),
            max_columns=_setting(MAX_COLUMNS_ENV, cls.max_columns),
        )


def _setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as err:
        raise CheckInputError(f"{name} must be a whole number, got {raw[:40]!r}") from err
    if value <= 0:
        raise CheckInputError(f"{name} must be positive, got {value}")
    return value


def _too_many(p: Path, count: int, what: str, limit: int, setting: str) -> CheckInputError:
    return CheckInputError(f"{p} has {count:,} {what}: more than the {limit:,} allowed ({setting})")


def check_table_bounds(path: str | Path, limits: InputLimits | None = None) -> InputLimits:
    """CheckInputError unless the file at ``path`` is within the size, column and (Parquet) row
    bounds; reads only the file's size, a CSV's header line or a Parquet file's footer."""
    limits = limits or InputLimits.from_env()
    p = Path(path)
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise _too_many(p, size, "bytes", limits.max_bytes, MAX_DATA_BYTES_ENV)
    if p.suffix.lower() == ".csv":
        columns = len(_csv_header(p))
        if columns > limits.max_columns:
            raise _too_many(p, columns, "columns", limits.max_columns, MAX_COLUMNS_ENV)
        return limits
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(p)
    except Exception as err:  # a footer that does not parse: not a Parquet file
        raise CheckInputError(f"cannot read {p}: {str(err).splitlines()[0] if str(err) else err}") from err
    if meta.num_columns > limits.max_columns:
        raise _too_many(p, meta.num_columns, "columns", limits.max_columns, MAX_COLUMNS_ENV)
    if meta.num_rows > limits.max_rows:
        raise _too_many(p, meta.num_rows, "rows", limits.max_rows, MAX_ROWS_ENV)
    expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if expanded > limits.max_bytes:
        raise _too_many(p, expanded, "bytes once decompressed", limits.max_bytes, MAX_DATA_BYTES_ENV)
    return limits


# ``frame.attrs`` key: the string columns ``read_table(..., dictionary_strings=True)`` read as categoricals.
DICTIONARY_STRINGS = "govflow.dictionary_strings"


def _checked_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise CheckInputError(f"file not found: {p}")
    if not p.is_file():
        raise CheckInputError(f"not a file: {p}")
    if p.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise CheckInputError(f"unsupported file type {p.suffix or '(none)'!r} for {p}: use .csv or .parquet")
    if p.stat().st_size == 0:
        raise CheckInputError(f"empty file: {p}")
    return p


def _row_bound(p: Path, rows: int, limits: InputLimits) -> None:
    if rows > limits.max_rows:
        raise CheckInputError(f"{p} has more than the {limits.max_rows:,} rows allowed ({MAX_ROWS_ENV})")


def read_table(
    path: str | Path,
    *,
    columns: Sequence[str] | None = None,
    allow_empty: bool = False,
    progress: Progress | None = None,
    dictionary_strings: bool = False,
) -> pd.DataFrame:
    """Read a whole CSV or Parquet file into a DataFrame.

    Raises CheckInputError (never a library traceback) when the file is missing,
    empty, unparseable, has duplicate column names or lacks a requested column.
    ``progress`` hears the bytes read of a CSV file, the rows of a Parquet file.

    ``dictionary_strings`` (opt-in, Parquet only; a CSV file is read as without it): the
    file's plain string columns come as pandas categoricals read straight from Parquet's
    dictionary pages (codes and the distinct strings), not as one Python str per value; their
    names are in ``frame.attrs[DICTIONARY_STRINGS]`` (``dictionary_string_columns``), so a
    caller can tell them from the file's own categorical columns and treat them as strings.
    """
    import pandas as pd

    p = _checked_path(path)
    limits = check_table_bounds(p)
    report = resolve(progress)
    stage = f"reading {p.name}"
    try:
        if p.suffix.lower() == ".csv":
            if report is NO_PROGRESS:
                frame = pd.read_csv(p, low_memory=False, nrows=limits.max_rows + 1)
            else:
                with p.open("rb") as raw:
                    # Rows so far (line breaks past the header) and the share of the file's bytes read.
                    counted = CountingReader(
                        raw,
                        p.stat().st_size,
                        lambda n, size: report(stage, max(counted.lines - 1, 0), fraction=n / max(size, 1)),
                    )
                    frame = pd.read_csv(
                        counted, low_memory=False, encoding="utf-8", nrows=limits.max_rows + 1
                    )
        else:
            frame = _read_parquet_dictionary_strings(p) if dictionary_strings else pd.read_parquet(p)
            report(stage, len(frame), len(frame))
    except UnicodeDecodeError as err:
        raise CheckInputError(f"{p} is not valid UTF-8 text: {err.reason} at byte {err.start}") from err
    except pd.errors.EmptyDataError as err:
        raise CheckInputError(f"empty file: {p}") from err
    except Exception as err:  # parser errors come in many library-specific types
        raise CheckInputError(
            f"cannot read {p}: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
        ) from err
    _row_bound(p, len(frame), limits)
    _check_columns(frame.columns, p)
    if not allow_empty and frame.empty:
        raise CheckInputError(f"{p} has no data rows")
    if columns:
        require_columns(frame, columns, source=str(p))
    return frame


def _read_parquet_dictionary_strings(p: Path) -> pd.DataFrame:
    """``pd.read_parquet(p)`` (its pyarrow engine's defaults), with the plain string columns read
    as dictionaries (pandas categoricals) and the frame's columns left in their own blocks (no
    consolidating copy of the numbers)."""
    import json

    import pyarrow.parquet as pq

    strings = _parquet_string_columns(pq.read_schema(p))
    table = pq.read_table(p, read_dictionary=strings or None, use_pandas_metadata=True)
    metadata = table.schema.metadata or {}
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    if b"PANDAS_ATTRS" in metadata:  # as pandas' reader restores them
        frame.attrs = json.loads(metadata[b"PANDAS_ATTRS"])
    frame.attrs[DICTIONARY_STRINGS] = strings
    return frame


def _parquet_string_columns(schema: pa.Schema) -> list[str]:
    """The top-level plain string columns of a Parquet file (not its pandas index columns)."""
    import pyarrow as pa

    index = {c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
    return [
        field.name
        for field in schema
        if (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
        and field.name not in index
        and "." not in field.name  # read_dictionary takes column paths: a dotted name is read as before
    ]


def dictionary_string_columns(frame: pd.DataFrame) -> frozenset[str]:
    """The string columns ``read_table(..., dictionary_strings=True)`` read as categoricals."""
    return frozenset(frame.attrs.get(DICTIONARY_STRINGS, ()))


def as_frame(
    data: pd.DataFrame | str | Path,
    *,
    what: str = "data",
    progress: Progress | None = None,
    dictionary_strings: bool = False,
) -> pd.DataFrame:
    """The table a check was given: a path's CSV/Parquet file (``read_table``), or a DataFrame
    built in code, which must have rows too (``what`` names it in the error).
    ``dictionary_strings`` is ``read_table``'s opt-in (a DataFrame is returned as given)."""
    if isinstance(data, (str, Path)):
        return read_table(data, progress=progress, dictionary_strings=dictionary_strings)
    if len(data) == 0:
        raise CheckInputError(f"{what} has no rows")
    return data


def iter_table_chunks(
    path: str | Path,
    *,
    chunk_rows: int = 50_000,
    progress: Progress | None = None,
    stage: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield a CSV or Parquet file in chunks of at most ``chunk_rows`` rows (bounded memory).

    ``progress`` hears, after each chunk is consumed, the rows so far under ``stage`` (default
    ``reading <file>``), with the share of the file's bytes (CSV) or of its rows (Parquet) done.
    """
    import pandas as pd

    p = _checked_path(path)
    limits = check_table_bounds(p)
    report = resolve(progress)
    stage = stage or f"reading {p.name}"
    rows = 0
    try:
        if p.suffix.lower() == ".csv":
            with p.open("rb") as raw:
                counted = CountingReader(raw, p.stat().st_size, lambda n, size: None)
                reader = pd.read_csv(
                    counted, chunksize=chunk_rows, dtype=str, keep_default_na=True, encoding="utf-8"
                )
                _check_columns([], p)
                for chunk in reader:
                    _row_bound(p, rows + len(chunk), limits)
                    yield chunk
                    rows += len(chunk)
                    report(stage, rows, fraction=counted.read_bytes / max(p.stat().st_size, 1))
        else:
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(p)
            _check_columns(parquet.schema_arrow.names, p)
            total = parquet.metadata.num_rows
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
                rows += batch.num_rows
                report(stage, rows, total)
    except CheckInputError:
        raise
    except UnicodeDecodeError as err:
        raise CheckInputError(f"{p} is not valid UTF-8 text: {err.reason} at byte {err.start}") from err
    except pd.errors.EmptyDataError as err:
        raise CheckInputError(f"empty file: {p}") from err
    except Exception as err:
        raise CheckInputError(
            f"cannot read {p}: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
        ) from err


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, source: str = "data") -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CheckInputError(f"column(s) missing from {source}: {', '.join(map(str, missing))}")


def _check_columns(names: Sequence[object], p: Path) -> None:
    # pandas silently renames duplicate CSV headers to "x.1": read the raw header instead.
    if p.suffix.lower() == ".csv":
        names = _csv_header(p)
    seen: set[str] = set()
    for name in map(str, names):
        if name in seen:
            raise CheckInputError(f"{p} has duplicate column name {name!r}")
        seen.add(name)


def _csv_header(p: Path) -> list[str]:
    import csv

    with p.open(newline="", encoding="utf-8", errors="replace") as handle:
        # Bounded read: a header line longer than this is not a table header.
        first = handle.readline(1_000_000)
    return next(csv.reader([first]), [])
