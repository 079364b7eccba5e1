"""Evidence of two versions of one model side by side: metrics, each check family's rows, the decision.

The rows per family are declared by the family (``CheckFamily.diff_rows``, from its view of the
version page); the diff shows one block per family that declares them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from govflow.access import User
from govflow.checks.family import families
from govflow.policy import Policy
from govflow.service.version_view import version_view


def version_diff(
    session: Session, policy: Policy, name: str, a: str, b: str, *, viewer: User | None = None
) -> dict[str, Any]:
    left = version_view(session, policy, name, a, audit_limit=1, viewer=viewer)
    right = version_view(session, policy, name, b, audit_limit=1, viewer=viewer)
    diff: dict[str, Any] = {
        "model": name,
        "a": a,
        "b": b,
        "metrics": _pairs(left.get("metrics") or {}, right.get("metrics") or {}),
        "checks": _pairs(_statuses(left), _statuses(right)),
    }
    for declared in families():
        if declared.diff_rows is not None:
            rows = declared.diff_rows
            diff[declared.name] = _pairs(rows(_view(left, declared.name)), rows(_view(right, declared.name)))
    diff["decision"] = {"a": _decision(left), "b": _decision(right)}
    return diff


DIGITS = 4  # what a reviewer compares; the evidence keeps full precision


def rounded(value: Any) -> Any:
    """Floats to ``DIGITS`` decimals (never 17-digit floats in the diff); other values as they are."""
    return round(value, DIGITS) if isinstance(value, float) else value


def _pairs(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    keys = sorted(set(left) | set(right))
    out = []
    for k in keys:
        a, b = rounded(left.get(k)), rounded(right.get(k))
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        delta = rounded(float(b) - float(a)) if numbers else None
        out.append({"key": k, "a": a, "b": b, "delta": delta, "changed": a != b})
    return out


def _view(detail: dict[str, Any], check: str) -> dict[str, Any]:
    # The gate's evidence (what the approvers saw) is what two versions are compared on.
    return next(
        (
            c.get("view") or {}
            for c in detail["checks"]
            if c["check"] == check and c.get("kind") != "monitoring"
        ),
        {},
    )


def _statuses(detail: dict[str, Any]) -> dict[str, str]:
    # One row per check and kind, labelled with the data it was computed on and its rows.
    out = {}
    for c in detail["checks"]:
        key = c["check"] if c.get("kind") != "monitoring" else f"{c['check']} (monitoring)"
        rows = f", {c['rows']:,} rows" if c.get("rows") else ""
        out[key] = f"{c['status']} · {c['summary_text']} [{c.get('data_set', '')}{rows}]"
    return out


def _decision(detail: dict[str, Any]) -> dict[str, Any] | None:
    newest = (detail.get("decisions") or [None])[0]
    if newest is None:
        return None
    return {
        "decision": newest["decision"],
        "reasons": [r.get("message") for r in newest.get("reasons") or ()],
    }


__all__ = ["rounded", "version_diff"]
