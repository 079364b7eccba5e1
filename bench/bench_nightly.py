"""Benchmark: nightly_compliance on the Celery stack for 10, 20 and 50 production models.

Starts a throwaway production stack (the `make prod-up` topology: two Celery workers of
``--concurrency`` slots each, worker-2 also on the heavy queue; PostgreSQL, Redis and
SeaweedFS on free loopback ports), trains the sample model once, and for each size seeds
that many new production models (artifacts, data and batches in s3://), so exactly they
are due, triggers nightly_compliance and waits for it. Each size runs twice, on new models
each time, in this order:

  grouped    govflow's shape: the models packed into one group per worker slot
             (GOVFLOW_NIGHTLY_PARALLELISM), one task per group and check
  per-model  the naive fan-out (the parallelism set above the model count through the
             Airflow Variable): one task per model and check

Per run it prints:

  wall       the run's start to end (Airflow)
  compute    the sum of the checks' own compute (check_results.duration_s of the run)
  ideal      compute / worker slots (perfect packing, no per-task cost)
  ratio      wall / ideal              (goal: <= 1.5)
  bound      the routing's lower bound: max(ideal, heavy checks' compute / heavy-queue slots)
  tasks/min  task instances of the run per minute of wall time
  task s     mean task duration (Airflow start to end) vs. mean check compute: the fixed cost

and wall per model (linear in models when it stays flat), and how much faster grouped is.

    python bench/bench_nightly.py                  # 10, 20, 50 models (about 25 min on 2 cores)
    python bench/bench_nightly.py --sizes 5        # a quick run
    python bench/bench_nightly.py --heavy-everywhere   # both workers also take the heavy queue
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

from govflow.prodstack import HEAVY_QUEUE, StackSettings, down, settle_nightly, up  # noqa: E402
from govflow.prodstack import _services as services  # noqa: E402
from govflow.prodstack._seed import seed_production_models  # noqa: E402
from govflow.prodstack.demo import train, wait_for_runs  # noqa: E402

NIGHTLY = "nightly_compliance"


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def compute_of(run_id: str) -> tuple[dict[str, float], int]:
    """(sum of check durations per check, number of check results) recorded for the Airflow run."""
    from sqlalchemy import func, select

    from govflow.store import CheckResultRow, Run, session_scope

    with session_scope() as session:
        rows = session.execute(
            select(CheckResultRow.check, func.coalesce(func.sum(CheckResultRow.duration_s), 0), func.count())
            .join(Run, CheckResultRow.run_id == Run.id)
            .where(Run.run_id == run_id, Run.dag_id == NIGHTLY)
            .group_by(CheckResultRow.check)
        ).all()
    return {name: float(total) for name, total, _ in rows}, sum(int(n) for *_, n in rows)


def run_nightly(admin, settings, trained, size: int, shape: str, slots: int, heavy_slots: int) -> dict:
    """Seed ``size`` new production models, run nightly_compliance over them, measure it."""
    from govflow.service.check_table import checks

    tag = secrets.token_hex(3)
    names = [f"bench-{tag}-{i:03d}" for i in range(size)]
    seed_production_models(trained, names, bucket=settings.bucket, tag=tag)
    # grouped: one group per slot; per-model: more groups than models, so each holds one model.
    admin.set_variable("GOVFLOW_NIGHTLY_PARALLELISM", str(slots if shape == "grouped" else 100_000))
    run_id = admin.trigger(NIGHTLY, {}, note=f"bench {size} models, {shape}")["dag_run_id"]
    done = wait_for_runs(admin, {run_id}, None, timeout=3600, dag_id=NIGHTLY)[run_id]
    wall = (_ts(done["end_date"]) - _ts(done["start_date"])).total_seconds()
    per_check, results = compute_of(run_id)
    compute = sum(per_check.values())
    heavy = sum(v for k, v in per_check.items() if k in checks() and checks()[k].heavy)
    tis = admin.task_instances(NIGHTLY, run_id)
    durations = [t["duration"] for t in tis if t.get("duration")]
    ideal = compute / slots
    row = {
        "models": size,
        "shape": shape,
        "state": done["state"],
        "wall": wall,
        "compute": compute,
        "ideal": ideal,
        "ratio": wall / ideal if ideal else float("inf"),
        "bound": max(ideal, heavy / heavy_slots),
        "tasks": len(tis),
        "tpm": len(tis) / wall * 60,
        "task_s": sum(durations) / max(1, len(durations)),
        "check_s": compute / max(1, results),
        "results": results,
        "per_check": per_check,
    }
    print(
        f"{size} models, {shape}: {row['state']}, wall {wall:.1f}s, {results} check results, "
        f"{len(tis)} tasks; " + ", ".join(f"{k} {v:.1f}s" for k, v in sorted(per_check.items())),
        flush=True,
    )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,20,50", help="comma-separated model counts")
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per worker (2 workers)")
    parser.add_argument("--keep", action="store_true", help="leave the stack running (prints its folder)")
    parser.add_argument("--grouped-only", action="store_true", help="skip the per-model baseline runs")
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="models of an unreported first run (fills the workers' object caches), 0 for none",
    )
    parser.add_argument(
        "--heavy-everywhere", action="store_true", help="both workers take the heavy queue too"
    )
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
    overrides = {}
    if args.heavy_everywhere:
        overrides["workers"] = {"worker-1": f"default,{HEAVY_QUEUE}", "worker-2": f"default,{HEAVY_QUEUE}"}
    settings = StackSettings.ephemeral(
        root, concurrency=args.concurrency, preload_govflow=not args.no_preload_govflow, **overrides
    )
    slots = args.concurrency * len(settings.workers)
    heavy_slots = args.concurrency * sum(HEAVY_QUEUE in q.split(",") for q in settings.workers.values())
    print(
        f"starting the stack under {root} ({len(settings.workers)} workers x {args.concurrency} slots, "
        f"{heavy_slots} on the heavy queue)",
        flush=True,
    )
    t0 = time.monotonic()
    up(settings, timeout=600, say=lambda _: None)
    settle_nightly(settings)
    print(f"stack up in {time.monotonic() - t0:.0f}s", flush=True)
    os.environ.update(settings.client_env())
    from govflow.airflow_client import AirflowClient

    admin = AirflowClient(settings.api_url, "admin", settings.passwords()["admin"], timeout=60)
    shapes = ("grouped",) if args.grouped_only else ("grouped", "per-model")
    rows = []
    try:
        trained = train(root)
        if args.warmup:  # a nightly fleet runs on warm workers: their object caches hold the shared files
            run_nightly(admin, settings, trained, args.warmup, "grouped", slots, heavy_slots)
        for size in sizes:
            for shape in shapes:
                rows.append(run_nightly(admin, settings, trained, size, shape, slots, heavy_slots))
    finally:
        if args.keep:
            print(f"stack left running under {root}: python -m govflow.prodstack down --root {root}")
        else:
            down(settings, keep_postgres=False, say=lambda _: None)
            services.remove_private_postgres(settings)
    print(
        f"\nnightly_compliance on CeleryExecutor: {len(settings.workers)} workers x {args.concurrency} slots "
        f"= {slots} slots ({heavy_slots} take the heavy queue); govflow preloaded in workers: "
        f"{settings.preload_govflow}"
    )
    print(
        f"{'models':>6} {'shape':>9} {'state':>8} {'wall s':>7} {'compute s':>9} {'ideal s':>7} "
        f"{'ratio':>5} {'bound s':>7} {'tasks':>5} {'tasks/min':>9} {'task s':>6} {'check s':>7} "
        f"{'wall/model':>10} {'vs per-model':>12}"
    )
    for r in rows:
        naive = next((n for n in rows if n["models"] == r["models"] and n["shape"] == "per-model"), None)
        speedup = f"{naive['wall'] / r['wall']:.2f}x" if naive and r["shape"] == "grouped" else ""
        print(
            f"{r['models']:>6} {r['shape']:>9} {r['state']:>8} {r['wall']:>7.1f} {r['compute']:>9.1f} "
            f"{r['ideal']:>7.1f} {r['ratio']:>5.2f} {r['bound']:>7.1f} {r['tasks']:>5} {r['tpm']:>9.1f} "
            f"{r['task_s']:>6.2f} {r['check_s']:>7.2f} {r['wall'] / r['models']:>10.2f} {speedup:>12}"
        )
    return 0 if all(r["state"] == "success" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
