"""Numbers as documents show them: finite floats or nothing, and a short fixed-precision text."""

from __future__ import annotations

import math
from typing import Any


def number(value: Any) -> float | None:
    """A finite float, or None for anything missing, non-numeric or NaN."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def fmt_number(value: Any, digits: int = 3) -> str:
    out = number(value)
    if out is None:
        return "n/a"
    if out == int(out):
        return str(int(out))
    return f"{out:.{digits}f}"
