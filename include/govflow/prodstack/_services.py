"""The stack's servers: PostgreSQL, Redis and SeaweedFS (S3), started only where not already running.

PostgreSQL is this machine's server (``system``: started with pg_ctlcluster when down) or,
for tests that restart it, a private cluster on its own port (``private``), so restarting
it never disturbs anyone else. Redis is reused when its port answers, else started with an
append-only file under ``<root>/redis`` (queued Celery messages survive a restart).
SeaweedFS always runs under ``<root>/weed`` with the stack's S3 keys.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from govflow.prodstack._process import port_open, read_pid, spawn, stop, wait_until
from govflow.prodstack._settings import LOOPBACK, StackSettings

PG_BIN = Path("/usr/lib/postgresql")


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_bin(tool: str) -> str:
    found = sorted(PG_BIN.glob(f"*/bin/{tool}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {tool} not found under {PG_BIN}")
    return str(found[-1])


def _as_postgres(command: list[str]) -> list[str]:
    # The server refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def private_pg_dir(s: StackSettings) -> Path:
    # Outside <root>: the postgres user must be able to reach it (pytest's tmp dirs are 0700).
    return Path(tempfile.gettempdir()) / f"govflow-prod-pg-{s.pg_port}"


def start_postgres(s: StackSettings) -> None:
    if port_open(s.pg_port):
        return
    if s.pg_mode == "private":
        data = private_pg_dir(s)
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(data, "postgres", "postgres")
            subprocess.run(
                _as_postgres([_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]),
                check=True,
                capture_output=True,
            )
        _pg_ctl(s, "start")
        pid = int((data / "postmaster.pid").read_text().split()[0])
    else:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=True,
            capture_output=True,
        )
        wait_until("PostgreSQL", lambda: port_open(s.pg_port), timeout=60)
        pid = int(Path(f"/var/run/postgresql/{version}-main.pid").read_text().split()[0])
    s.pids.mkdir(parents=True, exist_ok=True)
    (s.pids / "postgres.pid").write_text(f"{pid}\n")


def _pg_ctl(s: StackSettings, action: str) -> None:
    data = private_pg_dir(s)
    options = f"-p {s.pg_port} -c listen_addresses={LOOPBACK} -k {data} -c max_connections=200"
    log = data / "server.log"
    subprocess.run(
        _as_postgres(
            [_pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-m", "fast", action]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )


def restart_postgres(s: StackSettings) -> None:
    """Restart the stack's PostgreSQL (the fault tests): fast shutdown drops every connection."""
    if s.pg_mode != "private":
        raise RuntimeError(
            "only a private PostgreSQL is restarted by the stack (GOVFLOW_PROD_PG_MODE=private)"
        )
    _pg_ctl(s, "restart")
    pid = int((private_pg_dir(s) / "postmaster.pid").read_text().split()[0])
    (s.pids / "postgres.pid").write_text(f"{pid}\n")


def stop_postgres(s: StackSettings) -> bool:
    """Stop PostgreSQL only if this stack started it (fast shutdown, never SIGKILL)."""
    if read_pid(s.pids, "postgres") is None:
        return False
    if s.pg_mode == "private":
        if (private_pg_dir(s) / "postmaster.pid").exists():
            _pg_ctl(s, "stop")
    else:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop"], check=False)
    (s.pids / "postgres.pid").unlink(missing_ok=True)
    return True


def remove_private_postgres(s: StackSettings) -> None:
    if s.pg_mode == "private":
        shutil.rmtree(private_pg_dir(s), ignore_errors=True)


def ensure_databases(s: StackSettings) -> None:
    import psycopg

    with psycopg.connect(
        s.pg_url("postgres", driver="postgresql"), autocommit=True, connect_timeout=10
    ) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for name in (s.airflow_db, s.govflow_db):
            if name not in existing:
                conn.execute(f'CREATE DATABASE "{name}"')


def drop_databases(s: StackSettings) -> None:
    import psycopg

    with psycopg.connect(
        s.pg_url("postgres", driver="postgresql"), autocommit=True, connect_timeout=10
    ) as conn:
        for name in (s.airflow_db, s.govflow_db):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Redis -----------------------------------------------------------------------------------


def start_redis(s: StackSettings) -> None:
    if port_open(s.redis_port):
        return
    folder = s.root / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        shutil.which("redis-server") or "redis-server",
        "--port", str(s.redis_port),
        "--bind", LOOPBACK,
        "--dir", str(folder),
        "--appendonly", "yes",
        "--appendfsync", "always",  # a queued task message is on disk before the executor hears OK
        "--save", "",
        "--daemonize", "no",
    ]  # fmt: skip
    spawn("redis", command, os.environ, pids=s.pids, logs=s.logs)
    wait_until("Redis", lambda: port_open(s.redis_port), timeout=30, log=s.logs / "redis.log")


def stop_redis(s: StackSettings) -> bool:
    return stop(s.pids, "redis", grace=20)


# --- SeaweedFS (S3) --------------------------------------------------------------------------


def weed_binary() -> str:
    local = Path(sys.executable).with_name("weed")
    return str(local) if local.exists() else (shutil.which("weed") or "weed")


def start_weed(s: StackSettings) -> None:
    folder = s.root / "weed"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    keys = s.secrets()
    identity = {
        "name": "govflow",
        "credentials": [{"accessKey": keys["s3_access_key"], "secretKey": keys["s3_secret_key"]}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config = folder / "s3.json"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"identities": [identity]}, handle)
    p = s.weed_ports()
    command = [
        weed_binary(), "server",
        f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}", f"-dir={folder / 'data'}",
        f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
        f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
        f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
        "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}",
        "-master.volumeSizeLimitMB=256", "-volume.max=50", "-metricsPort=0",
    ]  # fmt: skip
    spawn("weed", command, os.environ, pids=s.pids, logs=s.logs)
    wait_until("SeaweedFS S3", lambda: _bucket_ready(s), timeout=90, log=s.logs / "weed.log")


def _bucket_ready(s: StackSettings) -> bool:
    if not port_open(s.weed_port):
        return False
    from govflow import storage

    env = s.shared_env()
    # The stack's own settings, not this process's environment; a fresh client for every probe.
    fs = storage.resolve(
        f"s3://{s.bucket}",
        storage_options={
            "key": env["AWS_ACCESS_KEY_ID"],
            "secret": env["AWS_SECRET_ACCESS_KEY"],
            "endpoint_url": env["AWS_ENDPOINT_URL"],
            "skip_instance_cache": True,
        },
    ).fs
    try:
        if not fs.exists(s.bucket):
            fs.mkdir(s.bucket)
        probe = f"{s.bucket}/.health/{os.getpid()}-{time.time_ns()}"
        fs.pipe_file(probe, b"ok")
        ok = fs.cat_file(probe) == b"ok"
        fs.rm_file(probe)
        return ok
    except Exception:  # noqa: BLE001 - not ready yet (the volume server registers a little later)
        return False


def stop_weed(s: StackSettings) -> bool:
    # weed ignores SIGTERM for a long while: escalate to SIGKILL after a short grace.
    return stop(s.pids, "weed", grace=5)
