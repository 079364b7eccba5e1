"""The stack's settings: one source for `make prod-up`, the tests, the benchmark and docker-compose.

Every value comes from ``GOVFLOW_PROD_*`` environment variables or a default, and the
generated secrets (Airflow passwords, JWT secret, Fernet key, S3 keys) are created once
under ``<root>/secrets.json`` (mode 0600) and reused, so a restarted stack keeps its logins.
``airflow_env(process)`` is the environment of one Airflow process (with its role's key only:
the decision key for the api-server and the decision-queue worker, the check-result key for the
check workers, none for the rest); ``client_env()`` is what
``<root>/env`` tells scripts and people; ``compose_env()`` is the same settings with the
compose service names as hosts (written to ``deploy/prod.env`` by ``python -m govflow.prodstack
compose-env``).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govflow.localairflow import find_project

# The checkout this stack runs (a repository tool: it needs one).
REPO = find_project() or Path.cwd()
LOOPBACK = "127.0.0.1"
# Airflow users (SimpleAuthManager role) = govflow users (include/govflow/data/policies/users.yaml).
AIRFLOW_ROLES = {"admin": "admin", "alice": "user", "rita": "user", "rob": "user", "vera": "viewer"}
# Tasks that need the big libraries (Presidio/spaCy, Fairlearn/scikit-learn) go to this queue.
HEAVY_QUEUE = "heavy"
# Tasks that sign with the decision key (register, decide, record answers, promote, checkpoint) go to
# this queue; only its workers (and the api-server, which records web approvals) hold that key.
DECISION_QUEUE = "govern"
# Which key each process holds: the decision key, the check-result key, or none (scheduler,
# dag-processor, triggerer and the supervisor sign nothing).
DECISION, CHECK, NO_KEY = "decision", "check", "none"
DECISION_PROCESSES = ("api-server",)
# Offsets from the SeaweedFS base port (the S3 endpoint) for its other listeners.
_WEED_PORTS = ("s3", "s3_grpc", "master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass
class StackSettings:
    root: Path
    api_port: int = 8180
    pg_port: int = 5432
    pg_mode: str = "system"  # "system": this machine's server; "private": a cluster under <root>/postgres
    redis_port: int = 6379
    weed_port: int = 18333
    airflow_db: str = "govflow_prod_airflow"
    govflow_db: str = "govflow_prod"
    bucket: str = "govflow"
    # name -> comma-separated queues; only worker-2 takes the heavy checks by default.
    workers: dict[str, str] = field(
        default_factory=lambda: {"worker-1": "default", "worker-2": f"default,{HEAVY_QUEUE}"}
    )
    # Workers of the decision queue: they hold the decision key and run no check on submitted input.
    decision_workers: dict[str, str] = field(default_factory=lambda: {"worker-gov": DECISION_QUEUE})
    concurrency: int = 2
    heartbeat_timeout: int = 120  # seconds without a task heartbeat before the scheduler retries it
    # A task message a dead worker had reserved is re-queued after this long (Airflow's queued timeout).
    # It must exceed how long a task may wait in Celery's queue: parallelism (below) keeps that short.
    queued_timeout: int = 600
    # Workers preload govflow's own modules too: restart them on every code deploy (prod-down, prod-up).
    preload_govflow: bool = True
    # Seconds a failed DAG task waits before its retry; None: the DAGs' defaults (30 s gate, 60 s nightly).
    task_retry_delay: int | None = None
    # The benchmark's file where each nightly task appends what it cost (govflow.tasks._cost).
    cost_ledger: str | None = None
    # nightly_compliance's cron; None: GOVFLOW_NIGHTLY_CRON, else 02:00 (tests and benchmarks move it
    # away from their runs, or its own run takes their models).
    nightly_cron: str | None = None

    @classmethod
    def from_env(cls, root: Path | None = None) -> StackSettings:
        root = Path(root or os.environ.get("GOVFLOW_PROD_DIR") or REPO / ".prod").resolve()
        return cls(
            root=root,
            api_port=_env_int("GOVFLOW_PROD_API_PORT", 8180),
            pg_port=_env_int("GOVFLOW_PROD_PG_PORT", 5432),
            pg_mode=os.environ.get("GOVFLOW_PROD_PG_MODE") or "system",
            redis_port=_env_int("GOVFLOW_PROD_REDIS_PORT", 6379),
            weed_port=_env_int("GOVFLOW_PROD_WEED_PORT", 18333),
            concurrency=_env_int("GOVFLOW_PROD_CONCURRENCY", 2),
        )

    @classmethod
    def ephemeral(cls, root: Path, **overrides: Any) -> StackSettings:
        """A throwaway stack (tests, benchmarks): free loopback ports, its own PostgreSQL cluster and
        Redis, uniquely named databases; it coexists with a developer's `make prod-up`."""
        from govflow.prodstack._process import free_port_block

        base = free_port_block(12)
        token = secrets.token_hex(3)
        values: dict[str, Any] = {
            "root": root,
            "weed_port": base,
            "api_port": base + 8,
            "redis_port": base + 9,
            "pg_port": base + 10,
            "pg_mode": "private",
            "airflow_db": f"airflow_{token}",
            "govflow_db": f"govflow_{token}",
        }
        return cls(**(values | overrides))

    # --- derived -------------------------------------------------------------------------------

    @property
    def heavy_queue_needed(self) -> bool:
        """Whether some check worker does not take the heavy queue (so heavy checks must be routed)."""
        return any(HEAVY_QUEUE not in queues.split(",") for queues in self.workers.values())

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.api_port}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.weed_port}"

    def weed_ports(self) -> dict[str, int]:
        return {name: self.weed_port + i for i, name in enumerate(_WEED_PORTS)}

    def pg_url(self, database: str, *, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://postgres@{LOOPBACK}:{self.pg_port}/{database}"

    @property
    def redis_url(self) -> str:
        return f"redis://{LOOPBACK}:{self.redis_port}/0"

    @property
    def roles_file(self) -> Path:
        return REPO / "include" / "govflow" / "data" / "policies" / "users.yaml"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def govflow_home(self) -> Path:
        return self.root / "govflow"

    def secrets(self) -> dict[str, str]:
        """Generated once per stack root, then reused (0600)."""
        path = self.root / "secrets.json"
        if path.exists():
            return json.loads(path.read_text())
        self.root.mkdir(parents=True, exist_ok=True)
        values = {f"password_{user}": secrets.token_urlsafe(12) for user in AIRFLOW_ROLES}
        values |= {
            "jwt_secret": secrets.token_hex(32),
            "api_secret_key": secrets.token_hex(32),
            "fernet_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "s3_access_key": "govflow" + secrets.token_hex(4),
            "s3_secret_key": secrets.token_urlsafe(24),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(values, handle, indent=2)
        return values

    def passwords(self) -> dict[str, str]:
        values = self.secrets()
        return {user: values[f"password_{user}"] for user in AIRFLOW_ROLES}

    # --- environments --------------------------------------------------------------------------

    def shared_env(self, *, host: dict[str, str] | None = None) -> dict[str, str]:
        """Settings every Airflow process and every govflow client shares (hosts overridable)."""
        h = {"postgres": LOOPBACK, "redis": LOOPBACK, "s3": LOOPBACK, "api": LOOPBACK} | (host or {})
        public = h.get("public", f"http://{h['api']}:{self.api_port}")
        values = self.secrets()
        pg = f"postgres@{h['postgres']}:{self.pg_port}"
        return {
            "GOVFLOW_DB_URL": f"postgresql+psycopg2://{pg}/{self.govflow_db}",
            "GOVFLOW_ARTIFACTS": f"s3://{self.bucket}/artifacts",
            # Keys are per process (key_env): the decision key only where decisions are signed.
            "GOVFLOW_TRUSTED_KEYS_DIR": str(self.root / "keys"),
            "GOVFLOW_DECISION_QUEUE": DECISION_QUEUE,
            # Heavy checks get their own queue only where some worker lacks the memory for them; when
            # every worker takes it, a nightly group is one task (check_table.nightly_tasks).
            **({"GOVFLOW_HEAVY_QUEUE": HEAVY_QUEUE} if self.heavy_queue_needed else {}),
            # One thread per task slot: a worker runs `concurrency` tasks side by side, and OpenMP/BLAS
            # pools sized to every core then spin against each other (a small gradient-boosting fit in
            # the fairness explanation took 9x longer with two threads than with one on this machine).
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            # nightly_compliance packs its models into one group per worker slot (a task per check each).
            "GOVFLOW_NIGHTLY_PARALLELISM": str(self.concurrency * len(self.workers)),
            # The deployment's users and roles (the bundled ones: rita and rob review, alice submits).
            "GOVFLOW_ROLES_FILE": str(self.roles_file),
            "AWS_ENDPOINT_URL": f"http://{h['s3']}:{self.weed_port}",
            "AWS_ACCESS_KEY_ID": values["s3_access_key"],
            "AWS_SECRET_ACCESS_KEY": values["s3_secret_key"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "GOVFLOW_PROD_BUCKET": self.bucket,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{pg}/{self.airflow_db}",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{h['redis']}:{self.redis_port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{pg}/{self.airflow_db}",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "govflow.prodstack.celery_config.CELERY_CONFIG",
            "GOVFLOW_PRELOAD_GOVFLOW": "1" if self.preload_govflow else "0",
            # Only where set: a deployment keeps the DAGs' defaults (compose's env file stays as it is).
            **(
                {"GOVFLOW_TASK_RETRY_DELAY_SECONDS": str(self.task_retry_delay)}
                if self.task_retry_delay is not None
                else {}
            ),
            **({"GOVFLOW_COST_LEDGER": self.cost_ledger} if self.cost_ledger else {}),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # Twice the worker slots: the rest wait in Airflow (scheduled), not in Celery's queue, where
            # a long wait would count against the queued timeout and expire the tasks' tokens.
            "AIRFLOW__CORE__PARALLELISM": str(2 * self.concurrency * len(self.all_workers)),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(2 * self.concurrency * len(self.all_workers)),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{u}:{r}" for u, r in AIRFLOW_ROLES.items()
            ),
            "AIRFLOW__CORE__FERNET_KEY": values["fernet_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": values["jwt_secret"],
            "AIRFLOW__API__SECRET_KEY": values.get("api_secret_key") or values["jwt_secret"][::-1],
            "AIRFLOW__API__BASE_URL": public,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{h['api']}:{self.api_port}/execution/",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__WORKERS": "1",
            # A worker that died mid-task is noticed after this long; the task is then retried.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(self.heartbeat_timeout),
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(self.queued_timeout),
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": str(max(10, self.queued_timeout // 4)),
            # Redis redelivers an unacknowledged message after this long (Airflow's default is 6 hours).
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "1800",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            # A task's supervisor notices its process exit only when its wait (this interval) times out
            # if the process closed its sockets first: with Airflow's 5 s, a finished task often held
            # its worker slot 5 s longer (seen on most documentation tasks). 1 s costs one heartbeat
            # request per running task per second; raise it on a large fleet.
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            # No Variable lookup while parsing the nightly DAG (every task parses its DAG file).
            "GOVFLOW_NIGHTLY_CRON": self.nightly_cron
            or os.environ.get("GOVFLOW_NIGHTLY_CRON")
            or "0 2 * * *",
        }

    def warehouse_url(self, *, host: str = LOOPBACK) -> str:
        """The Airflow connection URI of the stack's warehouse database (the demo's partitioned
        production tables: govflow.prodstack._partitioned)."""
        return f"postgresql://postgres@{host}:{self.pg_port}/{self.govflow_db}_warehouse"

    @property
    def all_workers(self) -> dict[str, str]:
        """Every Celery worker: the check workers, then the decision queue's."""
        return self.workers | self.decision_workers

    @property
    def decision_key_file(self) -> Path:
        return self.root / "keys" / "audit-signing.pem"

    @property
    def check_key_file(self) -> Path:
        return self.root / "keys" / "check-worker.pem"  # its .pub (check-*.pub) is a check-result key

    def key_role(self, process: str) -> str:
        """Which key ``process`` holds (DECISION, CHECK or NO_KEY)."""
        if process in self.decision_workers or process in DECISION_PROCESSES:
            return DECISION
        return CHECK if process in self.workers else NO_KEY

    def key_env(self, role: str) -> dict[str, str]:
        if role == DECISION:
            return {"GOVFLOW_SIGNING_KEY_FILE": str(self.decision_key_file)}
        if role == CHECK:
            return {"GOVFLOW_CHECK_SIGNING_KEY_FILE": str(self.check_key_file)}
        return {}

    def airflow_env(self, process: str | None = None) -> dict[str, str]:
        """The complete environment of an Airflow process of this stack (on this machine); the keys
        are ``process``'s own (``key_role``); no process name: the decision key (migrations)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GOVFLOW_", "AWS_"))}
        venv_bin = str(Path(sys.executable).parent)
        env |= self.shared_env() | {
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.root / "passwords.json"),
            "AIRFLOW__API__HOST": LOOPBACK,
            "GOVFLOW_HOME": str(self.govflow_home),
            "PATH": f"{venv_bin}:{env.get('PATH', '/usr/bin:/bin')}",
            # The govflow of this checkout (the one whose DAGs are served), whichever checkout the
            # venv was installed from.
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO / "include"), env.get("PYTHONPATH")) if p),
            "PYTHONUNBUFFERED": "1",
            # conn://govflow_warehouse/... tables (partitioned monitoring sources) read on the workers.
            "AIRFLOW_CONN_GOVFLOW_WAREHOUSE": self.warehouse_url(),
        }
        return env | self.key_env(DECISION if process is None else self.key_role(process))

    def client_env(self) -> dict[str, str]:
        """What ``<root>/env`` holds: how scripts and people reach the stack (admin login)."""
        keep = (
            "GOVFLOW_DB_URL",
            "GOVFLOW_SIGNING_KEY_FILE",
            "GOVFLOW_TRUSTED_KEYS_DIR",
            "GOVFLOW_ROLES_FILE",
            "GOVFLOW_ARTIFACTS",
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "GOVFLOW_PROD_BUCKET",
        )
        shared = self.shared_env() | self.key_env(DECISION)  # the operator's CLI: an admin's machine
        return (
            {
                "GOVFLOW_AIRFLOW_URL": self.api_url,
                "GOVFLOW_AIRFLOW_USER": "admin",
                "GOVFLOW_AIRFLOW_PASSWORD": self.passwords()["admin"],
            }
            | {k: shared[k] for k in keep}
            | {"GOVFLOW_HOME": str(self.govflow_home / "client")}
            | {"AIRFLOW_CONN_GOVFLOW_WAREHOUSE": self.warehouse_url()}
        )

    def compose_env(self) -> dict[str, str]:
        """The same settings for docker-compose.yaml: hosts are the compose services, paths the image's."""
        # Inside compose every server listens on its standard port, under its service name.
        standard = dataclasses.replace(self, api_port=8080, weed_port=8333, redis_port=6379, pg_port=5432)
        hosts = {"postgres": "postgres", "redis": "redis", "s3": "s3", "api": "api-server"}
        env = standard.shared_env(host=hosts | {"public": "http://localhost:8080"})
        env |= {
            "AIRFLOW__CORE__DAGS_FOLDER": "/opt/govflow/dags",
            "AIRFLOW__CORE__PLUGINS_FOLDER": "/opt/govflow/plugins",
            "GOVFLOW_HOME": "/opt/govflow/state",
            "GOVFLOW_ROLES_FILE": "/opt/govflow/include/policies/users.yaml",
        }
        # Secrets and database logins stay out of the generated file: docker-compose.yaml sets them
        # from .env (its secrets and DB-role lines).
        for key in (
            "GOVFLOW_DB_URL",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "AIRFLOW__CELERY__RESULT_BACKEND",
            "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__API_AUTH__JWT_SECRET",
            "AIRFLOW__API__SECRET_KEY",
            "GOVFLOW_TRUSTED_KEYS_DIR",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ):
            env.pop(key)
        return env


def write_env_file(path: Path, values: dict[str, str], *, header: str = "") -> None:
    """``KEY=value`` lines a shell can source (values single-quoted), mode 0600 (it holds a password)."""
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    lines += [f"{key}='{value}'" for key, value in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
