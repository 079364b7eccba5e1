"""Policy-as-code: the validated policy YAML (risk tiers, thresholds, approvals, PII rules).

from govflow.policy import load_policy
policy = load_policy()                      # config.policy_path()
policy.tier("high").fairness.max_demographic_parity_difference
policy.allowed_pii_entities(["EU"], "finance")
policy.sha256                               # of the canonical file content
"""

from govflow.errors import PolicyError
from govflow.policy._load import canonical_text, load_policy, parse_policy, policy_sha256
from govflow.policy._models import (
    ApprovalRule,
    CustomRecognizer,
    DocumentationRule,
    DriftThresholds,
    FairnessThresholds,
    PerformanceRule,
    PiiPolicy,
    Policy,
    RecheckRule,
    RecognizerPattern,
    TierPolicy,
)
from govflow.policy._packs import BiasAudit, Independence, Pack, load_packs

__all__ = [
    "ApprovalRule",
    "BiasAudit",
    "CustomRecognizer",
    "DocumentationRule",
    "DriftThresholds",
    "FairnessThresholds",
    "Independence",
    "Pack",
    "PerformanceRule",
    "PiiPolicy",
    "Policy",
    "PolicyError",
    "RecheckRule",
    "RecognizerPattern",
    "TierPolicy",
    "canonical_text",
    "load_packs",
    "load_policy",
    "parse_policy",
    "policy_sha256",
]
