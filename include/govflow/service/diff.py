"""Evidence of two versions of one model side by side: metrics, per-group fairness, drift, PII, decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from govflow.policy import Policy
from govflow.service.version_view import version_view


def version_diff(session: Session, policy: Policy, name: str, a: str, b: str) -> dict[str, Any]:
    left = version_view(session, policy, name, a, audit_limit=1)
    right = version_view(session, policy, name, b, audit_limit=1)
    return {
        "model": name,
        "a": a,
        "b": b,
        "metrics": _pairs(left.get("metrics") or {}, right.get("metrics") or {}),
        "checks": _pairs(_statuses(left), _statuses(right)),
        "fairness": _pairs(_fairness(left), _fairness(right)),
        "drift": _pairs(_drift(left), _drift(right)),
        "pii": _pairs(_pii(left), _pii(right)),
        "decision": {"a": _decision(left), "b": _decision(right)},
    }


def _pairs(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    keys = sorted(set(left) | set(right))
    return [
        {"key": k, "a": left.get(k), "b": right.get(k), "changed": left.get(k) != right.get(k)} for k in keys
    ]


def _view(detail: dict[str, Any], check: str) -> dict[str, Any]:
    return next((c.get("view") or {} for c in detail["checks"] if c["check"] == check), {})


def _statuses(detail: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: f"{c['status']} · {c['summary_text']}" for c in detail["checks"]}


def _fairness(detail: dict[str, Any]) -> dict[str, Any]:
    view = _view(detail, "fairness")
    out: dict[str, Any] = dict(view.get("summary") or {})
    metrics = view.get("shown_metrics") or view.get("metrics") or ()
    for group in view.get("groups") or ():
        for metric in metrics[:2]:
            out[f"{group['group']} · {metric}"] = group.get(metric)
    return out


def _drift(detail: dict[str, Any]) -> dict[str, Any]:
    columns = _view(detail, "drift").get("columns") or ()
    return {c["column"]: c.get("score") for c in columns if isinstance(c, dict)}


def _pii(detail: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in _view(detail, "pii").get("columns") or ():
        for found in column["entities"]:
            allowed = "allowed" if found.get("allowed") else "not allowed"
            out[f"{column['column']} · {found['entity']}"] = f"{found.get('rate')} ({allowed})"
    return out


def _decision(detail: dict[str, Any]) -> dict[str, Any] | None:
    newest = (detail.get("decisions") or [None])[0]
    if newest is None:
        return None
    return {
        "decision": newest["decision"],
        "reasons": [r.get("message") for r in newest.get("reasons") or ()],
    }


__all__ = ["version_diff"]
