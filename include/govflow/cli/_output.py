"""Printing results: exactly one JSON object with --json, readable lines without."""

from __future__ import annotations

import json
import sys
from typing import Any


def to_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=False, default=_default, allow_nan=False)


def emit(payload: dict[str, Any], *, as_json: bool, lines: list[str] | None = None) -> None:
    """Print ``payload`` as one JSON object, or ``lines`` (default: key: value) for people."""
    if as_json:
        sys.stdout.write(to_json(_finite(payload)) + "\n")
        return
    for line in lines if lines is not None else [f"{k}: {v}" for k, v in payload.items()]:
        print(line)


def _finite(obj: Any) -> Any:
    # JSON has no NaN/Infinity; an undefined metric is null.
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _default(obj: Any) -> Any:
    import datetime as dt
    from pathlib import Path

    if isinstance(obj, (dt.datetime, dt.date)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return _finite(obj.item())
    if hasattr(obj, "tolist"):
        return _finite(obj.tolist())
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
