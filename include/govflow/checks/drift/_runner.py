"""The drift family in the pipelines: the data the model will meet against its reference data."""

from __future__ import annotations

from govflow.checks import CheckInputError, CheckResult, read_table
from govflow.checks.drift import detect_drift
from govflow.checks.running import Missing, RunContext, RunInputs


def data_file(inputs: RunInputs) -> str | Missing:
    """The gate compares the eval data (the data the model will meet) with the reference."""
    current = inputs.eval_data or (inputs.training_data if inputs.reference_data else None)
    if current is None:
        return Missing(
            "drift needs reference data and eval data (or reference data different from the training data)"
        )
    return current


def run(ctx: RunContext) -> CheckResult:
    """``ctx.data`` against the version's reference data (its training data when it has none)."""
    inputs = ctx.inputs
    thresholds = ctx.rules.drift
    try:
        ref = read_table(inputs.reference_data or inputs.training_data, dictionary_strings=True)
        cur = read_table(ctx.data, dictionary_strings=True)
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
