"""The sandbox process that unpickles a model (run as ``python -I _sandbox_child.py SETTINGS_JSON``).

Self-contained on purpose: it imports nothing from govflow, runs with an empty
environment (no database URL, credentials or signing key) in a throwaway
folder, and answers the parent only with JSON metadata and ``.npy`` arrays
(``allow_pickle=False`` on the parent's side), so no object crosses back.

Before it reads the model it confines itself (``_isolate``), in this order:

1. rlimits: address space, CPU seconds, open files, no core dump;
2. as root: new mount, network and IPC namespaces (no interface but a down
   loopback: no connection anywhere, 127.0.0.1 included); a new root that is a
   tmpfs holding read-only binds of the Python installation only (``/usr``,
   the interpreter's prefix, the virtualenv) and ``/dev/null``, ``/dev/zero``,
   ``/dev/urandom``, a small writable ``/tmp``: no ``/proc``, no
   ``$GOVFLOW_HOME``, no key, no DB file, no govflow source (an editable
   install's path is not bound); then ``chroot``, ``setgroups([])``,
   ``setresgid``/``setresuid`` to nobody (65534), ``PR_SET_NO_NEW_PRIVS`` and
   ``RLIMIT_NPROC`` 1 (no fork, no thread);
3. not root: a new user and network namespace where the kernel allows
   unprivileged ones (no network); the same uid otherwise, so files that user
   can read stay readable (the parent is non-dumpable and holds no key in its
   environment; keep key files unreadable to it).

As root, any step that fails refuses to load (fail closed); the isolation
reached is reported to the parent in the metadata.

Frames: 8-byte big-endian length, then the payload. The parent sends the
model's bytes, then pickled requests ``{"method", "X", "kwargs"}``; each answer
starts with ``A`` (payload) or ``E`` (a one-line error).
"""

import inspect
import io
import json
import pickle
import struct
import sys
from typing import Any, BinaryIO


def _read(stream: BinaryIO) -> bytes | None:
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack(">Q", head)
    return stream.read(size)


def _write(stream: BinaryIO, tag: bytes, payload: bytes) -> None:
    stream.write(struct.pack(">Q", len(payload) + 1) + tag + payload)
    stream.flush()


def _first(model: Any, attribute: str) -> Any:
    # A wrapper (ThresholdOptimizer, a calibrated classifier...) keeps it on its inner estimator.
    for candidate in (model, getattr(model, "estimator_", None), getattr(model, "estimator", None)):
        value = getattr(candidate, attribute, None)
        if value is not None:
            return value
    return None


def _plain(values: Any) -> list[Any] | None:
    if values is None:
        return None
    out = []
    for value in list(values):
        value = value.item() if hasattr(value, "item") else value
        out.append(value if isinstance(value, (str, int, float, bool)) else str(value))
    return out


def _kind(model: Any) -> str:
    kind = type(model).__name__
    steps = getattr(model, "steps", None)
    if steps:
        kind += "(" + " > ".join(type(step).__name__ for _, step in steps) + ")"
    inner = getattr(model, "estimator_", None) or getattr(model, "estimator", None)
    if inner is not None and not steps:
        kind += f"[{_kind(inner)}]"
    return kind


def _describe(model: Any) -> dict[str, Any]:
    try:
        params = sorted(inspect.signature(model.predict).parameters)
    except (AttributeError, TypeError, ValueError):
        params = None
    return {
        "type": type(model).__name__,
        "kind": _kind(model),
        "has_predict": hasattr(model, "predict"),
        "predict_params": params,
        "features": _plain(_first(model, "feature_names_in_")),
        "classes": _plain(_first(model, "classes_")),
    }


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


_CLONE_NEWNS, _CLONE_NEWNET, _CLONE_NEWIPC, _CLONE_NEWUSER = 0x20000, 0x40000000, 0x08000000, 0x10000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = (
    1,
    2,
    4,
    32,
    4096,
    16384,
    1 << 18,
)
_PR_SET_NO_NEW_PRIVS = 38
NOBODY = 65534


