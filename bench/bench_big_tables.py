"""Benchmark: fairness and drift on tables bigger than a worker, through DuckDB and in PostgreSQL.

1. Generates Parquet files of ``--rows`` rows (predictions, labels, 20 float features,
   12 groups), written one row group of 1M rows at a time so memory stays bounded, and
   a "current" file with two features shifted.
2. Runs ``govflow check fairness`` and ``govflow check drift`` as whole processes through
   DuckDB (``--engine duckdb``) and, on ``--memory-rows`` rows (the largest size that fits
   a worker here), through the in-memory path; each process's wall time and peak RSS
   (``resource.getrusage(RUSAGE_CHILDREN)`` of a wrapper that runs only that process).
3. The libraries on ``--library-rows`` rows (default 1M): Fairlearn's MetricFrame and
   demographic parity / equalized odds differences, Evidently's DataDriftPreset report.
4. PostgreSQL (``--pg-rows``, default 1M; ``--no-pg`` skips): the table loaded into a
   throwaway database, checked in the database (``--data conn://...``, engine sql) beside
   reading it out with pandas and checking in memory.

    python bench/bench_big_tables.py                          # 10M rows
    python bench/bench_big_tables.py --rows 100000000         # 100M rows (~25 GB of disk)
    python bench/bench_big_tables.py --rows 2000000 --memory-rows 1000000 --pg-rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

GROUPS = [f"g{i:02d}" for i in range(12)]
FEATURES = [f"f{i:02d}" for i in range(20)]
ROW_GROUP = 1_000_000


def generate(path: Path, rows: int, *, seed: int, shift: bool = False) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    done = 0
    while done < rows:
        n = min(ROW_GROUP, rows - done)
        group = rng.integers(0, 12, n)
        label = (rng.random(n) < 0.3 + 0.02 * group).astype(np.int8)
        flip = rng.random(n) < 0.1 + 0.01 * group
        columns = {
            "group": pa.DictionaryArray.from_arrays(pa.array(group.astype(np.int32)), pa.array(GROUPS)),
            "label": pa.array(label),
            "prediction": pa.array(np.where(flip, 1 - label, label).astype(np.int8)),
        }
        for i, name in enumerate(FEATURES):
            values = rng.normal(i, 1 + i / 10, n).astype(np.float32)
            if shift and i < 2:
                values += 0.5 * (1 + i / 10)
            columns[name] = pa.array(values)
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        done += n
    assert writer is not None
    writer.close()


def measure(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall time and peak RSS of one process (run by a fresh wrapper so the peak is its own)."""
    wrapper = (
        "import resource, subprocess, sys, time, json; t = time.perf_counter(); "
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
        "print(json.dumps({'rc': rc, 'seconds': time.perf_counter() - t, "
        "'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *command],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def govflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "govflow", "check", *args, "--json", "--quiet"]


def fairness_args(data: str, engine: str) -> list[str]:
    return govflow(
        "fairness",
        "--data",
        data,
        "--label",
        "label",
        "--prediction",
        "prediction",
        "--sensitive",
        "group",
        "--engine",
        engine,
    )


def drift_args(reference: str, current: str, engine: str) -> list[str]:
    return govflow("drift", "--reference", reference, "--current", current, "--engine", engine)


LIBRARIES = """
import sys, pandas as pd
kind, path, current = sys.argv[1], sys.argv[2], sys.argv[3]
frame = pd.read_parquet(path)
if kind == "fairlearn":
    from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate, false_positive_rate
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
    from sklearn.metrics import accuracy_score
    y, p, g = frame["label"], frame["prediction"], frame["group"]
    MetricFrame(metrics={"selection_rate": selection_rate, "accuracy": accuracy_score,
                         "tpr": true_positive_rate, "fpr": false_positive_rate},
                y_true=y, y_pred=p, sensitive_features=g).by_group
    demographic_parity_difference(y, p, sensitive_features=g)
    equalized_odds_difference(y, p, sensitive_features=g)
else:
    from evidently import Report
    from evidently.presets import DataDriftPreset
    cols = [c for c in frame.columns if c.startswith("f")]
    Report([DataDriftPreset(columns=cols)]).run(pd.read_parquet(current)[cols], frame[cols]).dict()
"""

READ_OUT = """
import sys, pandas as pd, sqlalchemy as sa
from govflow.checks.fairness import evaluate_fairness
frame = pd.read_sql_table(sys.argv[2], sa.create_engine(sys.argv[1]))
print(evaluate_fairness(frame, label="label", prediction="prediction", sensitive=["group"]).status)
"""


def row(name: str, rows: int, result: dict[str, float]) -> None:
    status = "" if result["rc"] in (0, 1) else f"  (exit {result['rc']})"
    print(f"| {name:<52} | {rows:>12,} | {result['seconds']:>8.1f} | {result['peak_mb']:>8.0f} |{status}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--memory-rows", type=int, default=2_000_000)
    parser.add_argument("--library-rows", type=int, default=1_000_000)
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-libraries", action="store_true")
    parser.add_argument("--folder", type=Path, help="keep the generated files here (default: a temp folder)")
    args = parser.parse_args()

    folder = args.folder or Path(tempfile.mkdtemp(prefix="govflow-big-"))
    folder.mkdir(parents=True, exist_ok=True)
    sizes = sorted({args.rows, args.memory_rows, args.library_rows})
    files: dict[int, tuple[Path, Path]] = {}
    for n in sizes:
        ref, cur = folder / f"ref_{n}.parquet", folder / f"cur_{n}.parquet"
        started = time.perf_counter()
        if not ref.exists():
            generate(ref, n, seed=1)
        if not cur.exists():
            generate(cur, n, seed=2, shift=True)
        print(
            f"# {n:,} rows: {ref.stat().st_size / 1e9:.2f} GB per file, "
            f"generated in {time.perf_counter() - started:.0f} s"
        )
        files[n] = (ref, cur)

    print(f"| {'run':<52} | {'rows':>12} | {'wall s':>8} | {'peak MB':>8} |")
    print(f"|{'-' * 54}|{'-' * 14}|{'-' * 10}|{'-' * 10}|")
    ref, cur = files[args.rows]
    row("check fairness, DuckDB", args.rows, measure(fairness_args(str(cur), "duckdb")))
    row("check drift (2 files), DuckDB", args.rows, measure(drift_args(str(ref), str(cur), "duckdb")))
    ref, cur = files[args.memory_rows]
    row("check fairness, in memory", args.memory_rows, measure(fairness_args(str(cur), "memory")))
    row("check fairness, DuckDB", args.memory_rows, measure(fairness_args(str(cur), "duckdb")))
    row(
        "check drift (2 files), in memory",
        args.memory_rows,
        measure(drift_args(str(ref), str(cur), "memory")),
    )
    row("check drift (2 files), DuckDB", args.memory_rows, measure(drift_args(str(ref), str(cur), "duckdb")))
    if not args.no_libraries:
        ref, cur = files[args.library_rows]
        library = [sys.executable, "-c", LIBRARIES]
        row(
            "Fairlearn MetricFrame + disparities (pandas)",
            args.library_rows,
            measure([*library, "fairlearn", str(cur), str(cur)]),
        )
        row("check fairness, DuckDB", args.library_rows, measure(fairness_args(str(cur), "duckdb")))
        row(
            "Evidently DataDriftPreset (pandas)",
            args.library_rows,
            measure([*library, "evidently", str(ref), str(cur)]),
        )
        row(
            "check drift (2 files), DuckDB",
            args.library_rows,
            measure(drift_args(str(ref), str(cur), "duckdb")),
        )
    if not args.no_pg:
        bench_pg(folder, args.pg_rows)


def bench_pg(folder: Path, rows: int) -> None:
    import duckdb
    import sqlalchemy as sa

    admin_url = os.environ.get(
        "GOVFLOW_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    name = f"govflow_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name)
    try:
        source = folder / f"pg_{rows}.parquet"
        if not source.exists():
            generate(source, rows, seed=3)
        csv = folder / f"pg_{rows}.csv"
        duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet('{source}')) TO '{csv}' (HEADER)")
        engine = sa.create_engine(url)
        columns = ", ".join(
            ['"group" text', '"label" smallint', '"prediction" smallint'] + [f'"{f}" real' for f in FEATURES]
        )
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"CREATE TABLE bench ({columns})")
            with csv.open() as handle:
                cursor.copy_expert("COPY bench FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
            raw.commit()
        finally:
            raw.close()
        engine.dispose()
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        env = {"AIRFLOW_CONN_BENCH_PG": plain}
        row(
            "check fairness in PostgreSQL (engine sql)",
            rows,
            measure(fairness_args("conn://bench_pg/public.bench", "sql"), env),
        )
        row(
            "read the table out (pandas) + fairness in memory",
            rows,
            measure([sys.executable, "-c", READ_OUT, url.render_as_string(hide_password=False), "bench"]),
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
