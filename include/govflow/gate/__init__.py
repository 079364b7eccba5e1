"""The promotion gate: a pure, replayable decision from policy, evidence, approvals and waivers.

from govflow.gate import decide, evidence_digest, Evidence, Approval, Waiver, VersionRef
decision = decide(policy, "high", evidence, approvals, version_ref=ref, now=decided_at)
decision.decision   # approved | rejected | pending_approval
decision.reasons    # one per unmet requirement
"""

from govflow.gate._decide import decide, evidence_digest, in_owner_team, independence_pack
from govflow.gate._types import Approval, Decision, Evidence, Reason, VersionRef, Waiver

__all__ = [
    "Approval",
    "Decision",
    "Evidence",
    "Reason",
    "VersionRef",
    "Waiver",
    "decide",
    "evidence_digest",
    "in_owner_team",
    "independence_pack",
]
