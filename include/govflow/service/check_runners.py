"""Running a governance check in the pipelines: the family's runner, given what only the service has.

A runner here is ``(data, inputs, policy) -> CheckResult``: ``data`` is a local
file (already verified against its registered sha256), ``inputs`` the version's
registration (the files the check also reads made local) and ``policy`` the
policy in force. ``run`` builds the family's ``RunContext`` from them (with a
loader of the registered model artifacts, which reads the artifact store) and
calls the runner the family declares (``checks.<name>._runner``, through its
``Pipeline``); no check is named here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from govflow.checks import CheckResult, ModelArtifact
from govflow.checks.family import family
from govflow.checks.running import Pipeline, RunContext
from govflow.errors import BadInputError
from govflow.policy import Policy
from govflow.service.inputs import VersionInputs
from govflow.service.model_artifacts import registered_artifact

__all__ = ["Runner", "pipeline_of", "run", "run_context", "runner"]

Runner = Callable[[str, VersionInputs, Policy], CheckResult]


def pipeline_of(check: str) -> Pipeline:
    """The pipeline family ``check`` declares; a check the pipelines do not run is a BadInputError."""
    declared = family(check)
    if declared is None or declared.pipeline is None:
        raise BadInputError(f"check {check!r} does not run in the pipelines: its family declares no pipeline")
    return declared.pipeline


def run_context(data: str, inputs: VersionInputs, policy: Policy) -> RunContext:
    """What a family's runner gets: the data, the inputs, the policy and the artifact loader."""

    def load_artifact(uri: str, sha256: str | None) -> ModelArtifact:
        return registered_artifact(uri, sha256, policy=policy, tier=inputs.tier)

    return RunContext(data=data, inputs=inputs, policy=policy, load_artifact=load_artifact)


def run(check: str, data: str, inputs: VersionInputs, policy: Policy) -> CheckResult:
    """Run ``check`` on ``data`` for the version: its family's runner with the service's context."""
    return pipeline_of(check).run(run_context(data, inputs, policy))


def runner(check: str) -> Runner:
    """``run`` for one check (the check table's ``run``)."""
    return functools.partial(run, check)
