"""Benchmark: nightly_compliance on the Celery stack for 10, 50 and 200 production models (and more).

Starts a throwaway production stack (the `make prod-up` topology: two Celery workers of
``--concurrency`` slots each, worker-2 also on the heavy queue; PostgreSQL, Redis and
SeaweedFS on free loopback ports), trains the sample model once, and for each size seeds
that many new production models (artifacts, data and batches in s3://), so exactly they
are due, triggers nightly_compliance and waits for it. Each size runs twice, on new models
each time, in this order:

  grouped    govflow's shape: the models packed into one group per worker slot
             (GOVFLOW_NIGHTLY_PARALLELISM), one task per group (check_table.nightly_tasks: with a
             heavy queue, two and a documentation task)
  per-model  the naive fan-out (the parallelism set above the model count through the
             Airflow Variable): one group, so one task, per model (only up to ``--per-model-up-to``)

Every nightly task appends what it cost to the stack's ledger (govflow.tasks._cost): its
process CPU, the check runners' CPU, its SQL statements and object-store requests. Per run:

  wall       the run's start to end (Airflow)
  cpu        the check runners' CPU seconds (process CPU time around each runner)
  ideal      cpu / min(slots, cores): what perfect packing on this machine could do
  ratio      wall / ideal              (goal: <= 1.5 from 50 models up)
  compute    the sum of the results' durations (wall time of each runner; grows when slots
             share cores) and old = wall / (compute / slots), the ratio as measured before
  tasks, db, obj   task instances, SQL statements and object-store requests, per model
  task cpu   all tasks' process CPU per model (orchestration included)
  machine cpu   every process's CPU seconds on this machine during the run (/proc/stat), and
             busy cores = machine cpu / wall; the log line splits it by process kind (Airflow's
             scheduler and api-server, PostgreSQL, the object store, the task processes)

and wall per model (flat when linear in models), and how much faster grouped is.

    python bench/bench_nightly.py --heavy-everywhere --sizes 10,50,200,1000   # README's table
    python bench/bench_nightly.py --sizes 1000 --grouped-only --batch-rows 200
    python bench/bench_nightly.py --sizes 5        # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
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


def ledger_of(ledger: Path, run_id: str, heavy: set[str]) -> dict[str, float]:
    """The run's tasks' costs summed (govflow.tasks._cost's lines); ``heavy_cpu_s``: of the checks
    in ``heavy`` (the heavy queue's)."""
    totals = {"tasks": 0.0, "db": 0.0, "object": 0.0, "cpu_s": 0.0, "checks_cpu_s": 0.0, "heavy_cpu_s": 0.0}
    if not ledger.exists():
        return totals
    for line in ledger.read_text().splitlines():
        record = json.loads(line)
        if record.get("run") != run_id:
            continue
        totals["tasks"] += 1
        for key in ("db", "object", "cpu_s", "checks_cpu_s"):
            totals[key] += float(record.get(key) or 0)
        by_check = record.get("checks_cpu_by_check") or {}
        totals["heavy_cpu_s"] += sum(float(spent) for name, spent in by_check.items() if name in heavy)
    return totals


def machine_cpu() -> dict[str, float]:
    """CPU seconds spent so far, by process kind, from /proc (live processes' own time plus their
    reaped children's): what the whole stack costs, not only the task processes."""
    tick = os.sysconf("SC_CLK_TCK")
    kinds: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = raw.rsplit(")", 1)[1].split()
        spent = sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
        kinds[_kind(cmdline)] = kinds.get(_kind(cmdline), 0.0) + spent
    busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    kinds["machine"] = (sum(int(v) for v in busy) - int(busy[3]) - int(busy[4])) / tick
    return kinds


def _kind(cmdline: str) -> str:
    for marker, kind in (
        ("postgres", "postgres"), ("redis", "redis"), ("weed", "object store"), ("celery", "workers"),
        ("scheduler", "scheduler"), ("api-server", "api-server"), ("api_server", "api-server"),
        ("dag-processor", "dag-processor"), ("triggerer", "triggerer"), ("airflow", "airflow other"),
    ):  # fmt: skip
        if marker in cmdline:
            return kind
    return "other"


def small_batches(trained: dict, rows: int, root: Path) -> dict:
    """The trained output with its batches cut to ``rows`` rows (a fleet of small daily batches)."""
    import pandas as pd

    folder = root / f"batches-{rows}"
    folder.mkdir(exist_ok=True)
    for batch in sorted(Path(trained["batches"]).glob("*.csv")):
        pd.read_csv(batch).head(rows).to_csv(folder / batch.name, index=False)
    return trained | {"batches": str(folder)}


def run_nightly(
    admin, settings, trained, size: int, shape: str, slots: int, heavy_slots: int, cores: int
) -> dict:
    """Seed ``size`` new production models, run nightly_compliance over them, measure it."""
    from govflow.service.check_table import checks

    tag = secrets.token_hex(3)
    names = [f"bench-{tag}-{i:04d}" for i in range(size)]
    t_seed = time.monotonic()
    seed_production_models(trained, names, bucket=settings.bucket, tag=tag)
    print(f"   seeded {size} models in {time.monotonic() - t_seed:.0f}s", flush=True)
    # grouped: one group per slot; per-model: more groups than models, so each holds one model.
    admin.set_variable("GOVFLOW_NIGHTLY_PARALLELISM", str(slots if shape == "grouped" else 100_000))
    before = machine_cpu()
    run_id = admin.trigger(NIGHTLY, {}, note=f"bench {size} models, {shape}")["dag_run_id"]
    done = wait_for_runs(admin, {run_id}, None, timeout=3600, dag_id=NIGHTLY)[run_id]
    after = machine_cpu()
    spent = {k: round(after.get(k, 0.0) - before.get(k, 0.0), 1) for k in after}
    wall = (_ts(done["end_date"]) - _ts(done["start_date"])).total_seconds()
    per_check, results = compute_of(run_id)
    compute = sum(per_check.values())
    tis = admin.task_instances(NIGHTLY, run_id)
    durations = [t["duration"] for t in tis if t.get("duration")]
    heavy_checks = {name for name, spec in checks().items() if spec.heavy}
    cost = ledger_of(Path(settings.cost_ledger or ""), run_id, heavy_checks)
    cpu = cost["checks_cpu_s"]
    ideal = cpu / min(slots, cores)
    row = {
        "models": size,
        "shape": shape,
        "state": done["state"],
        "wall": wall,
        "cpu": cpu,
        "ideal": ideal,
        "ratio": wall / ideal if ideal else float("inf"),
        "compute": compute,
        "old_ratio": wall / (compute / slots) if compute else float("inf"),
        # The routing's lower bound: the heavy checks get only the heavy queue's slots.
        "bound": max(ideal, cost["heavy_cpu_s"] / min(heavy_slots, cores)),
        "tasks": len(tis),
        "ledger_tasks": cost["tasks"],
        "db_per_model": cost["db"] / size,
        "object_per_model": cost["object"] / size,
        "task_cpu_per_model": cost["cpu_s"] / size,
        "tpm": len(tis) / wall * 60,
        "task_s": sum(durations) / max(1, len(durations)),
        "check_s": compute / max(1, results),
        "results": results,
        "per_check": per_check,
        "machine_cpu": spent,
    }
    print(
        f"{size} models, {shape}: {row['state']}, wall {wall:.1f}s, checks' cpu {cpu:.1f}s, {results} check "
        f"results, {len(tis)} tasks ({cost['tasks']:.0f} in the ledger), {row['db_per_model']:.1f} SQL "
        f"statements and {row['object_per_model']:.1f} object-store requests per model; "
        + ", ".join(f"{k} {v:.1f}s" for k, v in sorted(per_check.items())),
        flush=True,
    )
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(spent.items()))
    print(f"   machine CPU s during the run: {kinds}", flush=True)
    return row


def table(rows: list[dict]) -> str:
    """The runs as a Markdown table (what the README shows), grouped beside per-model per size."""
    header = (
        "models", "fan-out", "wall s", "checks' cpu s", "ideal s", "wall / ideal", "compute s", "old ratio",
        "tasks", "tasks/model", "SQL/model", "object/model", "task cpu/model s", "machine cpu s",
        "busy cores", "wall/model s", "grouped vs per-model",
    )  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "| ---: | --- |" + " ---: |" * (len(header) - 2)]
    for r in rows:
        naive = next((n for n in rows if n["models"] == r["models"] and n["shape"] == "per-model"), None)
        speedup = f"{naive['wall'] / r['wall']:.2f}x faster" if naive and r["shape"] == "grouped" else ""
        state = "" if r["state"] == "success" else f" ({r['state']})"
        machine = r.get("machine_cpu", {}).get("machine", 0.0)
        lines.append(
            f"| {r['models']} | {r['shape']}{state} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['ideal']:.1f} "
            f"| {r['ratio']:.2f} | {r['compute']:.1f} | {r['old_ratio']:.2f} | {r['tasks']} "
            f"| {r['tasks'] / r['models']:.2f} | {r['db_per_model']:.0f} | {r['object_per_model']:.1f} "
            f"| {r['task_cpu_per_model']:.2f} | {machine:.0f} | {machine / r['wall']:.2f} "
            f"| {r['wall'] / r['models']:.2f} | {speedup} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,200", help="comma-separated model counts")
    parser.add_argument(
        "--per-model-up-to", type=int, default=200, help="run the per-model baseline up to this size"
    )
    parser.add_argument(
        "--batch-rows",
        type=int,
        default=200,
        help="production batches of this many rows for the sizes from --small-from (small daily batches)",
    )
    parser.add_argument("--small-from", type=int, default=1000, help="the first size with small batches")
    parser.add_argument("--out", type=Path, help="append each run's row as JSON to this file")
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
        "--heavy-everywhere",
        action="store_true",
        help="both workers take the heavy checks (so the stack routes no task to a heavy queue)",
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
        root,
        concurrency=args.concurrency,
        preload_govflow=not args.no_preload_govflow,
        cost_ledger=str(root / "cost.jsonl"),
        # The stack's own cron run must not start in the middle (it took half of a run's models at
        # 02:00): half a day away.
        nightly_cron=f"0 {(datetime.now(UTC).hour + 12) % 24} * * *",
        **overrides,
    )
    slots = args.concurrency * len(settings.workers)
    cores = os.cpu_count() or 1
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
        small = small_batches(trained, args.batch_rows, root) if args.batch_rows else trained
        if args.warmup:  # a nightly fleet runs on warm workers: their object caches hold the shared files
            run_nightly(admin, settings, trained, args.warmup, "grouped", slots, heavy_slots, cores)
        for size in sizes:
            for shape in shapes:
                if shape == "per-model" and size > args.per_model_up_to:
                    continue
                data = small if size >= args.small_from else trained
                rows.append(run_nightly(admin, settings, data, size, shape, slots, heavy_slots, cores))
                rows[-1]["batch_rows"] = args.batch_rows if size >= args.small_from else None
                if args.out:
                    with args.out.open("a") as out:
                        out.write(json.dumps(rows[-1]) + "\n")
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
        f"cores {cores}; ideal = checks' CPU s / min(slots, cores) = / {min(slots, cores)}; "
        f"production batches of {args.batch_rows} rows from {args.small_from} models, as trained below"
    )
    print(table(rows))
    return 0 if all(r["state"] == "success" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
