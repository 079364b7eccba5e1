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


def generator_sql(rows: int, *, shift: bool = False) -> str:
    """The bench table as one DuckDB query: 12 groups, a binary label and prediction (error rate
    rising by group), 20 normal float32 features (Box-Muller, two per pair of uniforms);
    ``shift`` moves f00 and f01 by half their spread (the current data that drifts). DuckDB's
    ``random()`` (a hash of the row number was 10x slower): the sizes and distributions are
    reproducible, the rows are not."""
    features = []
    for pair in range(10):
        radius, angle = f"sqrt(-2 * ln(1 - u{2 * pair}))", f"2 * pi() * u{2 * pair + 1}"
        for k, trig in enumerate(("cos", "sin")):
            i = 2 * pair + k
            offset = 0.5 * (1 + i / 10) if shift and i < 2 else 0.0
            mean, spread = i + offset, 1 + i / 10
            features.append(f"CAST({mean} + {spread} * {radius} * {trig}({angle}) AS FLOAT) AS f{i:02d}")
    uniforms = ", ".join(f"random() AS u{j}" for j in range(20))
    return (
        "SELECT 'g' || lpad(CAST(g AS VARCHAR), 2, '0') AS \"group\", label, "
        "CAST(CASE WHEN flip THEN 1 - label ELSE label END AS TINYINT) AS prediction, "
        + ", ".join(features)
        + " FROM (SELECT *, CAST(random() < 0.3 + 0.02 * g AS TINYINT) AS label, "
        "random() < 0.1 + 0.01 * g AS flip "
        f"FROM (SELECT CAST(floor(random() * 12) AS INTEGER) AS g, {uniforms} FROM range({int(rows)})))"
    )


