"""What to do about each gate reason: the flag, note or command that fixes it (pure, table-driven).

A fix is advice attached to a reason; it never changes the decision, so replay
compares decisions without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from govflow.gate._types import Evidence, Reason

RERUN = "re-run the checks: govflow submit ... --trigger (or trigger governance_gate for the version)"

# The inputs each gate check reads, and how to give them.
INPUTS: dict[str, str] = {
    "validation": "give an expectation suite (submit --suite FILE) or --reference-data to infer one from",
    "pii": "register the training data (submit --training-data FILE)",
    "fairness": (
        "register held-out data with labels and predictions: submit --eval-data FILE --label COL "
        "--prediction COL --sensitive COL [--positive-label VALUE]"
    ),
    "drift": (
        "register --eval-data (drift compares it with --reference-data, which defaults to the training data)"
    ),
    "documentation": "govflow docs check --model M --version V lists every missing fact and its fix",
    "performance": "register the version's offline --metrics and a labeled batch with predictions",
}

FAILED: dict[str, str] = {
    "validation": (
        "fix the data so the failed expectations hold (listed in the evidence) and submit a new version"
    ),
    "pii": (
        "drop or mask the personal-data columns named in the evidence and submit a new version, "
        "or change the policy's allowed entities for the model's regions"
    ),
    "fairness": (
        "measure mitigations with govflow mitigate --model M --version V (Fairlearn's threshold, reductions "
        "and reweighting on held-out rows, each with its accuracy cost) and register the recommended "
        "challenger with --register NEW_VERSION"
    ),
    "drift": "retrain on current data, or register a --reference-data that matches what the model will meet",
    "performance": "retrain or investigate the drop against the registered --metrics",
}

WAIVE = (
    "or a reviewer accepts it with a reason: "
    "govflow waive --model M --version V --check {check} --reason TEXT"
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
    if code == "unknown_tier":
        return "give the model a known risk tier: govflow model register --risk-tier minimal|limited|high"
    if code == "check_missing":
        return f"{INPUTS.get(check, 'give the check its inputs')}; then {RERUN}"
    if code in ("evidence_other_version", "evidence_data_mismatch", "evidence_stale"):
        return RERUN
    if code == "check_errored":
        inputs = INPUTS.get(check, "fix its input")
        return f"the check could not run (its error is in the evidence): {inputs}; then {RERUN}"
    if code == "check_failed":
        if check == "documentation":
            return _documentation_fix(evidence)
        if check == "fairness":
            return f"{_fairness_fix(evidence)}, {WAIVE.format(check=check)}"
        return f"{FAILED.get(check, 'fix what the evidence shows')}, {WAIVE.format(check=check)}"
    if code == "rejected_by_approver":
        return "address the reviewer's comment and submit a new version (new evidence needs new approvals)"
    if code == "approvals_missing":
        roles = " or ".join(approver_roles) or "an approver role"
        return (
            f"a reviewer ({roles}, not the submitter) answers the request in Airflow's Required Actions, "
            "or runs govflow approve --model M --version V"
        )
    return None  # tier_prohibited and anything unknown: nothing the submitter can do


def _fairness_fix(evidence: Evidence | None) -> str:
    # The best option, when a mitigation was measured for this evidence (summary["mitigation"]).
    best = dict((evidence.summary if evidence else {}).get("mitigation") or {})
    if not best.get("candidate"):
        return FAILED["fairness"]
    return (
        f"{FAILED['fairness']}; best option found: {best['candidate']} "
        f"({best.get('disparity_metric', 'disparity')} "
        f"{best.get('disparity_before')} -> {best.get('disparity')}, "
        f"costing {best.get('cost')} {best.get('primary_metric', 'accuracy')})"
    )


def _documentation_fix(evidence: Evidence | None) -> str:
    fixes = list((evidence.summary if evidence else {}).get("fixes") or ())
    head = "complete the documentation"
    if fixes:
        return f"{head}: " + "; ".join(fixes) + f"; then {RERUN}"
    return f"{head}: {INPUTS['documentation']}; then {RERUN}"
