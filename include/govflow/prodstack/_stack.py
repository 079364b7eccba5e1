"""Bring the whole stack up and down, in order, and report where it is.

up:   PostgreSQL (databases for Airflow and govflow) -> Redis -> SeaweedFS (bucket) ->
      `airflow db migrate` + `govflow db upgrade` -> api-server, scheduler, dag-processor,
      triggerer, the Celery workers -> wait until the api-server reports every component
      healthy and each worker said "ready" -> write <root>/env and <root>/stack.json.
down: every process with a pid file, workers first, servers last; PostgreSQL only if up started it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from govflow import config, data
from govflow.prodstack import _services as services
from govflow.prodstack._process import alive, read_pid, spawn, stop, wait_until
from govflow.prodstack._settings import StackSettings, write_env_file
from govflow.signing import generate_key_files

AIRFLOW_PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")
# Stop order: the supervisor (or it restarts the rest), work, the control plane, then the servers.
_STOP_ORDER = ("supervisor", "worker", "triggerer", "scheduler", "dag-processor", "api-server")
SUPERVISE_INTERVAL = 3.0


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _govflow() -> str:
    return str(Path(sys.executable).with_name("govflow"))


def up(s: StackSettings, *, timeout: float = 300.0, say: Callable[[str], object] = print) -> dict[str, Any]:
    s.root.mkdir(parents=True, exist_ok=True)
    (s.root / "stack.json").write_text(json.dumps(_settings_record(s), indent=2))
    passwords = s.passwords()
    (s.root / "passwords.json").write_text(json.dumps(passwords))
    os.chmod(s.root / "passwords.json", 0o600)
    for key in (s.decision_key_file, s.check_key_file):  # a stack made before the split gets its check key
        if not key.exists():
            key.parent.mkdir(mode=0o700, exist_ok=True)
            generate_key_files(key)
    say(f"postgres   127.0.0.1:{s.pg_port} ({s.pg_mode})")
    services.start_postgres(s)
    services.ensure_databases(s)
    say(f"redis      127.0.0.1:{s.redis_port}")
    services.start_redis(s)
    say(f"seaweedfs  {s.s3_endpoint} (bucket {s.bucket})")
    services.start_weed(s)
    env = s.airflow_env()
    s.airflow_home.mkdir(parents=True, exist_ok=True)
    s.govflow_home.mkdir(parents=True, exist_ok=True)
    say("migrating the Airflow and govflow databases")
    _run([_airflow(), "db", "migrate"], env, s.logs / "db-migrate.log", timeout=timeout)
    _run([_govflow(), "db", "upgrade"], env, s.logs / "govflow-db-upgrade.log", timeout=timeout)
    for name in AIRFLOW_PROCESSES:
        if not _running(s, name):
            spawn(name, _command(name, s), s.airflow_env(name), pids=s.pids, logs=s.logs)
    for name, queues in s.all_workers.items():
        start_worker(s, name, queues)
    say("waiting for every component to report healthy")
    wait_healthy(s, timeout=timeout)
    # The deployment's policy is the active one (the gate refuses a policy file that is not). The
    # bundled default is applied on the gate's first use; any other needs an admin proven by Airflow
    # (never dev mode or the OS user): the stack's admin applies it through the Governance API.
    if config.policy_path().resolve() != data.default_policy().resolve():
        _apply_policy_as_admin(s, passwords["admin"])
    if not _running(s, "supervisor"):
        supervisor = [sys.executable, "-m", "govflow.prodstack", "supervise", "--root", str(s.root)]
        spawn("supervisor", supervisor, s.airflow_env("supervisor"), pids=s.pids, logs=s.logs)
    write_env_file(
        s.root / "env",
        s.client_env(),
        header="govflow production stack (make prod-up): source this file to reach it",
    )
    return {"url": s.api_url, "user": "admin", "password": passwords["admin"], "env": str(s.root / "env")}


def _apply_policy_as_admin(s: StackSettings, password: str) -> None:
    from govflow.api_session import GovernanceApi, Login
    from govflow.policy import load_policy

    credentials = {"username": "admin", "password": password}
    answer = httpx.post(f"{s.api_url}/auth/token", json=credentials, timeout=30)
    answer.raise_for_status()
    policy = load_policy(config.policy_path())
    api = GovernanceApi(Login(url=s.api_url, user="admin", access_token=str(answer.json()["access_token"])))
    try:
        api.apply_policy(policy.text, source=policy.source)
    finally:
        api.close()


def start_worker(s: StackSettings, name: str, queues: str) -> None:
    """Start (or leave running) one Celery worker consuming ``queues``."""
    if _running(s, name):
        return
    log = s.logs / f"{name}.log"
    log.unlink(missing_ok=True)  # "ready" must come from this start
    command = [
        _airflow(), "celery", "worker",
        "--celery-hostname", f"{name}@%h",
        "--queues", queues,
        "--concurrency", str(s.concurrency),
        "--skip-serve-logs",  # one machine: the api-server reads task logs from AIRFLOW_HOME
        "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    spawn(name, command, s.airflow_env(name), pids=s.pids, logs=s.logs)


def worker_ready(s: StackSettings, name: str) -> bool:
    log = s.logs / f"{name}.log"
    pid = read_pid(s.pids, name)
    return pid is not None and alive(pid) and log.exists() and " ready." in log.read_text(errors="replace")


def _command(name: str, s: StackSettings) -> list[str]:
    if name == "api-server":
        return [_airflow(), "api-server", "--host", "127.0.0.1", "--port", str(s.api_port)]
    if name == "triggerer":
        return [_airflow(), "triggerer", "--skip-serve-logs"]
    return [_airflow(), name]


def _running(s: StackSettings, name: str) -> bool:
    pid = read_pid(s.pids, name)
    return pid is not None and alive(pid)


def health(s: StackSettings) -> dict[str, str]:
    """Each component's state: Airflow's own health report, the workers, Redis and the S3 endpoint."""
    states: dict[str, str] = {}
    try:
        report = httpx.get(f"{s.api_url}/api/v2/monitor/health", timeout=5).json()
        for key, value in report.items():
            if isinstance(value, dict):
                states[key] = str(value.get("status"))
    except (httpx.HTTPError, ValueError) as err:
        states["api-server"] = f"unreachable ({type(err).__name__})"
    for name in s.all_workers:
        states[name] = "healthy" if worker_ready(s, name) else "starting"
    from govflow.prodstack._process import port_open

    states["redis"] = "healthy" if port_open(s.redis_port) else "down"
    states["s3"] = "healthy" if port_open(s.weed_port) else "down"
    return states


def wait_healthy(s: StackSettings, *, timeout: float) -> None:
    needed = ("metadatabase", "scheduler", "triggerer", "dag_processor", *s.all_workers, "redis", "s3")

    def ready() -> bool:
        for name in (*AIRFLOW_PROCESSES, *s.all_workers):
            pid = read_pid(s.pids, name)
            if pid is None or not alive(pid):
                log = s.logs / f"{name}.log"
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""
                raise RuntimeError(f"{name} exited during start-up (see {log}):\n{tail}")
        states = health(s)
        return all(states.get(name) == "healthy" for name in needed)

    try:
        wait_until("the stack", ready, timeout=timeout, log=s.logs / "api-server.log")
    except TimeoutError as err:
        raise TimeoutError(f"{err}\ncomponents: {health(s)}") from None


def down(s: StackSettings, *, keep_postgres: bool = True, say: Callable[[str], object] = print) -> list[str]:
    """Stop every process this stack started (by pid file); returns the names stopped."""
    stopped: list[str] = []
    if not s.pids.exists():
        return stopped
    names = sorted(p.stem for p in s.pids.glob("*.pid"))
    ordered = [n for prefix in _STOP_ORDER for n in names if n.startswith(prefix)]
    ordered += [n for n in names if n not in ordered and n not in ("redis", "weed", "postgres")]
    for name in ordered:
        if stop(s.pids, name, grace=30 if name.startswith("worker") else 20):
            stopped.append(name)
            say(f"stopped {name}")
    for name, stop_service in (("redis", services.stop_redis), ("weed", services.stop_weed)):
        if stop_service(s):
            stopped.append(name)
            say(f"stopped {name}")
    # A private cluster (a throwaway stack's) is the stack's own: it always goes. The machine's shared
    # server stays unless asked (and only if up started it).
    if (not keep_postgres or s.pg_mode == "private") and services.stop_postgres(s):
        stopped.append("postgres")
        say("stopped postgres")
    return stopped


def _settings_record(s: StackSettings) -> dict[str, Any]:
    record = asdict(s)
    record["root"] = str(s.root)
    return record


def load_settings(root: Path) -> StackSettings:
    """The settings a running stack was started with (so `down` finds its ports), else the defaults."""
    path = root / "stack.json"
    if path.exists():
        record = json.loads(path.read_text())
        record["root"] = Path(record["root"])
        return StackSettings(**record)
    return StackSettings.from_env(root)


def _run(command: list[str], env: dict[str, str], log: Path, *, timeout: float) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        code = subprocess.run(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
        ).returncode
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{' '.join(Path(command[0]).name.split() + command[1:])} failed ({log}):\n{tail}")


def settle_nightly(s: StackSettings, *, timeout: float = 300.0) -> None:
    """Wait until nightly_compliance is parsed and the run the scheduler creates for its latest
    interval when the DAG first appears (catchup=False) has ended, so a run triggered next covers
    exactly the models due then (the benchmark and the fault tests seed models after this)."""
    from datetime import UTC, datetime

    from govflow.airflow_client import AirflowClient, AirflowError

    admin = AirflowClient(s.api_url, "admin", s.passwords()["admin"], timeout=30)

    def settled() -> bool:
        try:
            dag = admin.get_dag("nightly_compliance")
            runs = admin.list_runs("nightly_compliance")
        except AirflowError:
            return False
        after = dag.get("next_dagrun_run_after")
        if dag.get("is_paused") or not after:
            return False
        future = datetime.fromisoformat(after.replace("Z", "+00:00")) > datetime.now(UTC)
        return future and all(r.get("state") in ("success", "failed") for r in runs)

    wait_until("the first nightly_compliance run", settled, timeout=timeout)


def supervise(s: StackSettings, *, interval: float = SUPERVISE_INTERVAL) -> None:
    """Restart any Airflow process of the stack that died (what systemd's Restart=always or compose's
    restart policy does in production): e.g. the scheduler exits when PostgreSQL restarts under it.
    A process whose pid file is gone was stopped on purpose (prod-down, a test's kill) and stays down."""
    import time

    while True:
        for name in (*AIRFLOW_PROCESSES, *s.all_workers):
            pid = read_pid(s.pids, name)
            if pid is None or alive(pid):
                continue
            print(f"supervisor: {name} (pid {pid}) died; restarting it", flush=True)
            if name in s.all_workers:
                start_worker(s, name, s.all_workers[name])
            else:
                spawn(name, _command(name, s), s.airflow_env(name), pids=s.pids, logs=s.logs)
        _reap_children()
        time.sleep(interval)


def _reap_children() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
