"""Evidence of two versions of one model side by side: metrics, each check family's rows, the decision.

The rows per family are declared by the family (``CheckFamily.diff_rows``, from its view of the
version page); the diff shows one block per family that declares them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from govflow.checks.family import families
from govflow.policy import Policy
from govflow.service.version_view import version_view


def version_diff(session: Session, policy: Policy, name: str, a: str, b: str) -> dict[str, Any]:
    left = version_view(session, policy, name, a, audit_limit=1)
    right = version_view(session, policy, name, b, audit_limit=1)
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


def _pairs(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    keys = sorted(set(left) | set(right))
    return [
        {"key": k, "a": left.get(k), "b": right.get(k), "changed": left.get(k) != right.get(k)} for k in keys
    ]


def _view(detail: dict[str, Any], check: str) -> dict[str, Any]:
    return next((c.get("view") or {} for c in detail["checks"] if c["check"] == check), {})


def _statuses(detail: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: f"{c['status']} · {c['summary_text']}" for c in detail["checks"]}


def _decision(detail: dict[str, Any]) -> dict[str, Any] | None:
    newest = (detail.get("decisions") or [None])[0]
    if newest is None:
        return None
    return {
        "decision": newest["decision"],
        "reasons": [r.get("message") for r in newest.get("reasons") or ()],
    }


__all__ = ["version_diff"]
