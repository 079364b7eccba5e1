"""The stack's configuration and process handling, without starting the stack (fast; not marked prod).

One source of configuration: docker-compose.yaml reads deploy/prod.env, generated from the same
StackSettings that `make prod-up` uses; the compose file is valid against the compose-spec schema
(vendored from the docker-compose 1.29.2 wheel: tests/fixtures/compose/compose_spec.json).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from govflow.prodstack import DECISION_QUEUE, HEAVY_QUEUE, StackSettings, write_env_file
from govflow.prodstack._process import group_alive, read_pid, spawn, stop

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "tests" / "fixtures" / "compose" / "compose_spec.json"


def _env_file(path: Path) -> dict[str, str]:
    import shlex

    return {
        k: shlex.split(v)[0] if v else ""
        for k, v in (line.split("=", 1) for line in path.read_text().splitlines() if line and line[0] != "#")
    }


def test_compose_file_is_valid_against_the_compose_spec():
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)
    services = compose["services"]
    assert {"postgres", "redis", "s3", "api-server", "scheduler", "dag-processor", "triggerer"} <= set(
        services
    )
    workers = {name: " ".join(svc["command"]) for name, svc in services.items() if name.startswith("worker")}
    assert len(workers) == 3  # two check workers and the decision queue's, as `make prod-up` runs them
    assert sum(f",{HEAVY_QUEUE}" in command for command in workers.values()) == 1
    assert sum(f"--queues {DECISION_QUEUE} " in command for command in workers.values()) == 1
    assert services["api-server"]["env_file"] == ["deploy/prod.env"]


def test_an_invalid_compose_file_is_refused_by_the_schema():
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate({"services": {"worker": {"deploy": {"replicas": "two"}}}})


def test_compose_reads_the_settings_prod_up_uses(tmp_path):
    settings = StackSettings.from_env(tmp_path)
    committed = _env_file(REPO / "deploy" / "prod.env")
    assert committed == settings.compose_env(), (
        "deploy/prod.env is stale: python -m govflow.prodstack compose-env"
    )
    local = settings.airflow_env()
    # Every shared setting is the same for both, except where compose names hosts, ports and paths.
    differs = {k for k in committed if committed[k] != local.get(k)}
    assert differs <= {
        "AWS_ENDPOINT_URL",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__API__BASE_URL",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__API__PORT",
        "AIRFLOW__CORE__DAGS_FOLDER",
        "AIRFLOW__CORE__PLUGINS_FOLDER",
        "GOVFLOW_HOME",
        "GOVFLOW_ROLES_FILE",
    }
    assert local["AIRFLOW__CORE__EXECUTOR"] == committed["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    # No secret in the committed file.
    assert not [
        k for k in committed if "SECRET" in k or "PASSWORD" in k or "FERNET" in k or k.endswith("DB_URL")
    ]


def test_env_file_is_sourceable_and_private(tmp_path):
    settings = StackSettings.from_env(tmp_path)
    target = tmp_path / "env"
    write_env_file(target, settings.client_env(), header="test")
    assert target.stat().st_mode & 0o077 == 0
    shown = subprocess.run(
        ["sh", "-c", f". {target} && echo $GOVFLOW_AIRFLOW_URL $GOVFLOW_AIRFLOW_USER $AWS_ENDPOINT_URL"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert shown == [settings.api_url, "admin", settings.s3_endpoint]
    keys = set(_env_file(target))
    assert {
        "GOVFLOW_AIRFLOW_PASSWORD",
        "GOVFLOW_DB_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    } <= keys
    # Secrets are made once and kept: a second look gives the same login.
    assert StackSettings.from_env(tmp_path).passwords() == settings.passwords()


@pytest.mark.parametrize("heavy", ["", HEAVY_QUEUE])
def test_heavy_tasks_go_to_the_heavy_queue_only_on_the_celery_stack(heavy, tmp_path):
    # Parsed in a fresh interpreter, as Airflow's dag-processor parses: the DAGs are built when
    # govflow.dags is imported, so a second DagBag in this process would reuse the first one's.
    script = (
        "import json; from airflow.dag_processing.dagbag import DagBag;"
        f"bag = DagBag({str(REPO / 'dags')!r});"
        "print(json.dumps({'errors': bag.import_errors, 'queues': {d: {t.task_id: t.queue for t in "
        "dag.tasks} for d, dag in bag.dags.items()}}))"
    )
    env = os.environ | {
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GOVFLOW_HEAVY_QUEUE": heavy,
    }
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert not parsed["errors"]
    for dag_id, heavy_tasks in (
        ("governance_gate", {"pii", "fairness"}),
        ("nightly_compliance", {"recheck.heavy_checks"}),
    ):
        queues = parsed["queues"][dag_id]
        on_heavy = {task for task, queue in queues.items() if queue == HEAVY_QUEUE}
        assert on_heavy == (heavy_tasks if heavy else set()), dag_id
        assert {queues[t] for t in queues if t not in heavy_tasks} == {"default"}


def test_stop_escalates_to_sigkill_and_leaves_nothing(tmp_path):
    # Like weed: ignores SIGTERM, and has a child in its process group.
    code = (
        "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "subprocess.Popen([sys.executable, '-c', 'import signal,time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)']); time.sleep(60)"
    )
    pids, logs = tmp_path / "pids", tmp_path / "logs"
    spawn("stubborn", [sys.executable, "-c", code], os.environ, pids=pids, logs=logs)
    pid = read_pid(pids, "stubborn")
    time.sleep(1.0)
    started = time.monotonic()
    assert stop(pids, "stubborn", grace=1.0)
    assert time.monotonic() - started < 10
    assert not group_alive(pid)
    assert not (pids / "stubborn.pid").exists()
    assert not stop(pids, "stubborn")  # nothing left to stop


def test_stack_processes_run_this_checkouts_govflow(tmp_path, monkeypatch):
    # A venv installed from another checkout (its .pth) must not decide which govflow the stack runs.
    monkeypatch.setenv("PYTHONPATH", "/opt/extra")
    env = StackSettings.from_env(tmp_path).airflow_env()
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO / "include"), "/opt/extra"]
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO / "dags")


@pytest.mark.parametrize(
    "mode,keep,stopped", [("private", True, True), ("system", True, False), ("system", False, True)]
)
def test_down_stops_a_private_cluster_but_keeps_the_shared_server(tmp_path, monkeypatch, mode, keep, stopped):
    from dataclasses import replace

    from govflow.prodstack import _stack

    calls = []
    monkeypatch.setattr(_stack.services, "stop_postgres", lambda s: calls.append(s.pg_mode) or True)
    monkeypatch.setattr(_stack.services, "stop_redis", lambda s: False)
    monkeypatch.setattr(_stack.services, "stop_weed", lambda s: False)
    settings = replace(StackSettings.ephemeral(tmp_path), pg_mode=mode)
    settings.pids.mkdir(parents=True)
    names = _stack.down(settings, keep_postgres=keep, say=lambda _: None)
    assert (calls == [mode]) is stopped and ("postgres" in names) is stopped


def test_each_stack_process_holds_only_its_roles_key(tmp_path):
    """The check workers get the check-result key, never the decision key; the control plane none."""
    s = StackSettings.from_env(tmp_path)
    assert set(s.all_workers) == {"worker-1", "worker-2", "worker-gov"}
    for name in s.workers:
        env = s.airflow_env(name)
        assert "GOVFLOW_SIGNING_KEY_FILE" not in env and "GOVFLOW_SIGNING_KEY" not in env
        assert env["GOVFLOW_CHECK_SIGNING_KEY_FILE"] == str(s.check_key_file)
        assert DECISION_QUEUE not in s.workers[name].split(",")
    for name in ("worker-gov", "api-server"):
        env = s.airflow_env(name)
        assert env["GOVFLOW_SIGNING_KEY_FILE"] == str(s.decision_key_file)
        assert "GOVFLOW_CHECK_SIGNING_KEY_FILE" not in env
    for name in ("scheduler", "dag-processor", "triggerer", "supervisor"):
        assert not [k for k in s.airflow_env(name) if "SIGNING_KEY" in k]
    assert s.airflow_env("worker-1")["GOVFLOW_DECISION_QUEUE"] == DECISION_QUEUE
    assert s.decision_workers == {"worker-gov": DECISION_QUEUE}