def generate(path: Path, rows: int, *, shift: bool = False) -> None:
    """Writes the bench table with DuckDB (streamed: a few hundred MB whatever ``rows`` is)."""
    import duckdb

    fmt = "FORMAT parquet, ROW_GROUP_SIZE 1000000" if path.suffix == ".parquet" else "HEADER"
    connection = duckdb.connect(config={"memory_limit": "1GB", "preserve_insertion_order": False})
    try:
        connection.execute(f"COPY ({generator_sql(rows, shift=shift)}) TO '{path}' ({fmt})")
    finally:
        connection.close()


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
import io, sys, pandas as pd, sqlalchemy as sa
from govflow.checks.fairness import evaluate_fairness
# The fast way out: COPY of the three columns the check reads, not pandas.read_sql of all 23.
raw = sa.create_engine(sys.argv[1]).raw_connection()
buffer = io.StringIO()
query = 'COPY (SELECT "group", label, prediction FROM bench) TO STDOUT WITH CSV HEADER'
raw.cursor().copy_expert(query, buffer)
buffer.seek(0)
frame = pd.read_csv(buffer, dtype={"label": "int8", "prediction": "int8"})
del buffer
print(evaluate_fairness(frame, label="label", prediction="prediction", sensitive=["group"]).status)
"""
# The worker budget the DuckDB runs get: DuckDB's own memory_limit is half of it.
BUDGET = {"GOVFLOW_MAX_WORKER_MEMORY": "2G"}


class Table:
    """The printed Markdown table; a run measured against a baseline shows the ratios."""

    def __init__(self) -> None:
        print(
            f"| {'run (whole process)':<50} | {'rows':>13} | {'wall s':>7} | {'peak MB':>7} | vs baseline |"
        )
        print(f"| {'-' * 50} | {'-' * 12}: | {'-' * 6}: | {'-' * 6}: | --- |")

    def row(
        self, name: str, rows: str, result: dict[str, float], baseline: dict[str, float] | None = None
    ) -> dict[str, float]:
        ratio = ""
        if baseline is not None:
            ratio = (
                f"{baseline['seconds'] / result['seconds']:.1f}x faster, "
                f"{baseline['peak_mb'] / result['peak_mb']:.1f}x less memory"
            )
        if result["rc"] not in (0, 1):
            ratio += f" (exit {result['rc']})"
        print(
            f"| {name:<50} | {rows:>13} | {result['seconds']:>7.1f} | {result['peak_mb']:>7,.0f} | {ratio} |",
            flush=True,
        )
        return result


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
    parser.add_argument("--delete", action="store_true", help="delete the generated files at the end")
    parser.add_argument("--pg-only", action="store_true", help="only the PostgreSQL runs (a second process)")
    args = parser.parse_args()

    folder = args.folder or Path(tempfile.mkdtemp(prefix="govflow-big-"))
    folder.mkdir(parents=True, exist_ok=True)
    sizes = sorted({args.rows, args.memory_rows} | (set() if args.no_libraries else {args.library_rows}))
    files: dict[int, tuple[Path, Path]] = {}
    try:
        if args.pg_only:
            bench_pg(Table(), folder, args.pg_rows)
            return
        for n in sizes:
            files[n] = _files(folder, n)
        table = Table()
        ref, cur = files[args.rows]
        n = f"{args.rows:,}"
        table.row("`check fairness --engine duckdb`", n, measure(fairness_args(str(cur), "duckdb"), BUDGET))
        table.row(
            "`check drift --engine duckdb` (2 files)",
            f"{n} x 2",
            measure(drift_args(str(ref), str(cur), "duckdb"), BUDGET),
        )
        ref, cur = files[args.memory_rows]
        n = f"{args.memory_rows:,}"
        base = table.row("`check fairness --engine memory`", n, measure(fairness_args(str(cur), "memory")))
        table.row(
            "`check fairness --engine duckdb`", n, measure(fairness_args(str(cur), "duckdb"), BUDGET), base
        )
        base = table.row(
            "`check drift --engine memory` (2 files)",
            f"{n} x 2",
            measure(drift_args(str(ref), str(cur), "memory")),
        )
        table.row(
            "`check drift --engine duckdb` (2 files)",
            f"{n} x 2",
            measure(drift_args(str(ref), str(cur), "duckdb"), BUDGET),
            base,
        )
        if not args.no_libraries:
            ref, cur = files[args.library_rows]
            n = f"{args.library_rows:,}"
            library = [sys.executable, "-c", LIBRARIES]
            base = table.row(
                "Fairlearn `MetricFrame` + disparities (pandas)",
                n,
                measure([*library, "fairlearn", str(cur), str(cur)]),
            )
            table.row(
                "`check fairness --engine duckdb`",
                n,
                measure(fairness_args(str(cur), "duckdb"), BUDGET),
                base,
            )
            base = table.row(
                "Evidently `DataDriftPreset` (pandas)",
                f"{n} x 2",
                measure([*library, "evidently", str(ref), str(cur)]),
            )
            table.row(
                "`check drift --engine duckdb` (2 files)",
                f"{n} x 2",
                measure(drift_args(str(ref), str(cur), "duckdb"), BUDGET),
                base,
            )
        if not args.no_pg:
            bench_pg(table, folder, args.pg_rows)
    finally:
        if args.delete:
            for path in folder.glob("*"):
                path.unlink()


def _files(folder: Path, n: int) -> tuple[Path, Path]:
    ref, cur = folder / f"ref_{n}.parquet", folder / f"cur_{n}.parquet"
    started = time.perf_counter()
    if not ref.exists():
        generate(ref, n)
    if not cur.exists():
        generate(cur, n, shift=True)
    print(
        f"# {n:,} rows: {ref.stat().st_size / 1e9:.2f} GB per file, "
        f"generated (DuckDB) in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return ref, cur


def bench_pg(table: Table, folder: Path, rows: int) -> None:
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
        started = time.perf_counter()
        engine = sa.create_engine(url)
        columns = ", ".join(
            ['"group" text', '"label" smallint', '"prediction" smallint'] + [f'"{f}" real' for f in FEATURES]
        )
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for relation, shift in (("bench", False), ("bench_cur", True)):
                csv = folder / f"pg_{relation}_{rows}.csv"
                generate(csv, rows, shift=shift)
                cursor.execute(f"CREATE TABLE {relation} ({columns})")
                with csv.open() as handle:
                    cursor.copy_expert(f"COPY {relation} FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
                raw.commit()
                csv.unlink()
                cursor.execute(f"ANALYZE {relation}")
                raw.commit()
        finally:
            raw.close()
        engine.dispose()
        print(
            f"# PostgreSQL: 2 tables of {rows:,} rows loaded in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        env = {"AIRFLOW_CONN_BENCH_PG": plain}
        n = f"{rows:,}"
        base = table.row(
            "table read out (COPY, 3 columns) + fairness in memory",
            n,
            measure([sys.executable, "-c", READ_OUT, url.render_as_string(hide_password=False)]),
        )
        table.row(
            "`check fairness --data conn://...` (in PostgreSQL)",
            n,
            measure(fairness_args("conn://bench_pg/public.bench", "sql"), env),
            base,
        )
        table.row(
            "`check drift` on two tables (in PostgreSQL)",
            f"{n} x 2",
            measure(
                drift_args("conn://bench_pg/public.bench", "conn://bench_pg/public.bench_cur", "sql"), env
            ),
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
