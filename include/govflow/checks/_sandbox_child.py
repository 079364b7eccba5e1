"""The sandbox process that unpickles a model (run as a script: ``python -I _sandbox_child.py``).

Self-contained on purpose: it imports nothing from govflow, runs with an empty
environment (no database URL, credentials or signing key) in a throwaway
folder, and answers the parent only with JSON metadata and ``.npy`` arrays
(``allow_pickle=False`` on the parent's side), so no object crosses back.

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


def main() -> int:
    import resource

    # No core dump can carry the model's (or anything else's) memory to disk.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    import joblib
    import numpy as np

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Anything the model prints must not corrupt the frames.
    sys.stdout = sys.stderr
    data = _read(stdin)
    if data is None:
        return 1
    try:
        model = joblib.load(io.BytesIO(data))
        meta = _describe(model)
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
