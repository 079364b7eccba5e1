"""The runners of the governance checks: one function per check, same signature, over one data file.

A runner is ``(data, inputs, policy) -> CheckResult``: ``data`` is a local file
(already verified against its registered sha256), ``inputs`` the version's
registration and ``policy`` the policy in force. Each maps the policy's
thresholds for the model's tier onto the check's keyword arguments; the checks
themselves stay pure functions of their inputs.
"""

from __future__ import annotations

import os
from typing import Any

from govflow.checks import CheckInputError, CheckResult, read_table
from govflow.checks.drift import detect_drift
from govflow.checks.fairness import evaluate_fairness
from govflow.checks.performance import evaluate_performance
from govflow.checks.performance_compare import compare_with_production
from govflow.checks.pii import scan_pii
from govflow.checks.validation import infer_suite, validate_table
from govflow.errors import GovflowError
from govflow.policy import FairnessThresholds, Policy
from govflow.service.explain import explain_fairness
from govflow.service.inputs import VersionInputs
from govflow.service.model_artifacts import registered_artifact
from govflow.vocab import GATED_STAGES

__all__ = [
    "fairness_options",
    "performance_tolerance",
    "run_champion_comparison",
    "run_drift",
    "run_fairness",
    "run_performance",
    "run_pii",
    "run_validation",
]


def run_validation(data: str, inputs: VersionInputs, policy: Policy) -> CheckResult:
    suite: Any = inputs.config.suite
    if suite is None:
        # An unreviewed, inferred suite: the evidence says so (needs_review: true).
        suite = infer_suite(inputs.reference_data)
    return validate_table(data, suite)


def run_pii(data: str, inputs: VersionInputs, policy: Policy) -> CheckResult:
    allowed = policy.allowed_pii_entities(list(inputs.regions), inputs.sector)
    # The tier's smallest allowed equivalence class on the quasi-identifiers (none: not checked).
    min_k = getattr(getattr(policy.tier(inputs.tier), "pii", None), "min_k_anonymity", None)
    return scan_pii(
        data,
        allowed_entities=sorted(allowed),
        custom_recognizers=policy.pii.custom_recognizers,
        min_k_anonymity=min_k,
    )


def run_fairness(data: str, inputs: VersionInputs, policy: Policy) -> CheckResult:
    """The fairness check and its explanation (where a disparity comes from), on one read of ``data``."""
    cfg = inputs.config
    if not cfg.label:  # the check table only runs fairness with a label; a direct caller may not
        return CheckResult.error("fairness", "fairness needs params.governance.label")
    rules = policy.tier(inputs.tier).fairness
    trusted = policy.tier(inputs.tier).artifacts.trusted_types
    try:
        # The stored bytes, read once and checked against the registered sha256; both loads use them.
        artifact = registered_artifact(
            inputs.artifact, inputs.artifact_sha256, policy=policy, tier=inputs.tier
        )
        frame = read_table(data)
    except GovflowError as err:
        return CheckResult.error("fairness", str(err))
    result = evaluate_fairness(
        frame,
        label=cfg.label,
        prediction=cfg.prediction,
        sensitive=list(cfg.sensitive),
        positive_label=cfg.positive_label,
        model_path=None if cfg.prediction else artifact,
        trusted_types=trusted,
        task=cfg.task,
        **fairness_options(rules),
    )
    return explain_fairness(
        result,
        data=frame,
        artifact=artifact,
        label=cfg.label,
        sensitive=list(cfg.sensitive),
        positive_label=cfg.positive_label,
        rules=rules,
        trusted=trusted,
        task=cfg.task,
    )


def fairness_options(rules: FairnessThresholds) -> dict[str, Any]:
    """The tier's fairness thresholds and interval options as ``evaluate_fairness`` keywords."""
    return {
        name: getattr(rules, name)
        for name in (
            "min_group_size",
            "max_demographic_parity_difference",
            "max_equalized_odds_difference",
            "max_accuracy_difference",
            "max_mean_prediction_difference",
            "max_mean_absolute_error_difference",
            "max_worst_group_mean_absolute_error",
            "bootstrap",
            "bootstrap_seed",
            "small_groups",
        )
    }


def run_drift(data: str, inputs: VersionInputs, policy: Policy) -> CheckResult:
    """``data`` against the version's reference data (its training data when it has none)."""
    thresholds = policy.tier(inputs.tier).drift
    try:
        ref = read_table(inputs.reference_data or inputs.training_data, dictionary_strings=True)
        cur = read_table(data, dictionary_strings=True)
    except CheckInputError as err:  # a bad file is the check's error result, like inside the check
        return CheckResult.error("drift", str(err))
    # The model's outputs are not in the reference data; the label and the features are.
    outputs = set(inputs.config.model_outputs)
    columns = [c for c in ref.columns if c in set(cur.columns) and c not in outputs]
    return detect_drift(
        ref,
        cur,
        columns=columns,
        max_share_drifted=thresholds.max_share_drifted,
        key_columns=[c for c in thresholds.key_columns if c in columns],
        stattest=thresholds.stattest,
        stattest_threshold=thresholds.stattest_threshold,
    )


def run_performance(data: str, inputs: VersionInputs, policy: Policy) -> CheckResult:
    """Nightly: the model's metrics on labelled data against the metrics registered with the version.
    Gate (a candidate while another version is in production): the candidate against that champion."""
    cfg = inputs.config
    if inputs.stage in GATED_STAGES:
        return run_champion_comparison(data, inputs, policy)
    return evaluate_performance(
        data,
        label=cfg.label,
        prediction=cfg.prediction,
        score=cfg.score,
        positive_label=cfg.positive_label,
        baseline=inputs.metrics,
        max_drop=performance_tolerance(policy, inputs.tier),
        task=cfg.task,
    )


def run_champion_comparison(data: str, inputs: VersionInputs, policy: Policy) -> CheckResult:
    """Both registered artifacts (bytes checked against their sha256, formats the tier accepts) score
    the candidate's eval data; the tier's ``performance.max_metric_drop_vs_production`` judges."""
    if not inputs.production_artifact or not inputs.production_version:
        return CheckResult(
            check="performance",
            status="pass",
            summary={
                "production_version": None,
                "note": "no version of the model is in production: nothing to compare",
            },
        )
    if not inputs.config.label:
        return CheckResult.error("performance", "comparing with production needs params.governance.label")
    tier = policy.tier(inputs.tier)
    try:
        candidate = registered_artifact(
            inputs.artifact, inputs.artifact_sha256, policy=policy, tier=inputs.tier
        )
        champion = registered_artifact(
            inputs.production_artifact, inputs.production_artifact_sha256, policy=policy, tier=inputs.tier
        )
        frame = read_table(data)
    except GovflowError as err:
        return CheckResult.error("performance", str(err))
    return compare_with_production(
        frame,
        label=inputs.config.label,
        candidate=candidate,
        production=champion,
        production_version=inputs.production_version,
        sensitive=list(inputs.config.sensitive),
        task=inputs.config.task,
        trusted_types=tier.artifacts.trusted_types,
        positive_label=inputs.config.positive_label,
        max_drop=tier.performance.max_metric_drop_vs_production,
        min_group_size=tier.fairness.min_group_size,
    )


def performance_tolerance(policy: Policy, tier: str) -> float:
    """How far a metric may fall below its registered value (absolute); the policy may set it."""
    rules = getattr(policy.tier(tier), "performance", None)
    value = getattr(rules, "max_drop", None)
    return float(value) if value is not None else float(os.environ.get("GOVFLOW_MAX_METRIC_DROP") or 0.05)
