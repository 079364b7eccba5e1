"""Processes of the stack: started in their own session (process group), one pid file each,
stopped by pid: SIGTERM to the group, then SIGKILL after a grace period (``weed`` ignores
SIGTERM for a long while; a Celery worker waits for its running tasks)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


def spawn(name: str, command: Sequence[str], env: Mapping[str, str], *, pids: Path, logs: Path) -> int:
    """Start ``command`` detached (new session), output to ``logs/<name>.log``; write ``pids/<name>.pid``."""
    pids.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{name}.log", "ab") as out:
        proc = subprocess.Popen(
            list(command),
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (pids / f"{name}.pid").write_text(f"{proc.pid}\n")
    return proc.pid


def read_pid(pids: Path, name: str) -> int | None:
    try:
        return int((pids / f"{name}.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    """True while any process of the group (the leader's session) is left."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def stop(pids: Path, name: str, *, grace: float = 20.0) -> bool:
    """Stop the process group of ``name`` by its pid file; True if something was running."""
    pid = read_pid(pids, name)
    if pid is None:
        return False
    was_running = group_alive(pid)
    if was_running:
        _killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and group_alive(pid):
            _reap(pid)
            time.sleep(0.2)
        if group_alive(pid):
            _killpg(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and group_alive(pid):
                _reap(pid)
                time.sleep(0.1)
    _reap(pid)
    (pids / f"{name}.pid").unlink(missing_ok=True)
    return was_running


def kill(pids: Path, name: str) -> int:
    """SIGKILL ``name``'s whole process group at once (a crash, for the fault tests); returns the pid."""
    pid = read_pid(pids, name)
    if pid is None:
        raise RuntimeError(f"no pid file for {name}")
    # The pid file goes first: the stack's supervisor restarts only processes that still have one.
    (pids / f"{name}.pid").unlink(missing_ok=True)
    _killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and group_alive(pid):
        _reap(pid)
        time.sleep(0.1)
    return pid


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _reap(pid: int) -> None:
    # Only children of this process can be reaped; others are reaped by their parent/init.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port_block(size: int, start: int = 20000, end: int | None = None) -> int:
    """The first port of ``size`` consecutive free loopback ports (for tests and a second stack).

    Below the kernel's ephemeral range by default: a service stopped and restarted on its port
    (a fault test) would otherwise find it taken by some outgoing connection's local port (a
    pooled DB or broker connection lives for minutes), and fail to bind.
    """
    import random

    end = end if end is not None else _ephemeral_ports()[0]
    if end - size <= start:  # an unusual ephemeral range leaves no room below it
        end = 60000
    for _ in range(200):
        base = random.randrange(start, end - size)
        if all(_bindable(base + i) for i in range(size)):
            return base
    raise RuntimeError(f"no block of {size} free ports found")


def _ephemeral_ports() -> tuple[int, int]:
    """The kernel's range of local ports for outgoing connections (Linux's default if unreadable)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until(what: str, ready: Callable[[], bool], *, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s{tail}")
