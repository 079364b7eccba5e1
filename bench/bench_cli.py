"""Benchmark: govflow's checks as whole processes (`govflow check drift|fairness --json`) vs. the plain
library calls as whole processes (python start + imports + read + compute), on the same Parquet files.

    drift:     2 x 1M rows x 20 columns (bench_drift's frames)  vs  Evidently Report([DataDriftPreset()])
    fairness:  1M rows, sex x race                             vs  Fairlearn MetricFrame + disparities

Prints each process's wall time (and its CPU time, user + system: less sensitive to other load on the
machine), the ratio, whether the numbers agree (drifted columns and largest score difference; group
metrics and disparities), govflow's own check time (``duration_s``: importing pandas, reading, computing) and
its start-up time (the same command with --help: interpreter, imports, parser). The libraries of both
sides are imported once before timing, so neither process reads them from a cold page cache.

    python bench/bench_cli.py              # 1,000,000 rows (the target: >= 40x for both)
    python bench/bench_cli.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOVFLOW = str(Path(sys.executable).with_name("govflow"))

DRIFT_BASELINE = """
import json, sys, pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
sys.path.insert(0, {here!r})
from bench_drift import evidently_columns
reference, current = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference)
print(json.dumps(evidently_columns(snapshot)))
"""

FAIRNESS_BASELINE = """
import json, sys, pandas as pd
sys.path.insert(0, {here!r})
from bench_fairness import fairlearn_baseline
by_group, disparities = fairlearn_baseline(pd.read_parquet(sys.argv[1]))
print(json.dumps({{"by_group": by_group, "disparities": disparities}}, default=float))
"""


WARM_UP = "import pandas, pyarrow.parquet, evidently.presets, fairlearn.metrics, sklearn.metrics"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str]) -> tuple[float, str, float]:
    """Run ``command``: its wall time, its stdout and its CPU time (user + system)."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: the check failed (drift found), still a result
        raise RuntimeError(f"{' '.join(command[:4])} exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed, done.stdout, _children_cpu() - cpu_before


def startup_seconds(args: list[str]) -> float:
    """Wall time of ``govflow <args> --help``: interpreter start, govflow's imports, the parser."""
    return timed([GOVFLOW, *args, "--help"])[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    work = Path(tempfile.mkdtemp(prefix="govflow-bench-cli-"))
    try:
        return _run(args.rows, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # ~200 MB of Parquet at 1M rows


def _run(rows: int, work: Path) -> int:
    from bench_drift import make_frames
    from bench_fairness import make_frame

    reference, current = make_frames(rows, 0)
    reference.to_parquet(work / "reference.parquet")
    current.to_parquet(work / "current.parquet")
    make_frame(rows, 0).to_parquet(work / "fairness.parquet")
    del reference, current
    print(f"files in {work}: 2 x {rows:,} x 20 (drift), {rows:,} rows (fairness)")

    drift_cmd = [
        GOVFLOW,
        "check",
        "drift",
        "--reference",
        str(work / "reference.parquet"),
        "--current",
        str(work / "current.parquet"),
        "--json",
    ]
    fair_args = [
        "check",
        "fairness",
        "--data",
        str(work / "fairness.parquet"),
        "--label",
        "label",
        "--prediction",
        "prediction",
        "--sensitive",
        "sex",
        "--sensitive",
        "race",
        "--json",
    ]
    timed([*drift_cmd[:3], "--help"])  # warm the page cache for the interpreter and libraries
    timed([sys.executable, "-c", WARM_UP])  # and for the baselines' libraries
    ours_s, ours_out, ours_cpu = timed(drift_cmd)
    base_s, base_out, base_cpu = timed(
        [
            sys.executable,
            "-c",
            DRIFT_BASELINE.format(here=str(HERE)),
            str(work / "reference.parquet"),
            str(work / "current.parquet"),
        ]
    )
    ours_check_s = json.loads(ours_out)["duration_s"]
    ours, theirs = json.loads(ours_out)["columns"], json.loads(base_out)
    same = sorted(c for c, e in ours.items() if e["drifted"]) == sorted(c for c, v in theirs.items() if v[1])
    diff = max(abs(ours[c]["score"] - theirs[c][0]) for c in theirs)
    print(
        f"drift    govflow check drift: {ours_s:7.2f} s   Evidently preset process: {base_s:7.2f} s   "
        f"ratio {base_s / ours_s:5.1f}x   same drifted columns: {same}; largest score difference {diff:.3g}; "
        f"govflow start-up (--help) {startup_seconds(drift_cmd[1:3]):.2f} s"
    )
    _print_split(ours_s, ours_cpu, ours_check_s, base_s, base_cpu)

    ours_s, ours_out, ours_cpu = timed([GOVFLOW, *fair_args])
    base_s, base_out, base_cpu = timed(
        [sys.executable, "-c", FAIRNESS_BASELINE.format(here=str(HERE)), str(work / "fairness.parquet")]
    )
    ours, theirs = json.loads(ours_out), json.loads(base_out)
    metric_diff = max(
        abs(ours["by_group"][g][m] - v) for g, row in theirs["by_group"].items() for m, v in row.items()
    )
    disparity_diff = max(abs(ours["summary"][k] - v) for k, v in theirs["disparities"].items())
    print(
        f"fairness govflow check fairness: {ours_s:5.2f} s   MetricFrame process: {base_s:7.2f} s   "
        f"ratio {base_s / ours_s:5.1f}x   largest difference: groups {metric_diff:.3g}, disparities "
        f"{disparity_diff:.3g}; govflow start-up (--help) {startup_seconds(fair_args[:2]):.2f} s"
    )
    _print_split(ours_s, ours_cpu, ours["duration_s"], base_s, base_cpu)
    return 0


def _print_split(ours_s: float, ours_cpu: float, check_s: float, base_s: float, base_cpu: float) -> None:
    print(
        f"         govflow: {check_s:.2f} s in the check (pandas/pyarrow import, read, compute), "
        f"{ours_s - check_s:.2f} s around it (interpreter, govflow imports, parse, output); "
        f"CPU time govflow {ours_cpu:.2f} s, baseline {base_cpu:.2f} s, "
        f"ratio {base_cpu / max(ours_cpu, 1e-9):5.1f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
