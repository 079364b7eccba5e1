"""Benchmark: govflow's drift check vs. a plain Evidently ``Report([DataDriftPreset()])`` on the same frames.

Reference and current frames of ``--rows`` rows x 20 columns (15 numeric, 5
categorical), with injected small and large shifts. Prints the time of both,
their ratio, whether the drifted-column sets are equal, the largest score
difference, and govflow's peak memory (tracemalloc, during the check) beside
the memory of the two frames.

    python bench/bench_drift.py                 # 1,000,000 rows (the target: >= 10x, <= 2x memory)
    python bench/bench_drift.py --rows 100000   # a quick run
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

CATEGORIES = {
    "channel": ["web", "app", "branch", "phone", "partner"],
    "region": [f"region_{i:02d}" for i in range(12)],
    "segment": ["retail", "sme", "corporate", "private"],
    "product": [f"product_{c}" for c in "abcdefghijklmnopqrst"],
    "device": ["android", "ios", "desktop", "tablet", "other", "unknown"],
}
# (column, kind, shift): shift in reference standard deviations for numbers; Evidently's
# threshold is 0.1 (normed Wasserstein), so 0.05 and 0.08 must stay quiet and 0.12 must drift.
NUMERIC = [
    ("income", "lognormal", 0.0),
    ("age", "int", 0.0),
    ("tenure_days", "int", 0.05),
    ("balance", "normal", 0.08),
    ("utilisation", "uniform", 0.0),
    ("score", "normal", 0.12),
    ("txn_count", "poisson", 0.0),
    ("txn_amount", "lognormal", 0.3),
    ("latency_ms", "exponential", 0.0),
    ("loan_amount", "normal", 1.0),
    ("rate", "normal", 0.0),
    ("limit", "int", 0.0),
    ("visits", "poisson", 0.5),
    ("ratio", "uniform", 0.0),
    ("debt", "normal", 0.02),
]
# (column, share of rows moved to the first category): JS distance grows with it.
CATEGORICAL_SHIFT = {"channel": 0.0, "region": 0.02, "segment": 0.0, "product": 0.25, "device": 0.1}


def make_frames(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def numeric(kind: str, n: int) -> np.ndarray:
        if kind == "normal":
            return rng.normal(100.0, 15.0, n)
        if kind == "lognormal":
            return rng.lognormal(3.0, 0.8, n)
        if kind == "uniform":
            return rng.uniform(0.0, 1.0, n)
        if kind == "exponential":
            return rng.exponential(40.0, n)
        if kind == "poisson":
            return rng.poisson(30.0, n).astype(np.int64)
        return rng.integers(18, 5000, n)

    reference: dict[str, object] = {}
    current: dict[str, object] = {}
    for name, kind, shift in NUMERIC:
        ref = numeric(kind, rows)
        cur = numeric(kind, rows)
        if shift:
            cur = cur + shift * float(np.std(ref))
            if ref.dtype.kind == "i":
                cur = np.round(cur).astype(np.int64)
        reference[name], current[name] = ref, cur
    for name, values in CATEGORIES.items():
        reference[name] = np.asarray(values, dtype=object)[rng.integers(0, len(values), rows)]
        cur = np.asarray(values, dtype=object)[rng.integers(0, len(values), rows)]
        moved = rng.random(rows) < CATEGORICAL_SHIFT[name]
        cur[moved] = values[0]
        current[name] = cur
    ref_frame, cur_frame = pd.DataFrame(reference), pd.DataFrame(current)
    # A few nulls, as real data has.
    for frame in (ref_frame, cur_frame):
        frame.loc[frame.index[::997], "income"] = np.nan
        frame.loc[frame.index[::1009], "device"] = None
    return ref_frame, cur_frame


def evidently_columns(snapshot: object) -> dict[str, tuple[float, bool]]:
    data = snapshot.dict()  # type: ignore[attr-defined]
    drifted = {
        t["metric_config"]["params"]["column"]: str(t["status"].value) == "FAIL"
        for t in data["tests"]
        if t["id"] == "drift"
    }
    return {
        m["config"]["column"]: (float(m["value"]), drifted[m["config"]["column"]])
        for m in data["metrics"]
        if m["config"]["type"].endswith("ValueDrift")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from evidently import Report
    from evidently.presets import DataDriftPreset

    from govflow.checks.drift import detect_drift

    t0 = time.perf_counter()
    reference, current = make_frames(args.rows, args.seed)
    frames_bytes = int(reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum())
    print(
        f"frames: 2 x {args.rows:,} rows x {reference.shape[1]} columns "
        f"({len(NUMERIC)} numeric, {len(CATEGORIES)} categorical), {frames_bytes / 2**20:,.1f} MiB, "
        f"built in {time.perf_counter() - t0:.1f}s"
    )
    detect_drift(reference.iloc[:2000], current.iloc[:2000])  # warm up imports, not timed

    rss_before = _rss_bytes()
    started = time.perf_counter()
    result = detect_drift(reference, current)
    govflow_s = time.perf_counter() - started
    assert result.status != "error", result.errors
    rss_growth = _peak_rss_bytes() - rss_before  # an upper bound: the peak may predate the check

    tracemalloc.start()
    detect_drift(reference, current)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference)
    evidently_s = time.perf_counter() - started
    baseline = evidently_columns(snapshot)

    ours = result.details["columns"]
    ours_drifted = sorted(c for c, e in ours.items() if e["drifted"])
    theirs_drifted = sorted(c for c, (_, drifted) in baseline.items() if drifted)
    max_diff = max(abs(ours[c]["score"] - baseline[c][0]) for c in baseline)
    print(f"{'column':<13} {'method':<14} {'govflow score':>16} {'Evidently score':>16}  drifted")
    for name, entry in ours.items():
        print(
            f"{name:<13} {entry['method']:<14} {entry['score']:>16.10f} {baseline[name][0]:>16.10f}  "
            f"{entry['drifted']!s:<5} / {baseline[name][1]!s}"
        )
    print(f"drifted columns govflow:   {ours_drifted}")
    print(f"drifted columns Evidently: {theirs_drifted}")
    print(
        f"same drifted-column set: {ours_drifted == theirs_drifted}; same columns tested: "
        f"{set(ours) == set(baseline)}; largest score difference: {max_diff:.3g}"
    )
    print(f"govflow detect_drift:                           {govflow_s:8.2f} s")
    print(f"Evidently Report([DataDriftPreset()]).run:      {evidently_s:8.2f} s")
    print(f"speed-up: {evidently_s / govflow_s:.1f}x (target >= 10x)")
    print(
        f"govflow peak traced memory during the check: {peak / 2**20:,.1f} MiB = "
        f"{peak / frames_bytes:.2f} x the two frames ({frames_bytes / 2**20:,.1f} MiB; target <= 2x)"
    )
    print(
        f"govflow peak RSS growth during the check: {max(rss_growth, 0) / 2**20:,.1f} MiB = "
        f"{max(rss_growth, 0) / frames_bytes:.2f} x the two frames"
    )
    print(f"process peak RSS (frames, both runs, Evidently included): {_peak_rss_bytes() / 2**20:,.0f} MiB")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


if __name__ == "__main__":
    main()
