"""The performance family in the pipelines.

Nightly: the production model's metrics on a labelled batch against the metrics
registered with the version. Gate (a candidate while another version of the
model is in production): the candidate against that champion, both registered
artifacts scoring the candidate's eval data.
"""

from __future__ import annotations

import os
from collections.abc import Collection

from govflow.checks import CheckResult, read_table
from govflow.checks.performance import evaluate_performance
from govflow.checks.performance_compare import compare_with_production
from govflow.checks.running import Missing, RunContext, RunInputs, labelled_batch
from govflow.errors import GovflowError
from govflow.policy import Policy
from govflow.vocab import GATED_STAGES


def data_file(inputs: RunInputs) -> str | Missing:
    # The gate compares the candidate with the production version on the candidate's eval data
    # (with none in production, the result says there is nothing to compare).
    if not inputs.eval_data or not inputs.config.label:
        return Missing("comparing with production needs eval data and params.governance.label")
    return inputs.eval_data


def on_batch(inputs: RunInputs, columns: Collection[str], batch: str) -> Missing | None:
    """A production batch needs its labels and the model's predictions."""
    prediction = inputs.config.prediction
    if not prediction or prediction not in columns:
        return labelled_batch(inputs, columns, batch) or Missing(
            f"the newest batch {batch} has no prediction column for the performance check"
        )
    return labelled_batch(inputs, columns, batch)


def run(ctx: RunContext) -> CheckResult:
    """Nightly: the model's metrics on labelled data against the metrics registered with the version.
    Gate (a candidate while another version is in production): the candidate against that champion."""
    inputs, cfg = ctx.inputs, ctx.inputs.config
    if inputs.stage in GATED_STAGES:
        return champion_comparison(ctx)
    return evaluate_performance(
        ctx.data,
        label=cfg.label,
        prediction=cfg.prediction,
        score=cfg.score,
        positive_label=cfg.positive_label,
        baseline=inputs.metrics,
        max_drop=performance_tolerance(ctx.policy, inputs.tier),
        task=cfg.task,
    )


def champion_comparison(ctx: RunContext) -> CheckResult:
    """Both registered artifacts (bytes checked against their sha256, formats the tier accepts) score
    the candidate's eval data; the tier's ``performance.max_metric_drop_vs_production`` judges."""
    inputs = ctx.inputs
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
    tier = ctx.rules
    try:
        candidate = ctx.load_artifact(inputs.artifact, inputs.artifact_sha256)
        champion = ctx.load_artifact(inputs.production_artifact, inputs.production_artifact_sha256)
        frame = read_table(ctx.data)
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
