"""What progress costs: reading a 1M-row CSV with pandas alone vs. through govflow's counting
reader with a live terminal display (rich, drawing into a buffer), side by side in one run.

    .venv/bin/python bench/bench_progress.py [ROWS]

Prints the best of 3 for each and the ratio (progress / plain); the frames must be equal.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path


class _Terminal(io.StringIO):
    def isatty(self) -> bool:  # rich draws as on a terminal
        return True


def main(rows: int = 1_000_000) -> int:
    import argparse

    import numpy as np
    import pandas as pd

    from govflow.checks._io import read_table
    from govflow.cli._progress import terminal_progress

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.csv"
        rng = np.random.default_rng(0)
        ids = pd.RangeIndex(rows)
        pd.DataFrame(
            {
                "id": ids,
                "email": "user" + ids.astype(str) + "@example.com",
                "age": rng.integers(18, 90, rows),
                "score": rng.random(rows),
            }
        ).to_csv(path, index=False)
        size_mb = path.stat().st_size / 1e6

        def plain() -> pd.DataFrame:
            return pd.read_csv(path, low_memory=False)

        screen = _Terminal()

        def with_progress() -> pd.DataFrame:
            with terminal_progress(argparse.Namespace(quiet=False), screen) as progress:
                return read_table(path, progress=progress)

        timings = {}
        frames = {}
        for name, fn in (("plain pandas.read_csv", plain), ("read_table + terminal progress", with_progress)):
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                frames[name] = fn()
                best = min(best, time.perf_counter() - started)
            timings[name] = best
        pd.testing.assert_frame_equal(*frames.values())
        print(f"{rows:,} rows, {size_mb:.1f} MB CSV; best of 3")
        for name, seconds in timings.items():
            print(f"  {name:<32} {seconds:7.3f} s  ({rows / seconds:,.0f} rows/s)")
        base, ours = timings.values()
        print(f"  ratio progress/plain: {ours / base:.3f} (drawn: {len(screen.getvalue()):,} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
