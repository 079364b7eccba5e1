"""Pickled models run in a confined child process; only predictions (arrays) come back.

A joblib/pickle file runs code when it is loaded. No tier of the default
policy accepts one; where a policy opts in, govflow never unpickles it in its
own process: ``SandboxedModel`` first seals this process (govflow.sealing: key
variables out of ``os.environ``, non-dumpable, so ``/proc/<parent>/environ``
and ``/proc/<parent>/mem`` are closed to the child), then starts
``_sandbox_child.py`` with an empty environment, isolated Python (``-I``), in
a throwaway folder, and talks to it over pipes. The child confines itself
before it reads the model (see its docstring): rlimits; as root, no network
(its own network namespace), a read-only root holding only the Python
installation (no ``$GOVFLOW_HOME``, keys, DB files, ``/proc`` or govflow's
source), uid nobody, no new privileges, no fork. Not root: no network where
unprivileged user namespaces are allowed, else the same user's view. It
answers with JSON metadata and ``.npy`` arrays read with ``allow_pickle=False``.

Settings: ``GOVFLOW_SANDBOX_TIMEOUT`` (seconds per answer and CPU seconds,
default 600), ``GOVFLOW_SANDBOX_MEMORY_MB`` (address space, default 4096).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import weakref
from pathlib import Path
from typing import Any

from govflow import sealing
from govflow.checks._result import CheckInputError

CHILD = Path(__file__).with_name("_sandbox_child.py")
# The only variables the child gets: nothing that names a database, a key or a credential.
CHILD_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1",
}


def _timeout() -> float:
    return float(os.environ.get("GOVFLOW_SANDBOX_TIMEOUT") or 600)


def _settings() -> str:
    """The child's confinement settings (its only argument: nothing secret)."""
    memory_mb = int(os.environ.get("GOVFLOW_SANDBOX_MEMORY_MB") or 4096)
    python_paths = sorted(
        {
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
            str(Path(os.path.realpath(sys.executable)).parent.parent),
        }
    )
    return json.dumps(
        {"python_paths": python_paths, "memory_bytes": memory_mb << 20, "cpu_seconds": int(_timeout())}
    )


class _Process:
    def __init__(self) -> None:
        sealing.seal_process()  # before the child exists: no key in reach of the file's code
        self.folder = tempfile.TemporaryDirectory(prefix="govflow-sandbox-")
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(CHILD), _settings()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self.folder.name,
            env={**CHILD_ENV, "HOME": self.folder.name, "TMPDIR": self.folder.name},
            close_fds=True,
        )

    def send(self, payload: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(struct.pack(">Q", len(payload)) + payload)
            self.proc.stdin.flush()
        except BrokenPipeError as err:
            self.receive()  # the child's own one-line reason (it could not confine itself), if it left one
            raise CheckInputError("the model sandbox process ended unexpectedly") from err

    def receive(self) -> bytes:
        size = struct.unpack(">Q", self._exact(8))[0]
        frame = self._exact(size)
        tag, payload = frame[:1], frame[1:]
        if tag == b"E":
            raise CheckInputError(payload.decode(errors="replace"))
        return payload

    def _exact(self, size: int) -> bytes:
        assert self.proc.stdout is not None
        fd, chunks, left = self.proc.stdout.fileno(), [], size
        while left:
            ready, _, _ = select.select([fd], [], [], _timeout())
            if not ready:
                self.close()
                raise CheckInputError(f"the model sandbox did not answer within {_timeout():.0f} s")
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise CheckInputError("the model sandbox process ended unexpectedly")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self.folder.cleanup()


class SandboxedModel:
    """A pickled model held by a sandbox process: metadata as data, ``predict`` returns arrays."""

    def __init__(self, data: bytes) -> None:
        import numpy as np

        self._process = _Process()
        self._finalizer = weakref.finalize(self, self._process.close)
        self._process.send(data)
        try:
            meta = json.loads(self._process.receive())
        except CheckInputError:
            self.close()
            raise
        self.kind = f"{meta['kind']} (sandboxed)"
        self.isolation: list[str] = list(meta.get("isolation") or [])
        self.model_type = str(meta.get("type") or "unknown")
        self.predict_params = meta.get("predict_params") or []
        if meta.get("features") is not None:
            self.feature_names_in_ = np.asarray([str(f) for f in meta["features"]], dtype=object)
        if meta.get("classes") is not None:
            self.classes_ = np.asarray(meta["classes"])
        if not meta.get("has_predict"):
            self.close()
            raise CheckInputError(f"the model ({meta['kind']}) has no predict method")

    def predict(self, X: Any, **kwargs: Any) -> Any:
        return self._call("predict", X, kwargs)

    def _call(self, method: str, X: Any, kwargs: dict[str, Any]) -> Any:
        import numpy as np

        self._process.send(pickle.dumps({"method": method, "X": X, "kwargs": kwargs}))
        return np.load(io.BytesIO(self._process.receive()), allow_pickle=False)

    def close(self) -> None:
        self._finalizer()


class SandboxedSensitiveModel(SandboxedModel):
    """A sandboxed Fairlearn post-processor: its ``predict`` takes the sensitive features."""

    def predict(self, X: Any, sensitive_features: Any = None, random_state: Any = None, **kwargs: Any) -> Any:
        if sensitive_features is not None:
            kwargs["sensitive_features"] = sensitive_features
        if random_state is not None:
            kwargs["random_state"] = random_state
        return self._call("predict", X, kwargs)


def load_sandboxed(data: bytes) -> SandboxedModel:
    model = SandboxedModel(data)
    if "sensitive_features" in model.predict_params:
        model.__class__ = SandboxedSensitiveModel
    return model
