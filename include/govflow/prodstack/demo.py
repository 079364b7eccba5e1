"""`make prod-demo MODELS=N`: N models through governance on the running production stack.

    python -m govflow.prodstack.demo [--models N] [--root .prod]

1. trains the bundled sample model once (a training job's output: model, data, batches);
2. for each of N models: uploads its artifact, training/reference/eval data and production
   batches to object storage (``s3://<bucket>/models/<model>/...``), registers the model,
   and submits it as ``govflow submit ... --trigger`` would, for alice, with ``s3://`` URIs
   (registered by the CLI's code, triggered as alice through Airflow's REST API);
3. reviewers rita and rob answer every approval request through Airflow's HITL REST API;
4. waits for every governance_gate decision, then runs nightly_compliance over the
   production models and prints a table of decisions and timings.

``--partitioned`` (``make prod-demo PARTITIONED=1``): model 01 is monitored from a PostgreSQL table
partitioned by day (``conn://govflow_warehouse/monitoring.credit_model_01``), model 02 from an s3
prefix of ``ds=`` folders. Day 1's predictions land before the first nightly run (drift and PII
read them; fairness waits for labels); then day 2 lands and day 1's labels arrive, and a second
run (``{"recheck": "all"}``) reads only day 2 for drift and PII and day 1 for fairness.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.prodstack._settings import REPO, StackSettings

if TYPE_CHECKING:
    from govflow.airflow_client import AirflowClient

REVIEWERS = ("rita", "rob")
SUBMITTER = "alice"
GATE = "governance_gate"
NIGHTLY = "nightly_compliance"
TERMINAL = ("success", "failed")


def load_env(root: Path) -> dict[str, str]:
    """The stack's ``<root>/env`` (written by prod-up) as a dict."""
    path = root / "env"
    if not path.exists():
        raise RuntimeError(f"{path} not found: run `make prod-up` first")
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = shlex.split(value)[0] if value else ""
    return values


