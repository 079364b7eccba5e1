"""Benchmark: nightly_compliance on the Celery stack for 10, 20 and 50 production models.

Starts a throwaway production stack (the `make prod-up` topology: two Celery workers of
``--concurrency`` slots each, worker-2 also on the heavy queue; PostgreSQL, Redis and
SeaweedFS on free loopback ports), trains the sample model once, and for each size seeds
that many new production models (artifacts, data and batches in s3://), so exactly they
are due, triggers nightly_compliance and waits for it. Per size it prints:

  wall       the run's start to end (Airflow)
  compute    the sum of the checks' own compute (check_results.duration_s of the run)
  ideal      compute / worker slots (perfect packing, no per-task cost)
  ratio      wall / ideal              (goal: <= 1.5)
  tasks/min  task instances of the run per minute of wall time
  task s     mean task duration (Airflow start to end) vs. mean check compute: the fixed cost

and wall per model (linear in models when it stays flat). The naive baseline is
``ideal``: the same checks with zero orchestration overhead, measured in the same run.

    python bench/bench_nightly.py                  # 10, 20, 50 models (about 15 min on 2 cores)
    python bench/bench_nightly.py --sizes 5        # a quick run
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "include"))

from govflow.prodstack import StackSettings, down, settle_nightly, up  # noqa: E402
from govflow.prodstack import _services as services  # noqa: E402
from govflow.prodstack._seed import seed_production_models  # noqa: E402
from govflow.prodstack.demo import train, wait_for_runs  # noqa: E402

NIGHTLY = "nightly_compliance"


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def compute_of(run_id: str) -> tuple[float, int]:
    """(sum of check durations, number of check results) recorded for the Airflow run."""
    from sqlalchemy import text

    from govflow.store import session_scope

    with session_scope() as session:
        row = session.execute(
            text(
                "SELECT COALESCE(SUM(c.duration_s), 0), COUNT(*) FROM check_results c "
                "JOIN runs r ON r.id = c.run_id WHERE r.run_id = :run AND r.dag_id = :dag"
            ),
            {"run": run_id, "dag": NIGHTLY},
        ).one()
    return float(row[0]), int(row[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,20,50", help="comma-separated model counts")
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per worker (2 workers)")
    parser.add_argument("--keep", action="store_true", help="leave the stack running (prints its folder)")
    parser.add_argument(
        "--no-preload-govflow",
        action="store_true",
        help="workers preload libraries only, not govflow's modules",
    )
    args = parser.parse_args(argv)
    # A stopped benchmark still stops its stack (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = [int(s) for s in args.sizes.split(",") if s]
    root = Path(tempfile.mkdtemp(prefix="govflow-bench-nightly-"))
    settings = StackSettings.ephemeral(
        root, concurrency=args.concurrency, preload_govflow=not args.no_preload_govflow
    )
    slots = args.concurrency * len(settings.workers)
    print(
        f"starting the stack under {root} ({len(settings.workers)} workers x {args.concurrency} slots)",
        flush=True,
    )
    t0 = time.monotonic()
    up(settings, timeout=600, say=lambda _: None)
    settle_nightly(settings)
    print(f"stack up in {time.monotonic() - t0:.0f}s", flush=True)
    os.environ.update(settings.client_env())
    from govflow.airflow_client import AirflowClient

    admin = AirflowClient(settings.api_url, "admin", settings.passwords()["admin"], timeout=60)
    rows = []
    try:
        trained = train(root)
        for size in sizes:
            tag = secrets.token_hex(3)
            names = [f"bench-{tag}-{i:03d}" for i in range(size)]
            seed_production_models(trained, names, bucket=settings.bucket, tag=tag)
            run = admin.trigger(NIGHTLY, {}, note=f"bench {size} models")
            run_id = run["dag_run_id"]
            done = wait_for_runs(admin, {run_id}, None, timeout=3600, dag_id=NIGHTLY)[run_id]
            wall = (_ts(done["end_date"]) - _ts(done["start_date"])).total_seconds()
            compute, results = compute_of(run_id)
            tis = admin.task_instances(NIGHTLY, run_id)
            durations = [t["duration"] for t in tis if t.get("duration")]
            ideal = compute / slots
            rows.append(
                {
                    "models": size,
                    "state": done["state"],
                    "wall": wall,
                    "compute": compute,
                    "ideal": ideal,
                    "ratio": wall / ideal if ideal else float("inf"),
                    "tasks": len(tis),
                    "tpm": len(tis) / wall * 60,
                    "task_s": sum(durations) / max(1, len(durations)),
                    "check_s": compute / max(1, results),
                    "results": results,
                }
            )
            r = rows[-1]
            print(
                f"{size} models: {r['state']}, wall {wall:.1f}s, {results} check results, {len(tis)} tasks",
                flush=True,
            )
    finally:
        if args.keep:
            print(f"stack left running under {root}: python -m govflow.prodstack down --root {root}")
        else:
            down(settings, keep_postgres=False, say=lambda _: None)
            services.remove_private_postgres(settings)
    print(
        f"\nnightly_compliance on CeleryExecutor: 2 workers x {args.concurrency} slots = {slots} slots; "
        f"govflow preloaded in workers: {settings.preload_govflow}"
    )
    print(
        f"{'models':>6} {'state':>8} {'wall s':>8} {'compute s':>10} {'ideal s':>8} {'ratio':>6} "
        f"{'tasks':>6} {'tasks/min':>9} {'task s':>7} {'check s':>8} {'wall/model':>10}"
    )
    for r in rows:
        print(
            f"{r['models']:>6} {r['state']:>8} {r['wall']:>8.1f} {r['compute']:>10.1f} {r['ideal']:>8.1f} "
            f"{r['ratio']:>6.2f} {r['tasks']:>6} {r['tpm']:>9.1f} {r['task_s']:>7.2f} {r['check_s']:>8.2f} "
            f"{r['wall'] / r['models']:>10.2f}"
        )
    return 0 if all(r["state"] == "success" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
