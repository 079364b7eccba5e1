"""Faults on the running production stack (CeleryExecutor, two workers, PostgreSQL, Redis, S3).

Each test injects one fault into the session's stack (``prod_stack``: its own PostgreSQL
cluster and Redis on free loopback ports, so nothing shared is restarted), waits a bounded
time, checks govflow's promises, and puts the stack back as it found it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from govflow.access import os_user
from govflow.prodstack import _services as services
from govflow.prodstack import start_worker, wait_healthy
from govflow.prodstack._process import kill
from tests.prod._stackops import (
    GATE,
    NIGHTLY,
    CliRun,
    audit_ok,
    check_rows,
    client,
    duplicates,
    run_cli,
    seed,
    wait_run,
    wait_task,
    worker_running,
)

pytestmark = [pytest.mark.prod, pytest.mark.slow]
NIGHTLY_CHECKS = {"drift", "pii", "fairness", "performance", "documentation"}


def _complete(rows, models) -> None:
    """One result per (model, check) for every model and nightly check, each with its evidence."""
    assert not duplicates(rows), f"duplicate check results: {duplicates(rows)}"
    # The stack is shared by the suite: other tests' production models are re-checked too.
    assert {(m, c) for m, c, *_ in rows if m in models} == {(m, c) for m in models for c in NIGHTLY_CHECKS}
    assert all(uri and uri.startswith("s3://") for *_, uri in rows), "a result without its evidence"


def test_killed_worker_mid_check_task_is_retried_elsewhere(stack_env, trained):
    stack = stack_env
    models = seed(stack, trained, 2)
    admin = client(stack)
    run_id = admin.trigger(NIGHTLY, {}, note="fault: kill a worker")["dag_run_id"]
    victim, ti = None, None
    deadline = time.monotonic() + 300
    while victim is None and time.monotonic() < deadline:
        ti = wait_task(
            admin,
            NIGHTLY,
            run_id,
            # A group's checks run in one task (both workers take the heavy checks: no heavy queue).
            lambda t: t["task_id"].endswith((".checks", ".heavy_checks")) and t["state"] == "running",
        )
        victim = worker_running(stack, ti["id"])
    assert victim, "no nightly check task was seen running on a worker"
    kill(stack.pids, victim)  # SIGKILL the whole worker: pool, supervisor and task process
    try:
        run = wait_run(admin, NIGHTLY, run_id, timeout=420)
        assert run["state"] == "success"
        retried = next(
            t
            for t in admin.task_instances(NIGHTLY, run_id)
            if t["task_id"] == ti["task_id"] and t["map_index"] == ti["map_index"]
        )
        assert retried["state"] == "success" and retried["try_number"] >= 2
        _complete(check_rows(stack, NIGHTLY, run_id), models)
        assert audit_ok(stack)["ok"]
    finally:
        start_worker(stack, victim, stack.workers[victim])
        wait_healthy(stack, timeout=180)


def test_postgres_restart_during_a_nightly_run(stack_env, trained):
    stack = stack_env
    models = seed(stack, trained, 3)
    admin = client(stack)
    run_id = admin.trigger(NIGHTLY, {}, note="fault: restart PostgreSQL")["dag_run_id"]
    wait_task(
        admin,
        NIGHTLY,
        run_id,
        lambda t: t["task_id"].endswith(".checks") and t["state"] in ("running", "success"),
    )
    services.restart_postgres(stack)  # fast shutdown: every open connection is dropped
    run = wait_run(admin, NIGHTLY, run_id, timeout=480)
    rows = check_rows(stack, NIGHTLY, run_id)
    assert not duplicates(rows), f"duplicate check results: {duplicates(rows)}"
    assert all(uri for *_, uri in rows), "a check result without its evidence (a partial row)"
    if run["state"] == "success":
        _complete(rows, models)
    else:  # failed closed: whatever is recorded is whole, and the run says it failed
        assert run["state"] == "failed"
    assert audit_ok(stack)["ok"]
    wait_healthy(stack, timeout=180)


def test_redis_restart_loses_no_queued_work(stack_env, trained):
    stack = stack_env
    models = seed(stack, trained, 6)
    admin = client(stack)
    # A group is one task: one group per model puts 6 tasks on the 4 slots, so some wait in the queue.
    slots = str(stack.concurrency * len(stack.workers))
    admin.set_variable("GOVFLOW_NIGHTLY_PARALLELISM", "100")
    try:
        run_id = admin.trigger(NIGHTLY, {}, note="fault: restart Redis")["dag_run_id"]
        # Wait until work is queued behind the busy slots, then restart the broker under it.
        wait_task(admin, NIGHTLY, run_id, lambda t: t["state"] == "queued" and "recheck." in t["task_id"])
        services.stop_redis(stack)
        time.sleep(3)
        services.start_redis(stack)
        run = wait_run(admin, NIGHTLY, run_id, timeout=480)
    finally:
        admin.set_variable("GOVFLOW_NIGHTLY_PARALLELISM", slots)
    assert run["state"] == "success"
    _complete(check_rows(stack, NIGHTLY, run_id), models)
    assert audit_ok(stack)["ok"]


def test_object_store_down_fails_closed(stack_env, trained):
    stack = stack_env
    [model] = seed(stack, trained, 1)
    from govflow.service import registry
    from govflow.store import session_scope

    uris = {"artifact": None}
    with session_scope() as session:
        row = registry.get_version(session, model, "1.0")
        uris = {"artifact": row.artifact_uri, "training": row.training_data_uri, "eval": row.eval_data_uri}
        registry.register_version(
            session,
            model=model,
            version="2.0",
            artifact=uris["artifact"],
            training_data=uris["training"],
            reference_data=uris["training"],
            eval_data=uris["eval"],
            actor="alice",
            params=dict(row.params),
            metrics=dict(row.metrics),
        )
    services.stop_weed(stack)
    try:
        admin = client(stack)
        run_id = admin.trigger(GATE, {"model": model, "version": "2.0"}, note="fault: store down")[
            "dag_run_id"
        ]
        wait_run(admin, GATE, run_id, timeout=480)
        with session_scope() as session:
            assert registry.get_version(session, model, "2.0").stage != "production"
            assert registry.production_version(session, model).version == "1.0"
        # The reason is one clear line in the task log, naming the store.
        logs = "\n".join(
            p.read_text(errors="replace")
            for p in (stack.airflow_home / "logs" / f"dag_id={GATE}").glob(
                f"run_id={run_id}/task_id=pii/*.log"
            )
        )
        assert "object storage unreachable at http://127.0.0.1:" in logs
    finally:
        services.start_weed(stack)


def test_twenty_submits_at_once(stack_env, trained, tmp_path):
    stack = stack_env
    [model] = seed(stack, trained, 1)
    from govflow.service import registry
    from govflow.store import session_scope

    with session_scope() as session:
        row = registry.get_version(session, model, "1.0")
        uris = (row.artifact_uri, row.training_data_uri, row.eval_data_uri)
        registry.transition_stage(session, model=model, version="1.0", to="archived", actor="test")
    # The training job's account: the stack is a production deployment (dev mode, --as, refused), so
    # the CLI acts as the OS user, whom this operator-owned roles file makes a data scientist.
    roles = tmp_path / "job-roles.yaml"
    roles.write_text(f"users:\n  {os_user()}:\n    roles: [data_scientist]\n")
    env = dict(os.environ) | {"GOVFLOW_ROLES_FILE": str(roles)}
    env.pop("GOVFLOW_DEV_MODE", None)
    govflow = str(Path(sys.executable).with_name("govflow"))

    def submit(i: int) -> tuple[dict, CliRun]:
        command = [
            govflow, "submit", "--json", "--model", model, "--version", f"3.{i}",
            "--artifact", uris[0], "--training-data", uris[1], "--reference-data", uris[1],
            "--eval-data", uris[2], "--label", trained["label"], "--prediction", trained["prediction"],
            "--positive-label", trained["positive_label"], "--sensitive", trained["sensitive"][0],
            "--trigger",
        ]  # fmt: skip
        # A process that hangs (it once printed its run id and never exited) fails with its stacks.
        done = run_cli(command, env, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout), done

    with ThreadPoolExecutor(max_workers=20) as pool:
        submitted, processes = zip(*pool.map(submit, range(20)), strict=True)
    # Printed to the test's output: how long the submits took, and how long they took to exit.
    print("submit seconds:", sorted(round(p.seconds, 1) for p in processes))
    print("exit seconds:", sorted(round(p.seconds - (p.output_at or 0), 1) for p in processes))
    run_ids = {s["run_id"] for s in submitted}
    assert len(run_ids) == 20
    admin = client(stack)
    runs = {r: wait_run(admin, GATE, r, timeout=900) for r in run_ids}
    # Every version is rejected (its model registers none of the facts a high-risk model's documentation
    # needs, and nobody approves), and a rejected run ends failed at its verdict task and nowhere else
    # (GOVFLOW_FAIL_REJECTED_RUNS, on by default): every other task ran to its end under the load.
    for run_id, run in runs.items():
        states = {(t["task_id"], t["map_index"]): t["state"] for t in admin.task_instances(GATE, run_id)}
        failed_tasks = {task for (task, _), state in states.items() if state not in ("success", "skipped")}
        assert (run["state"], failed_tasks) == ("failed", {"verdict"}), (run_id, states)
        outcome = admin.xcom(GATE, run_id, "finish")
        outcome = json.loads(outcome) if isinstance(outcome, str) else outcome
        assert (outcome["decision"], outcome["stage"]) == ("rejected", "candidate"), outcome
        assert any(reason.startswith("documentation: ") for reason in outcome["reasons"]), outcome
    # One run per submitted version: none lost, none triggered twice.
    assert sorted(run["conf"]["version"] for run in runs.values()) == sorted(f"3.{i}" for i in range(20))
    from sqlalchemy import text

    with session_scope() as session:
        decisions = session.execute(
            text(
                "SELECT v.version, COUNT(*) FROM gate_decisions d "
                "JOIN model_versions v ON v.id = d.version_id JOIN models m ON m.id = v.model_id "
                "WHERE m.name = :m AND v.version LIKE '3.%' GROUP BY v.version"
            ),
            {"m": model},
        ).all()
        verdicts = (
            session.execute(
                text(
                    "SELECT DISTINCT d.decision FROM gate_decisions d "
                    "JOIN model_versions v ON v.id = d.version_id JOIN models m ON m.id = v.model_id "
                    "WHERE m.name = :m AND v.version LIKE '3.%'"
                ),
                {"m": model},
            )
            .scalars()
            .all()
        )
        # No check errored under the load (an error would reject too, for the wrong reason).
        errored = session.execute(
            text(
                "SELECT v.version, c.check FROM check_results c JOIN model_versions v ON v.id = c.version_id "
                "JOIN models m ON m.id = v.model_id "
                "WHERE m.name = :m AND v.version LIKE '3.%' AND c.status = 'error'"
            ),
            {"m": model},
        ).all()
        events = session.execute(
            text(
                "SELECT action, subject, COUNT(*) FROM audit_events "
                "WHERE action IN ('version.registered', 'gate.evaluated') AND subject LIKE :s "
                "GROUP BY action, subject"
            ),
            {"s": f"version:{model}@3.%"},
        ).all()
    assert len(decisions) == 20 and all(n >= 1 for _, n in decisions)
    assert set(verdicts) == {"rejected"} and not errored, errored
    registered = {subject: n for action, subject, n in events if action == "version.registered"}
    evaluated = {subject: n for action, subject, n in events if action == "gate.evaluated"}
    assert len(registered) == 20 and set(registered.values()) == {1}, registered
    # Every stored decision has its one audit event: none lost, none written twice.
    assert evaluated == {f"version:{model}@{v}": n for v, n in decisions}
    assert audit_ok(stack)["ok"]
