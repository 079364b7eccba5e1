"""JSON objects given on the command line (``--params``, ``--metrics``), nesting bounded first.

Python's JSON parser recurses once per ``[`` or ``{``: a few thousand levels raise
RecursionError (a traceback, not a one-line error), and fewer still make every later
canonical encoding of the params (the audit trail's) slow. So the text is scanned once,
counting brackets outside strings, and refused past ``GOVFLOW_MAX_PARAMS_DEPTH`` levels
(default 32) before it is parsed.
"""

from __future__ import annotations

import os
from typing import Any

from govflow.errors import BadInputError
from govflow.service.registry import parse_json_object

__all__ = ["DEFAULT_MAX_DEPTH", "MAX_DEPTH_ENV", "json_depth", "json_object", "max_depth"]

MAX_DEPTH_ENV = "GOVFLOW_MAX_PARAMS_DEPTH"
DEFAULT_MAX_DEPTH = 32


def max_depth() -> int:
    raw = os.environ.get(MAX_DEPTH_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_DEPTH
    if not raw.isdigit() or int(raw) <= 0:
        raise BadInputError(f"{MAX_DEPTH_ENV} must be a positive whole number, got {raw[:40]!r}")
    return int(raw)


def json_depth(text: str, *, stop_after: int | None = None) -> int:
    """The deepest bracket nesting of JSON ``text`` (strings skipped); stops counting once past
    ``stop_after``."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_after is not None and deepest > stop_after:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def json_object(text: str | None, *, what: str) -> dict[str, Any]:
    """``text`` parsed as a JSON object; BadInputError (one line) when malformed or nested too deep."""
    if text:
        limit = max_depth()
        if json_depth(text, stop_after=limit) > limit:
            raise BadInputError(f"{what} nests deeper than {limit} levels ({MAX_DEPTH_ENV})")
    return parse_json_object(text, what=what)
