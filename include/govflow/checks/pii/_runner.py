"""The PII family in the pipelines: the policy's allowed entities for the model's regions and sector."""

from __future__ import annotations

from govflow.checks import CheckResult
from govflow.checks._result import CheckInputError
from govflow.checks.pii import scan_pii
from govflow.checks.running import RunContext, RunInputs


def data_file(inputs: RunInputs) -> str:
    """The gate scans the registered training data."""
    return inputs.training_data


def run(ctx: RunContext) -> CheckResult:
    inputs, policy = ctx.inputs, ctx.policy
    allowed = policy.allowed_pii_entities(list(inputs.regions), inputs.sector)
    # The tier's smallest allowed equivalence class on the quasi-identifiers (none: not checked).
    min_k = getattr(getattr(ctx.rules, "pii", None), "min_k_anonymity", None)
    from govflow.checks.aggregates import choose_engine, scan_pii_in_engine

    try:  # a table bigger than the worker's memory budget is scanned in an engine
        engine = choose_engine(ctx.data)
    except CheckInputError as err:
        return CheckResult.error("pii", str(err))
    if engine != "memory":
        return scan_pii_in_engine(
            ctx.data,
            engine,
            allowed_entities=sorted(allowed),
            custom_recognizers=policy.pii.custom_recognizers,
            min_k_anonymity=min_k,
        )
    return scan_pii(
        ctx.data,
        allowed_entities=sorted(allowed),
        custom_recognizers=policy.pii.custom_recognizers,
        min_k_anonymity=min_k,
    )
