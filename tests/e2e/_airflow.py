"""Start a real Airflow 3 for end-to-end tests, and tear it down.

api-server, scheduler and dag-processor (triggerer optional: Airflow 3.3's
human-in-the-loop tasks wait in ``awaiting_input`` without it) run as
subprocesses, each in its own process group, with AIRFLOW_HOME in a temp
folder, the project's dags/ and plugins/, LocalExecutor, Airflow's metadata
DB in a throwaway PostgreSQL database, and SimpleAuthManager with known users
and passwords. Everything they print goes to ``<home>/logs/<process>.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from govflow.localairflow import SIMPLE_AUTH_MANAGER, local_airflow_env

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = os.environ.get("GOVFLOW_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
AIRFLOW_BIN = str(Path(sys.executable).with_name("airflow"))


@dataclass
class AirflowStack:
    home: Path
    url: str
    env: dict[str, str]
    users: dict[str, str]  # name -> password
    database: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def client(self, user: str = "admin"):
        from govflow.airflow_client import AirflowClient

        return AirflowClient(self.url, user, self.users[user], timeout=60)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.home / "logs" / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The worker log of one task try, read from AIRFLOW_HOME (for failure messages)."""
        root = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        files = sorted(root.glob(f"**/attempt={try_number}.log"))
        return files[0].read_text(errors="replace") if files else ""

    def stop(self) -> None:
        stop_processes(self.processes.values())
        self.processes.clear()
        drop_database(self.database)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "skip the e2e tests"
        return False


def airflow_env(
    home: Path,
    *,
    port: int,
    sql_alchemy_conn: str,
    users: Mapping[str, str],
    roles: Mapping[str, str],
    dags_folder: Path,
    plugins_folder: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    passwords_file = home / "passwords.json"
    passwords_file.write_text(json.dumps(dict(users)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    # govflow's one local-Airflow configuration, on a PostgreSQL metadata DB, plus what the tests need.
    env.update(
        local_airflow_env(
            home=home,
            project=dags_folder.parent,
            port=port,
            host="127.0.0.1",
            users=",".join(f"{u}:{roles[u]}" for u in users),
            passwords_file=passwords_file,
            sql_alchemy_conn=sql_alchemy_conn,
            parallelism=4,
            dev_mode=False,
        )
    )
    env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder),
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            # Every process must sign and check the same tokens.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__FERNET_KEY": "",
            # Pick up new DAG files and runs quickly: tests wait on them.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def start_airflow(
    home: Path,
    *,
    users: Mapping[str, str],
    roles: Mapping[str, str] | None = None,
    dags_folder: Path = REPO / "dags",
    plugins_folder: Path = REPO / "plugins",
    extra_env: Mapping[str, str] | None = None,
    triggerer: bool = False,
    timeout: float = 300.0,
) -> AirflowStack:
    """Migrate a fresh PostgreSQL database and start the Airflow processes; wait until healthy."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "logs").mkdir(exist_ok=True)
    roles = dict(roles or {})
    roles = {u: roles.get(u, "admin") for u in users}
    database = f"airflow_e2e_{secrets.token_hex(4)}"
    dsn = create_database(database)
    port = free_port()
    env = airflow_env(
        home,
        port=port,
        sql_alchemy_conn=dsn.replace("postgresql://", "postgresql+psycopg2://", 1),
        users=users,
        roles=roles,
        dags_folder=dags_folder,
        plugins_folder=plugins_folder,
        extra=extra_env,
    )
    stack = AirflowStack(
        home=home, url=f"http://127.0.0.1:{port}", env=env, users=dict(users), database=database
    )
    try:
        _run([AIRFLOW_BIN, "db", "migrate"], env, home / "logs" / "db-migrate.log", timeout=timeout)
        commands = {
            "api-server": [AIRFLOW_BIN, "api-server", "--port", str(port), "--host", "127.0.0.1"],
            "scheduler": [AIRFLOW_BIN, "scheduler"],
            "dag-processor": [AIRFLOW_BIN, "dag-processor"],
        }
        if triggerer:
            commands["triggerer"] = [AIRFLOW_BIN, "triggerer"]
        for name, command in commands.items():
            stack.processes[name] = _spawn(command, env, home / "logs" / f"{name}.log")
        wait_healthy(stack, timeout=timeout)
    except BaseException:
        stack.stop()
        raise
    return stack


def wait_healthy(stack: AirflowStack, *, timeout: float) -> None:
    """Wait until the api-server answers and reports scheduler and dag-processor healthy."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        for name, proc in stack.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {proc.returncode}:\n{stack.log_tail(name)}")
        try:
            health = httpx.get(f"{stack.url}/api/v2/monitor/health", timeout=5).json()
            states = {k: (v or {}).get("status") for k, v in health.items() if isinstance(v, dict)}
            last = json.dumps(states)
            if (
                states.get("metadatabase") == "healthy"
                and states.get("scheduler") == "healthy"
                and (states.get("dag_processor") in ("healthy", None))
            ):
                return
        except (httpx.HTTPError, ValueError) as err:
            last = f"{type(err).__name__}"
        time.sleep(2)
    raise TimeoutError(
        f"Airflow not healthy after {timeout:.0f}s (last: {last})\n{stack.log_tail('api-server')}"
    )


def stop_processes(processes, grace: float = 20.0) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left after ``grace`` seconds."""
    procs = [p for p in processes if p.poll() is None]
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for proc in procs:
        # The group may hold task subprocesses even after the leader exited.
        _signal_group(proc, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _run(command: list[str], env: dict[str, str], log: Path, *, timeout: float) -> None:
    proc = _spawn(command, env, log)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_processes([proc])
        raise TimeoutError(f"{' '.join(command[1:])} took more than {timeout:.0f}s") from None
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{' '.join(command[1:])} exited with {code}:\n{tail}")
