"""One serialiser per stored row type: what the CLI (--json), the Governance view and the documents show.

Every adapter goes through these, so a field has one name everywhere:

``version_to_dict`` / ``model_to_dict`` (registry), ``check_result_to_dict``
(checks), ``decision_to_dict`` (service.gate, which imports this module), and
here ``approval_to_dict``, ``waiver_to_dict`` and ``recorded_to_dict`` (an
approval or waiver just recorded, with what the gate would decide now:
``gate_preview``). This module imports no other use case, so all of them can use it.
"""

from __future__ import annotations

from typing import Any

from govflow.gate import Decision
from govflow.service.checks import check_result_to_dict
from govflow.service.registry import model_to_dict, version_to_dict
from govflow.store import Approval, Waiver
from govflow.timeutil import iso_utc

__all__ = [
    "approval_to_dict",
    "check_result_to_dict",
    "model_to_dict",
    "preview_to_dict",
    "recorded_to_dict",
    "version_to_dict",
    "waiver_to_dict",
]


def approval_to_dict(row: Approval) -> dict[str, Any]:
    return {
        "id": row.id,
        "decision_id": row.decision_id,
        "approver": row.approver,
        "role": row.role,
        "verdict": row.verdict,
        "comment": row.comment,
        "evidence_digest": row.evidence_digest,
        "auth_method": row.auth_method,
        "created_at": iso_utc(row.created_at),
    }


def waiver_to_dict(row: Waiver) -> dict[str, Any]:
    return {
        "id": row.id,
        "check": row.check,
        "check_result_id": row.check_result_id,
        "reason": row.reason,
        "waived_by": row.waived_by,
        "role": row.role,
        "evidence_digest": row.evidence_digest,
        "auth_method": row.auth_method,
        "created_at": iso_utc(row.created_at),
    }


def preview_to_dict(decision: Decision) -> dict[str, Any]:
    """What the gate would decide now (not stored): the decision, its reasons and the approvals."""
    return {
        "decision": decision.decision,
        "reasons": [r.to_dict() for r in decision.reasons],
        "approvals_required": decision.approvals_required,
        "approved_by": list(decision.approved_by),
    }


def recorded_to_dict(
    row: Approval | Waiver, preview: Decision, *, model: str, version: str
) -> dict[str, Any]:
    """An approval or waiver just recorded (the CLI and the Governance API answer the same)."""
    fields = approval_to_dict(row) if isinstance(row, Approval) else waiver_to_dict(row)
    return {"model": model, "version": version, **fields, "gate_preview": preview_to_dict(preview)}