def _libc() -> Any:
    import ctypes
    import ctypes.util

    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _call(result: int, what: str) -> None:
    if result != 0:
        import ctypes
        import os

        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(
    libc: Any, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
) -> None:
    enc = lambda v: v.encode() if v is not None else None  # noqa: E731 - local helper
    _call(libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _bind_ro(libc: Any, root: str, source: str) -> None:
    import os

    target = root + source
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        open(target, "a").close()
    _mount(libc, source, target, None, _MS_BIND | _MS_REC, None)
    _mount(libc, None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV, None)


def _views(settings: dict[str, Any]) -> list[str]:
    """The read-only folders of the new root: the Python installation, nothing nested twice."""
    import os

    wanted = sorted({os.path.realpath(p) for p in ["/usr", *settings.get("python_paths", [])] if p})
    out: list[str] = []
    for path in wanted:
        if os.path.isdir(path) and not any(path == o or path.startswith(o + "/") for o in out):
            out.append(path)
    return out


def _new_root(libc: Any, settings: dict[str, Any]) -> None:
    import os

    root = os.path.join(os.getcwd(), "root")
    os.makedirs(root, mode=0o755, exist_ok=True)
    _mount(libc, "tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,mode=755")
    # /tmp first: a Python installation under /tmp (a CI checkout's venv) is bound inside it, not hidden.
    os.makedirs(f"{root}/tmp", mode=0o1777, exist_ok=True)
    _mount(libc, "tmpfs", f"{root}/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64m,mode=1777")
    for path in _views(settings):
        _bind_ro(libc, root, path)
    for name in ("bin", "lib", "lib64", "lib32", "sbin"):  # merged /usr: top-level links into it
        if os.path.islink(f"/{name}"):
            os.symlink(os.readlink(f"/{name}"), f"{root}/{name}")
    for device in ("/dev/null", "/dev/zero", "/dev/urandom"):
        os.makedirs(f"{root}/dev", mode=0o755, exist_ok=True)
        open(root + device, "a").close()
        _mount(libc, device, root + device, None, _MS_BIND, None)
    if os.path.exists("/etc/ld.so.cache"):
        _bind_ro(libc, root, "/etc/ld.so.cache")
    os.chroot(root)
    os.chdir("/tmp")


def _isolate(settings: dict[str, Any]) -> list[str]:
    """Confine this process (see the module docstring); the steps reached, in order."""
    import os
    import resource

    reached = []
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    memory = int(settings.get("memory_bytes") or 0)
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(settings.get("cpu_seconds") or 0)
    if cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    reached.append("rlimits")
    libc = _libc()
    if os.geteuid() == 0:
        _call(libc.unshare(_CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC), "unshare")
        reached.append("no-network")
        _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE, None)  # nothing leaks back to the host
        _new_root(libc, settings)
        reached.append("read-only-root")
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
        reached.append("uid-nobody")
        resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))
    else:
        try:
            _call(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET), "unshare")
            reached.append("no-network")
        except OSError:
            pass  # unprivileged user namespaces are off on this kernel: the network stays reachable
    _call(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    return reached


def main() -> int:
    import joblib
    import numpy as np

    settings = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Anything the model prints must not corrupt the frames.
    sys.stdout = sys.stderr
    try:
        reached = _isolate(settings)
    except BaseException as err:  # noqa: BLE001 - any failed step refuses the load
        _write(stdout, b"E", f"the model sandbox could not confine itself: {_first_line(err)}".encode())
        return 1
    data = _read(stdin)
    if data is None:
        return 1
    try:
        model = joblib.load(io.BytesIO(data))
        meta = {**_describe(model), "isolation": reached}
    except BaseException as err:  # noqa: BLE001 - the file's code may raise anything
        _write(stdout, b"E", f"cannot load joblib model (in the sandbox): {_first_line(err)}".encode())
        return 1
    _write(stdout, b"A", json.dumps(meta).encode())
    while True:
        request = _read(stdin)
        if request is None:
            return 0
        try:
            call = pickle.loads(request)  # from the parent, the trusted side
            result = np.asarray(getattr(model, call["method"])(call["X"], **call["kwargs"]))
            if result.dtype.kind == "O":
                result = result.astype(str)
            buffer = io.BytesIO()
            np.save(buffer, result, allow_pickle=False)
            _write(stdout, b"A", buffer.getvalue())
        except BaseException as err:  # noqa: BLE001 - the model's code may raise anything
            _write(
                stdout,
                b"E",
                f"the model could not predict on the data (in the sandbox): {_first_line(err)}".encode(),
            )


if __name__ == "__main__":
    sys.exit(main())