def train(work: Path) -> dict[str, Any]:
    """The sample training job's output (trained once per stack, then reused)."""
    result = work / "trained.json"
    if result.exists():
        return json.loads(result.read_text())
    out = subprocess.run(
        [sys.executable, str(REPO / "include" / "sample" / "train_model.py"), "--out", str(work / "model"),
         "--mitigate", "--batches", "3"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    result.write_text(out)
    return json.loads(out)


def publish(trained: dict[str, Any], model: str, version: str, bucket: str) -> dict[str, str]:
    """Upload one model version's files (and the model's production batches) to object storage."""
    from govflow.artifacts import upload_file

    prefix = f"s3://{bucket}/models/{model}"
    uris = {
        "artifact": f"{prefix}/{version}/{Path(trained['artifact']).name}",
        "training_data": f"{prefix}/{version}/train.csv",
        "reference_data": f"{prefix}/{version}/reference.csv",
        "eval_data": f"{prefix}/{version}/eval.csv",
    }
    for key, uri in uris.items():
        upload_file(trained[key], uri)
    for batch in sorted(Path(trained["batches"]).glob("*.csv")):
        upload_file(batch, f"{prefix}/batches/{batch.name}")
    return uris | {"batches": f"{prefix}/batches/"}


def register_model(model: str, batches: str) -> None:
    from govflow.errors import NotFoundError
    from govflow.service import registry
    from govflow.store import session_scope

    with session_scope() as session:
        try:
            registry.get_model(session, model)
            return
        except NotFoundError:
            pass
        registry.register_model(
            session,
            name=model,
            owner="olga.owner@bank.example",
            risk_tier="high",
            actor=SUBMITTER,
            team="Retail credit analytics",
            use_case="Flags applications for a faster manual credit review (demonstration)",
            business_goals=["shorter review queues", "consistent treatment of applicants"],
            stakeholders=["Dana Privacy:dpo:dana.dpo@bank.example", "Model risk:risk:#model-risk"],
            regions=["EU"],
            sector="finance",
            data_protection_notes="no direct identifiers; sex is used only to measure fairness",
            batches_uri=batches,
        )


def submit(
    trained: dict[str, Any],
    model: str,
    version: str,
    uris: dict[str, str],
    airflow: Callable[[], AirflowClient],
    *,
    monitoring: dict[str, Any] | None = None,
) -> dict:
    """What `govflow submit ... --trigger` does for the training job, acting for alice (s3:// URIs).

    The version is registered by the CLI's own code in this process, as alice (this demo process is
    the operator's: it registers the models too), and governance_gate is triggered through Airflow's
    REST API by ``airflow()``, alice's client, so Airflow's triggering user (the run's submitter) is
    her. Not ``govflow submit --as alice``: that is dev mode, which this production-shaped stack
    (PostgreSQL, a signing key) refuses whatever the process declares.
    """
    from govflow.access import require_role
    from govflow.cli import build_parser
    from govflow.cli.submission import DAG_ID, SUBMITTER_ROLES, register_submission

    argv = [
        "submit", "--model", model, "--version", version,
        "--artifact", uris["artifact"], "--training-data", uris["training_data"],
        "--reference-data", uris["reference_data"], "--eval-data", uris["eval_data"],
        "--label", trained["label"], "--prediction", trained["prediction"], "--score", trained["score"],
        "--positive-label", trained["positive_label"], "--suite", trained["suite"],
        "--metrics", f"@{trained['metrics_file']}",
        "--params", json.dumps(trained["params"] | ({"monitoring": monitoring} if monitoring else {})),
        "--notes", trained["notes"], "--code-version", "sample/train_model.py", "--framework", "scikit-learn",
    ]  # fmt: skip
    for column in trained["sensitive"]:
        argv += ["--sensitive", column]
    require_role(SUBMITTER, SUBMITTER_ROLES, action="submit model versions")
    payload = register_submission(build_parser().parse_args(argv), SUBMITTER)
    with airflow() as client:
        run = client.trigger(
            DAG_ID,
            {"model": model, "version": version, "trigger_kind": "rest"},
            note=f"submitted by {SUBMITTER}",
        )
    return payload | {"dag_id": DAG_ID, "run_id": run["dag_run_id"], "state": run.get("state")}


class Reviewers:
    """rita and rob, each logged in to Airflow with their own password, answering approval requests."""

    def __init__(self, url: str, passwords: dict[str, str]) -> None:
        from govflow.airflow_client import AirflowClient

        self.clients = {name: AirflowClient(url, name, passwords[name], timeout=60) for name in REVIEWERS}
        self.given: set[tuple[str, str, int]] = set()

    def answer_pending(self, run_ids: set[str]) -> int:
        answered = 0
        for name, client in self.clients.items():
            for action in client.required_actions(GATE):
                ti = action["task_instance"]
                if ti["dag_run_id"] not in run_ids:
                    continue
                assigned = {u["id"] for u in action.get("assigned_users") or []}
                mine = (name, ti["dag_run_id"], ti["map_index"])
                already = any(g[0] == name and g[1] == ti["dag_run_id"] for g in self.given)
                if name not in assigned or mine in self.given or already:
                    continue
                client.approve(GATE, ti["dag_run_id"], ti["task_id"], map_index=ti["map_index"],
                               comment="approved after reviewing the evidence")  # fmt: skip
                self.given.add(mine)
                answered += 1
        return answered


def wait_for_runs(
    admin, run_ids: set[str], reviewers: Reviewers | None, *, timeout: float, dag_id: str
) -> dict:
    from govflow.airflow_client import AirflowUnavailableError

    deadline = time.monotonic() + timeout
    runs: dict[str, dict] = {}
    while True:
        try:
            if reviewers:
                reviewers.answer_pending(run_ids)
            runs = {r: admin.get_run(dag_id, r) for r in run_ids}
        except AirflowUnavailableError as err:  # an api-server restart: the runs go on, so does the wait
            if time.monotonic() > deadline:
                raise
            print(f"   ({err}; retrying)", flush=True)
            time.sleep(5)
            continue
        if all(run.get("state") in TERMINAL for run in runs.values()):
            return runs
        if time.monotonic() > deadline:
            open_runs = sorted(r for r, run in runs.items() if run.get("state") not in TERMINAL)
            raise RuntimeError(
                f"{len(open_runs)} {dag_id} run(s) still open after {timeout:.0f}s: {open_runs[:3]}"
            )
        time.sleep(3)


def _seconds(run: dict) -> float | None:
    from datetime import datetime

    if not run.get("start_date") or not run.get("end_date"):
        return None
    start, end = (datetime.fromisoformat(run[k].replace("Z", "+00:00")) for k in ("start_date", "end_date"))
    return (end - start).total_seconds()


def main(argv: list[str] | None = None) -> int:
    from govflow.errors import GovflowError

    try:
        return _demo(argv)
    except (GovflowError, RuntimeError) as err:  # the stack said no, or a run never ended: one line
        print(f"prod-demo: error: {err}", file=sys.stderr)
        return 1


def _demo(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m govflow.prodstack.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--models", type=int, default=10, help="how many models to govern (default 10)")
    parser.add_argument("--root", type=Path, help="the stack's folder (default .prod)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the runs")
    parser.add_argument(
        "--partitioned",
        action="store_true",
        help="models 01 and 02 read a partitioned PostgreSQL table and a partitioned s3 prefix",
    )
    args = parser.parse_args(argv)
    if args.models < 1:
        print("prod-demo: error: --models must be at least 1", file=sys.stderr)
        return 2
    settings = StackSettings.from_env(args.root)
    try:
        env = load_env(settings.root)
    except RuntimeError as err:
        print(f"prod-demo: error: {err}", file=sys.stderr)
        return 2
    os.environ.update(env)
    env = dict(os.environ)
    from govflow.airflow_client import AirflowClient

    started = time.monotonic()
    work = settings.root / "demo"
    work.mkdir(parents=True, exist_ok=True)
    print("== 1. Training the sample model (once; reused for every model)")
    trained = train(work)
    version = time.strftime("1.%Y%m%d.%H%M%S")
    models = [f"credit-model-{i:02d}" for i in range(1, args.models + 1)]
    print(f"== 2. Publishing to object storage and submitting {len(models)} models (version {version})")
    bucket = env.get("GOVFLOW_PROD_BUCKET", "govflow")
    passwords = settings.passwords()

    def alice() -> AirflowClient:
        return AirflowClient(env["GOVFLOW_AIRFLOW_URL"], SUBMITTER, passwords[SUBMITTER], timeout=60)

    sources = _partitioned_sources(models, bucket, env) if args.partitioned else {}

    def one(model: str) -> dict:
        uris = publish(trained, model, version, bucket)
        batches, monitoring = sources.get(model, (uris["batches"], None))
        register_model(model, batches)
        t0 = time.monotonic()
        result = submit(trained, model, version, uris, alice, monitoring=monitoring)
        return result | {"submit_s": time.monotonic() - t0, "artifact_uri": uris["artifact"]}

    with ThreadPoolExecutor(max_workers=4) as pool:
        submitted = list(pool.map(one, models))
    for item in submitted[:3]:
        print(f"   {item['model']}@{item['version']}: run {item['run_id']} ({item['artifact_uri']})")
    if len(submitted) > 3:
        print(f"   ... and {len(submitted) - 3} more")
    admin = AirflowClient(env["GOVFLOW_AIRFLOW_URL"], "admin", passwords["admin"], timeout=60)
    print("== 3. Reviewers rita and rob answer the approval requests in Airflow (HITL REST API)")
    reviewers = Reviewers(env["GOVFLOW_AIRFLOW_URL"], passwords)
    run_ids = {item["run_id"] for item in submitted}
    t_gate = time.monotonic()
    runs = wait_for_runs(admin, run_ids, reviewers, timeout=args.timeout, dag_id=GATE)
    gate_wall = time.monotonic() - t_gate
    print(f"   {len(reviewers.given)} approvals given; all {len(runs)} runs ended in {gate_wall:.0f}s")
    print("== 4. Decisions")
    print(f"   {'model':<18} {'version':<20} {'run':<8} {'decision':<17} {'stage':<11} {'run s':>6}")
    decided = 0
    for item in submitted:
        run = runs[item["run_id"]]
        outcome = admin.xcom(GATE, item["run_id"], "finish") if run["state"] == "success" else {}
        outcome = json.loads(outcome) if isinstance(outcome, str) else (outcome or {})
        decided += bool(outcome.get("decision"))
        seconds = _seconds(run)
        print(
            f"   {item['model']:<18} {item['version']:<20} {run['state']:<8} "
            f"{outcome.get('decision') or '-':<17} {outcome.get('stage') or '-':<11} "
            f"{seconds if seconds is None else round(seconds):>6}"
        )
    if sources:
        _land(trained, sources, env, day=DAYS[0], labeled=False)
    print("== 5. nightly_compliance over the production models")
    state = _nightly(admin, {}, timeout=args.timeout)
    if sources:
        print(f"== 6. Day {DAYS[1]} lands; day {DAYS[0]}'s labels arrive; nightly again (recheck all)")
        _land(trained, sources, env, day=DAYS[1], labeled=False)
        _land(trained, sources, env, day=DAYS[0], labeled=True)
        state = _nightly(admin, {"recheck": "all"}, timeout=args.timeout) if state == "success" else state
        _print_partitions(list(sources))
    print(f"\n(done in {time.monotonic() - started:.0f}s; {decided}/{len(submitted)} decisions recorded)")
    print(f"   Airflow UI: {env['GOVFLOW_AIRFLOW_URL']} (admin / see {settings.root}/passwords.json)")
    return 0 if decided == len(submitted) and state == "success" else 1


DAYS = ("2026-12-01", "2026-12-02")


def _partitioned_sources(models: list[str], bucket: str, env: dict[str, str]) -> dict[str, tuple[str, dict]]:
    from govflow.prodstack._partitioned import WAREHOUSE_ENV, ensure_warehouse, prefix_source, table_source

    if WAREHOUSE_ENV not in env:
        raise RuntimeError(f"{WAREHOUSE_ENV} is not in the stack's env: restart it (make prod-down prod-up)")
    ensure_warehouse(env[WAREHOUSE_ENV])
    makers = (table_source, lambda m: prefix_source(bucket, m))
    return {model: make(model) for model, make in zip(models, makers, strict=False)}


def _land(trained: dict[str, Any], sources: dict[str, tuple[str, dict]], env: dict[str, str], *, day: str,
          labeled: bool) -> None:  # fmt: skip
    import pandas as pd

    from govflow.prodstack._partitioned import WAREHOUSE_ENV, land

    batch = sorted(Path(trained["batches"]).glob("*.csv"))[DAYS.index(day)]
    rows = pd.read_csv(batch)
    for model, (uri, _) in sources.items():
        land(uri, day, rows, label=trained["label"], labeled=labeled, url=env[WAREHOUSE_ENV])
        print(f"   {model}: {'labels of' if labeled else 'predictions of'} {day} landed in {uri}")


def _nightly(admin: AirflowClient, conf: dict[str, Any], *, timeout: float) -> str:
    t_nightly = time.monotonic()
    nightly = admin.trigger(NIGHTLY, conf, note="prod-demo")
    done = wait_for_runs(admin, {nightly["dag_run_id"]}, None, timeout=timeout, dag_id=NIGHTLY)
    state = done[nightly["dag_run_id"]]["state"]
    summary = admin.xcom(NIGHTLY, nightly["dag_run_id"], "summary") if state == "success" else {}
    summary = json.loads(summary) if isinstance(summary, str) else (summary or {})
    audit = summary.get("audit") or {}
    print(
        f"   run {nightly['dag_run_id']}: {state} in {time.monotonic() - t_nightly:.0f}s; "
        f"{len(summary.get('models', []))} production models re-checked; audit chain "
        f"{'intact' if audit.get('ok') else 'NOT verified'} ({audit.get('events')} events)"
    )
    for model in summary.get("models", [])[:10]:
        checks = ", ".join(f"{k} {v}" for k, v in sorted(model["checks"].items()))
        print(f"   {model['model']}@{model['version']}: {checks}")
    return str(state)


def _print_partitions(models: list[str]) -> None:
    """What the Governance view shows of the partitioned models (service.partition_view)."""
    from sqlalchemy import select

    from govflow.service.partition_view import nightly_partitions
    from govflow.store import Model, session_scope

    with session_scope() as session:
        ids = dict(session.execute(select(Model.name, Model.id).where(Model.name.in_(models))).all())
        shown = nightly_partitions(session, list(ids.values()))
    for model in models:
        read = shown.get(ids.get(model, -1)) or {}
        coverage = read.get("label_coverage")
        print(
            f"   {model}: checked {', '.join(read.get('checked') or []) or 'nothing new'}; labels "
            f"{', '.join(read.get('labeled') or []) or 'none yet'}"
            + (f" ({coverage:.0%} covered)" if coverage is not None else "")
        )


if __name__ == "__main__":
    sys.exit(main())
