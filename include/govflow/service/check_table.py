"""The one table of governance checks: its name, the data it reads, its runner, and which DAGs run it.

The gate DAG (``governance_gate``) runs the ``gate`` checks on the files a
version was registered with; the nightly DAG (``nightly_compliance``) runs the
``nightly`` checks on a production model's newest data batch. Both go through
``service.pipeline.run_check``, which looks the check up here. Adding a check
is one runner in ``check_runners`` and one row below (see the README's recipe).

This module is light (no DB, no heavy library): the DAG files import it while
parsing to name their check tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from govflow.checks import CheckResult
from govflow.errors import BadInputError
from govflow.policy import Policy
from govflow.service.check_runners import run_drift, run_fairness, run_performance, run_pii, run_validation
from govflow.service.inputs import VersionInputs
from govflow.vocab import CheckName

__all__ = ["CHECKS", "GATE_CHECKS", "NIGHTLY_CHECKS", "CheckSpec", "Missing", "check_spec"]

Runner = Callable[[str, VersionInputs, Policy], CheckResult]


@dataclass(frozen=True)
class Missing:
    """Why a check cannot run on what the version (or the batch) provides."""

    reason: str


@dataclass(frozen=True)
class CheckSpec:
    """One governance check: how it runs and what it reads.

    ``registered`` picks the registered file the gate runs it on (or says why
    there is none); ``also_reads`` names the other registered files the runner
    opens (made local and verified on the worker); ``on_batch`` says why a
    production batch (its columns, its name) cannot be checked: it lacks what the check needs.
    """

    name: CheckName
    run: Runner
    registered: Callable[[VersionInputs], str | Missing]
    also_reads: tuple[str, ...] = ()
    gate: bool = False
    nightly: bool = False
    on_batch: Callable[[VersionInputs, Collection[str], str], Missing | None] | None = None


def _training_data(inputs: VersionInputs) -> str | Missing:
    return inputs.training_data


def _validation_data(inputs: VersionInputs) -> str | Missing:
    if inputs.config.suite is None and not inputs.reference_data:
        return Missing(
            "validation needs an expectation suite (params.governance.suite) "
            "or reference data to infer one from"
        )
    return inputs.training_data


def _fairness_data(inputs: VersionInputs) -> str | Missing:
    if not inputs.eval_data:
        return Missing("fairness needs eval data (register the version with --eval-data)")
    if not inputs.config.label or not inputs.config.sensitive:
        return Missing("fairness needs params.governance.label and .sensitive (submit --label/--sensitive)")
    return inputs.eval_data


def _drift_data(inputs: VersionInputs) -> str | Missing:
    # The data the model will meet (eval data) against the reference.
    current = inputs.eval_data or (inputs.training_data if inputs.reference_data else None)
    if current is None:
        return Missing(
            "drift needs reference data and eval data (or reference data different from the training data)"
        )
    return current


def _champion_data(inputs: VersionInputs) -> str | Missing:
    # The gate compares the candidate with the production version on the candidate's eval data
    # (with none in production, the result says there is nothing to compare).
    if not inputs.eval_data or not inputs.config.label:
        return Missing("comparing with production needs eval data and params.governance.label")
    return inputs.eval_data


def _labelled(inputs: VersionInputs, columns: Collection[str], batch: str) -> Missing | None:
    label = inputs.config.label
    if not label or label not in columns:
        return Missing(f"the newest batch {batch} is not labeled (no {label or 'label'} column)")
    return None


def _fairness_batch(inputs: VersionInputs, columns: Collection[str], batch: str) -> Missing | None:
    if not inputs.config.sensitive:
        return _labelled(inputs, columns, batch) or Missing("fairness needs params.governance.sensitive")
    return _labelled(inputs, columns, batch)


def _performance_batch(inputs: VersionInputs, columns: Collection[str], batch: str) -> Missing | None:
    prediction = inputs.config.prediction
    if not prediction or prediction not in columns:
        return _labelled(inputs, columns, batch) or Missing(
            f"the newest batch {batch} has no prediction column for the performance check"
        )
    return _labelled(inputs, columns, batch)


CHECKS: dict[str, CheckSpec] = {
    spec.name: spec
    for spec in (
        CheckSpec("validation", run_validation, _validation_data, also_reads=("reference_data",), gate=True),
        CheckSpec("pii", run_pii, _training_data, gate=True, nightly=True),
        CheckSpec(
            "fairness",
            run_fairness,
            _fairness_data,
            also_reads=("artifact",),
            gate=True,
            nightly=True,
            on_batch=_fairness_batch,
        ),
        CheckSpec(
            "drift",
            run_drift,
            _drift_data,
            also_reads=("reference_data", "training_data"),
            gate=True,
            nightly=True,
        ),
        CheckSpec(
            "performance",
            run_performance,
            _champion_data,
            also_reads=("artifact",),
            gate=True,
            nightly=True,
            on_batch=_performance_batch,
        ),
    )
}
# The DAGs' check tasks, in table order.
GATE_CHECKS: tuple[str, ...] = tuple(name for name, spec in CHECKS.items() if spec.gate)
NIGHTLY_CHECKS: tuple[str, ...] = tuple(name for name, spec in CHECKS.items() if spec.nightly)


def check_spec(name: str, *, among: Collection[str] | None = None) -> CheckSpec:
    """The table row of ``name``; a name outside ``among`` (or the table) is a one-line BadInputError."""
    choices = tuple(among) if among is not None else tuple(CHECKS)
    if name not in choices:
        raise BadInputError(f"unknown check {name!r}: choose one of {', '.join(choices)}")
    return CHECKS[name]
