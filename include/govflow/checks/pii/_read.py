"""Reading a table for the PII scan in chunks, as it comes: repeated column names are kept.

A file from the wild may repeat a header ("name", "name"); refusing it would
leave its PII unscanned. Each repeat gets a distinct, stable key that says it
repeats: the first ``name`` stays ``name``, the second is ``name (2)``, the
third ``name (3)`` (skipping keys the file already uses).

Keys are clean: a byte-order mark, zero-width characters and surrounding whitespace are
dropped (``"\\ufeffHost Id"`` -> ``Host Id``, ``" Name"`` -> ``Name``), so a policy or a
reader keyed by the column name finds it; ``raw_headers`` keeps the names as written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govflow.checks._io import check_table_bounds
from govflow.checks._result import CheckInputError
from govflow.progress import CountingReader, Progress

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = (".csv", ".parquet", ".pq")
# Missing cells as database dumps write them (MySQL and PostgreSQL COPY write NULL as \N), beside
# pandas' own markers (NA, NULL, N/A...): a column of them is empty, not 900 short "values".
NULL_MARKERS = ["\\N"]
MAX_HEADER_CHARS = 1_000_000  # a longer first line is not a header


_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u00a0"


def clean_name(name: object) -> str:
    """A header without byte-order mark, zero-width characters or surrounding whitespace."""
    return str(name).strip().strip(_INVISIBLE).strip()


def raw_headers(names: Sequence[object]) -> dict[str, str]:
    """``{key: name as written}`` for the columns whose key was cleaned."""
    keys, _ = column_keys(names)
    return {key: str(name) for key, name in zip(keys, names, strict=True) if str(name) != key}


def column_keys(names: Sequence[object]) -> tuple[list[str], dict[str, str]]:
    """Unique clean keys for the columns, and ``{key: clean name}`` for the repeats."""
    originals = [clean_name(n) or f"(column {i + 1})" for i, n in enumerate(names)]
    taken = set(originals)
    seen: dict[str, int] = {}
    keys: list[str] = []
    repeats: dict[str, str] = {}
    for name in originals:
        seen[name] = seen.get(name, 0) + 1
        if seen[name] == 1:
            keys.append(name)
            continue
        n = seen[name]
        key = f"{name} ({n})"
        while key in taken:
            n += 1
            key = f"{name} ({n})"
        taken.add(key)
        keys.append(key)
        repeats[key] = name
    return keys, repeats


def _checked(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise CheckInputError(f"file not found: {p}")
    if not p.is_file():
        raise CheckInputError(f"not a file: {p}")
    if p.suffix.lower() not in SUFFIXES:
        raise CheckInputError(f"unsupported file type {p.suffix or '(none)'!r} for {p}: use .csv or .parquet")
    if p.stat().st_size == 0:
        raise CheckInputError(f"empty file: {p}")
    check_table_bounds(p)  # size, columns and a Parquet file's declared rows, before any is read
    return p


def _csv_header(p: Path) -> list[str]:
    import csv

    with p.open(newline="", encoding="utf-8") as handle:
        first = handle.readline(MAX_HEADER_CHARS)
    return next(csv.reader([first]), [])


def _frame_chunks(frame: pd.DataFrame, chunk_rows: int, progress: Progress) -> Iterator[pd.DataFrame]:
    keys, _ = column_keys(list(frame.columns))
    for start in range(0, len(frame), chunk_rows):
        chunk = frame.iloc[start : start + chunk_rows]
        yield chunk.set_axis(keys, axis=1)
        progress("pii: scanning rows", min(start + chunk_rows, len(frame)), len(frame))


# A chunk of a CSV file holds about this much text: pandas keeps each cell as a Python string
# (about six times the text in memory), so wide or long rows get fewer rows a chunk.
CHUNK_BYTES = 8_000_000
MIN_CHUNK_ROWS = 1_000
_PROBE_BYTES = 1_000_000


def csv_chunk_rows(p: Path, chunk_rows: int) -> int:
    """Rows a chunk of CSV file ``p``: ``chunk_rows`` at most, fewer when the rows at the start of
    the file are long enough that ``chunk_rows`` of them would exceed ``CHUNK_BYTES``."""
    with p.open("rb") as handle:
        probe = handle.read(_PROBE_BYTES)
    lines = max(probe.count(b"\n"), 1)
    return max(min(chunk_rows, MIN_CHUNK_ROWS), min(chunk_rows, CHUNK_BYTES * lines // max(len(probe), 1)))


def _file_chunks(p: Path, chunk_rows: int, progress: Progress) -> Iterator[pd.DataFrame]:
    import pandas as pd

    stage = f"pii: scanning {p.name}"
    rows = 0
    if p.suffix.lower() == ".csv":
        keys, _ = column_keys(_csv_header(p))
        size = max(p.stat().st_size, 1)
        with p.open("rb") as raw:
            counted = CountingReader(raw, size, lambda n, total: None)
            # names= replaces the header (pandas would rename repeats to "x.1" on its own).
            reader = pd.read_csv(
                counted,
                chunksize=csv_chunk_rows(p, chunk_rows),
                dtype=str,
                header=0,
                names=keys,
                encoding="utf-8",
                index_col=False,
                na_values=NULL_MARKERS,
            )
            for chunk in reader:
                yield chunk
                rows += len(chunk)
                progress(stage, rows, fraction=counted.read_bytes / size)
        return
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(p)
    keys, _ = column_keys(parquet.schema_arrow.names)
    total = parquet.metadata.num_rows
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        yield batch.rename_columns(keys).to_pandas()
        rows += batch.num_rows
        progress(stage, rows, total)


def table_chunks(
    data: str | Path | pd.DataFrame, chunk_rows: int, progress: Progress
) -> tuple[list[str], dict[str, str], dict[str, str], Iterator[pd.DataFrame]]:
    """Column keys, repeats, raw headers (``raw_headers``) and the chunks (columns keyed) of a
    file or a DataFrame;
    ``progress`` hears the rows read after each chunk.

    Bad files raise CheckInputError with one line, at the first chunk at the latest."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        keys, repeats = column_keys(list(data.columns))
        return keys, repeats, raw_headers(list(data.columns)), _frame_chunks(data, chunk_rows, progress)
    if not isinstance(data, (str, Path)):
        raise CheckInputError(f"data must be a file path or a pandas DataFrame, not {type(data).__name__}")
    p = _checked(data)
    try:
        if p.suffix.lower() == ".csv":
            names: list[object] = list(_csv_header(p))
        else:
            import pyarrow.parquet as pq

            names = list(pq.ParquetFile(p).schema_arrow.names)
    except UnicodeDecodeError as err:
        raise CheckInputError(f"{p} is not valid UTF-8 text: {err.reason} at byte {err.start}") from err
    except Exception as err:
        raise CheckInputError(f"cannot read {p}: {_first_line(err)}") from err
    keys, repeats = column_keys(names)
    return keys, repeats, raw_headers(names), _guarded(_file_chunks(p, chunk_rows, progress), p)


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _guarded(chunks: Iterator[pd.DataFrame], p: Path) -> Iterator[pd.DataFrame]:
    import pandas as pd

    try:
        yield from chunks
    except UnicodeDecodeError as err:
        raise CheckInputError(f"{p} is not valid UTF-8 text: {err.reason} at byte {err.start}") from err
    except pd.errors.EmptyDataError as err:
        raise CheckInputError(f"empty file: {p}") from err
    except Exception as err:  # parser errors come in many library-specific types
        raise CheckInputError(f"cannot read {p}: {_first_line(err)}") from err
