"""The fairness family in the pipelines: the tier's thresholds, the registered model, and its explanation."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from govflow.checks import CheckResult, read_table
from govflow.checks.fairness import evaluate_fairness
from govflow.checks.fairness.explanation import explain_fairness
from govflow.checks.running import Missing, RunContext, RunInputs, labelled_batch
from govflow.errors import GovflowError
from govflow.policy import FairnessThresholds


def data_file(inputs: RunInputs) -> str | Missing:
    """The gate judges the eval data, with its label and sensitive columns."""
    if not inputs.eval_data:
        return Missing("fairness needs eval data (register the version with --eval-data)")
    if not inputs.config.label or not inputs.config.sensitive:
        return Missing("fairness needs params.governance.label and .sensitive (submit --label/--sensitive)")
    return inputs.eval_data


def on_batch(inputs: RunInputs, columns: Collection[str], batch: str) -> Missing | None:
    """A production batch needs its labels, and the version its sensitive columns."""
    if not inputs.config.sensitive:
        return labelled_batch(inputs, columns, batch) or Missing("fairness needs params.governance.sensitive")
    return labelled_batch(inputs, columns, batch)


def run(ctx: RunContext) -> CheckResult:
    """The fairness check and its explanation (where a disparity comes from), on one read of the data."""
    inputs, cfg = ctx.inputs, ctx.inputs.config
    if not cfg.label:  # the check table only runs fairness with a label; a direct caller may not
        return CheckResult.error("fairness", "fairness needs params.governance.label")
    rules = ctx.rules.fairness
    trusted = ctx.rules.artifacts.trusted_types
    try:
        # The stored bytes, read once and checked against the registered sha256; both loads use them.
        artifact = ctx.load_artifact(inputs.artifact, inputs.artifact_sha256)
        frame = read_table(ctx.data)
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
