"""govflow's one vocabulary: the names every layer shares (checks, statuses, tiers, stages, decisions).

Each word list is a ``Literal`` type (for signatures and mypy) and a tuple of
the same values (for validation, choices and DB constraints); the tuple is
derived from the type so the two cannot drift apart. Import from here instead
of spelling the words again.
"""

from __future__ import annotations

from typing import Literal, get_args

# Checks a policy can require of a tier (documentation is produced by the docs service; performance,
# at the gate, compares the candidate with the production version).
PolicyCheck = Literal["validation", "pii", "fairness", "drift", "documentation", "performance"]
POLICY_CHECKS: tuple[PolicyCheck, ...] = get_args(PolicyCheck)

# Every kind of stored check result (performance is a nightly re-check on labelled data).
# Explanations are not a check of their own: they ride in the fairness evidence.
CheckName = Literal["validation", "pii", "fairness", "drift", "documentation", "performance"]
CHECK_NAMES: tuple[CheckName, ...] = get_args(CheckName)

# Outcome of one check; the gate passes only ``pass`` (and ``warn`` where the tier allows it).
Status = Literal["pass", "warn", "fail", "error"]
STATUSES: tuple[Status, ...] = get_args(Status)

# EU AI Act risk tiers; the policy has one section per tier.
RiskTier = Literal["minimal", "limited", "high", "unacceptable"]
RISK_TIERS: tuple[RiskTier, ...] = get_args(RiskTier)

# Lifecycle stage of a model version; only the service layer moves it.
Stage = Literal["candidate", "staging", "production", "archived", "rejected"]
STAGES: tuple[Stage, ...] = get_args(Stage)
# The stages a version may be in to go through the gate (and be approved, waived or rejected).
GATED_STAGES: tuple[Stage, ...] = ("candidate", "staging")

# What the gate decides for a version and a target stage.
DecisionKind = Literal["approved", "rejected", "pending_approval"]
DECISIONS: tuple[DecisionKind, ...] = get_args(DecisionKind)

# A reviewer's verdict on a pending decision, and the option labels Airflow's Required Actions show.
Verdict = Literal["approve", "reject"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
APPROVE_OPTION = "Approve"
REJECT_OPTION = "Reject"
VERDICT_BY_OPTION: dict[str, Verdict] = {APPROVE_OPTION: "approve", REJECT_OPTION: "reject"}

# Roles from the deployment's user configuration; ``admin`` may do what every other role may.
# ``auditor`` (read-only: the audit and evidence page) and ``dpo`` (the data protection officer:
# the PII findings page) change nothing; each has the Governance view page of their own.
Role = Literal["viewer", "data_scientist", "reviewer", "admin", "auditor", "dpo"]
ROLES: tuple[Role, ...] = get_args(Role)
ADMIN: Role = "admin"

# How an actor was authenticated (audit events, approvals, waivers); the policy says which count.
AuthMethod = Literal["airflow", "api-token", "os", "dev", "system"]
AUTH_METHODS: tuple[AuthMethod, ...] = get_args(AuthMethod)

# Model artifact formats: skops and ONNX load without running code from the file; pickle
# (joblib, .pkl) runs code when loaded, so it is only ever loaded in a sandbox process.
ArtifactFormat = Literal["skops", "onnx", "pickle"]
ARTIFACT_FORMATS: tuple[ArtifactFormat, ...] = get_args(ArtifactFormat)

__all__ = [
    "ADMIN",
    "APPROVE_OPTION",
    "ARTIFACT_FORMATS",
    "AUTH_METHODS",
    "CHECK_NAMES",
    "DECISIONS",
    "GATED_STAGES",
    "POLICY_CHECKS",
    "REJECT_OPTION",
    "RISK_TIERS",
    "ROLES",
    "STAGES",
    "STATUSES",
    "VERDICTS",
    "VERDICT_BY_OPTION",
    "ArtifactFormat",
    "AuthMethod",
    "CheckName",
    "DecisionKind",
    "PolicyCheck",
    "RiskTier",
    "Role",
    "Stage",
    "Status",
    "Verdict",
]
