"""Reading CSV and Parquet tables for checks, with one-line errors for bad files."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govflow.checks._result import CheckInputError
from govflow.progress import NO_PROGRESS, CountingReader, Progress, resolve

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")
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
    report = resolve(progress)
    stage = f"reading {p.name}"
    try:
        if p.suffix.lower() == ".csv":
            if report is NO_PROGRESS:
                frame = pd.read_csv(p, low_memory=False)
            else:
                with p.open("rb") as raw:
                    # Rows so far (line breaks past the header) and the share of the file's bytes read.
                    counted = CountingReader(
                        raw,
                        p.stat().st_size,
                        lambda n, size: report(stage, max(counted.lines - 1, 0), fraction=n / max(size, 1)),
                    )
                    frame = pd.read_csv(counted, low_memory=False, encoding="utf-8")
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
