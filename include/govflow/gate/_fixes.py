"""What to do about each gate reason: the flag, note or command that fixes it (pure, table-driven).

A fix is advice attached to a reason; it never changes the decision, so replay
compares decisions without it. What fixes a check's reason is declared by its
family (``govflow.checks.family``): how to give it its inputs, what to do when it failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from govflow.checks.family import RERUN, family
from govflow.gate._types import Evidence, Reason

WAIVE = (
    "or a reviewer accepts it with a reason: "
    "govflow waive --model M --version V --check {check} --reason TEXT --api"
)


def attach_fix(
    reason: Reason, evidence: Mapping[str, Evidence], *, approver_roles: tuple[str, ...] = ()
) -> Reason:
    """``reason`` with its fix (unchanged when it already has one, or when nothing can fix it)."""
    if reason.fix:
        return reason
    fix = _fix(reason, evidence.get(reason.evidence_id or ""), approver_roles)
    return replace(reason, fix=fix) if fix else reason


def _fix(reason: Reason, evidence: Evidence | None, approver_roles: tuple[str, ...]) -> str | None:
    code, check = reason.code, reason.check or ""
    declared = family(check)
    if code == "unknown_tier":
        return "give the model a known risk tier: govflow model register --risk-tier minimal|limited|high"
    if code == "check_missing":
        return f"{declared.fix_inputs if declared else 'give the check its inputs'}; then {RERUN}"
    if code in ("evidence_other_version", "evidence_data_mismatch", "evidence_stale"):
        return RERUN
    if code == "check_errored":
        inputs = declared.fix_inputs if declared else "fix its input"
        return f"the check could not run (its error is in the evidence): {inputs}; then {RERUN}"
    if code == "check_failed":
        failed = declared.failed_fix(evidence.summary if evidence else {}) if declared else None
        if declared is not None and not declared.waivable:
            return failed
        return f"{failed or 'fix what the evidence shows'}, {WAIVE.format(check=check)}"
    if code == "rejected_by_approver":
        return "address the reviewer's comment and submit a new version (new evidence needs new approvals)"
    if code == "approvals_missing":
        roles = " or ".join(approver_roles) or "an approver role"
        return (
            f"a reviewer ({roles}, not the submitter) answers the request in Airflow's Required Actions, "
            "or runs govflow approve --model M --version V --api"
        )
    return None  # tier_prohibited and anything unknown: nothing the submitter can do
