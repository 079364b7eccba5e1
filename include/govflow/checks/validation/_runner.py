"""The validation family in the pipelines: the registered training data against the version's suite."""

from __future__ import annotations

from typing import Any

from govflow.checks import CheckResult
from govflow.checks.running import Missing, RunContext, RunInputs
from govflow.checks.validation import infer_suite, validate_table


def data_file(inputs: RunInputs) -> str | Missing:
    """The gate validates the training data, given a suite or reference data to infer one from."""
    if inputs.config.suite is None and not inputs.reference_data:
        return Missing(
            "validation needs an expectation suite (params.governance.suite) "
            "or reference data to infer one from"
        )
    return inputs.training_data


def run(ctx: RunContext) -> CheckResult:
    suite: Any = ctx.inputs.config.suite
    if suite is None:
        # An unreviewed, inferred suite: the evidence says so (needs_review: true).
        suite = infer_suite(ctx.inputs.reference_data)
    return validate_table(ctx.data, suite)
