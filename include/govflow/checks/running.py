"""How a check family runs in the pipelines: what its runner is given, and its row of the check table.

A family that the DAGs run declares a ``Pipeline`` in its ``_family`` module
(``CheckFamily(pipeline=Pipeline(...))``), with its runner beside it in the
family's folder (``checks/<name>/_runner.py``). The service derives the check
table and the runner dispatch from the declarations (``service.check_table``,
``service.check_runners``); it names no family.

1. The service picks the file the check runs on: the gate asks the pipeline's
   ``registered`` for one of the version's registered files (or why there is
   none); the nightly re-check takes the newest production batch and asks
   ``on_batch`` whether it carries what the check needs.
2. It makes that file and the registered files named in ``also_reads`` local,
   verified against their registered sha256.
3. It calls ``run`` with a ``RunContext``: the local data file, the version's
   registration (``RunInputs``, its other files already local), the policy in
   force and a loader of registered model artifacts (bytes checked against
   their sha256, formats the tier accepts). The runner maps the policy onto its
   pure check and returns the ``CheckResult``.

The runner stays in the checks layer: what only the service can do (reading the
artifact store) reaches it as a callable in the context.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from govflow.checks._model_artifact import ModelArtifact
from govflow.checks._result import CheckResult
from govflow.checks.outcomes import ModelTask
from govflow.policy import Policy, TierPolicy

__all__ = ["Missing", "Pipeline", "RunConfig", "RunContext", "RunInputs", "labelled_batch"]


@dataclass(frozen=True)
class Missing:
    """Why a check cannot run on what the version (or the batch) provides."""

    reason: str


class RunConfig(Protocol):
    """How to read the version's data (``params["governance"]``; ``service.inputs.CheckConfig``)."""

    @property
    def label(self) -> str | None: ...
    @property
    def prediction(self) -> str | None: ...
    @property
    def score(self) -> str | None: ...
    @property
    def positive_label(self) -> Any: ...
    @property
    def sensitive(self) -> tuple[str, ...]: ...
    @property
    def suite(self) -> str | None: ...
    @property
    def task(self) -> ModelTask | None: ...  # None: detected from the label
    @property
    def model_outputs(self) -> tuple[str, ...]: ...


class RunInputs(Protocol):
    """What a runner reads of a version's registration (``service.inputs.VersionInputs``)."""

    @property
    def tier(self) -> str: ...
    @property
    def regions(self) -> Sequence[str]: ...
    @property
    def sector(self) -> str | None: ...
    @property
    def stage(self) -> str | None: ...
    @property
    def config(self) -> RunConfig: ...
    @property
    def metrics(self) -> Mapping[str, Any]: ...
    @property
    def artifact(self) -> str: ...
    @property
    def artifact_sha256(self) -> str: ...
    @property
    def training_data(self) -> str: ...
    @property
    def reference_data(self) -> str | None: ...
    @property
    def eval_data(self) -> str | None: ...
    @property
    def production_version(self) -> str | None: ...
    @property
    def production_artifact(self) -> str | None: ...
    @property
    def production_artifact_sha256(self) -> str | None: ...


@dataclass(frozen=True)
class RunContext:
    """What a family's runner is given by the service; see the module docstring."""

    data: str  # the local, verified file the check runs on
    inputs: RunInputs  # the version's registration; the files in ``also_reads`` are local
    policy: Policy  # the policy in force (applied by an admin)
    # (uri, registered sha256) -> the artifact's bytes, checked against the sha256 and the tier's
    # formats; raises a GovflowError (the runner returns it as the check's error result).
    load_artifact: Callable[[str, str | None], ModelArtifact]

    @property
    def rules(self) -> TierPolicy:
        """The policy's rules for the model's tier."""
        return self.policy.tier(self.inputs.tier)


@dataclass(frozen=True)
class Pipeline:
    """A family's row of the check table: its runner, the data it reads and which DAGs run it.

    ``registered`` picks the registered file the gate runs it on (or says why
    there is none); ``also_reads`` names the other registered files the runner
    opens (``RunInputs`` fields, made local and verified on the worker);
    ``on_batch`` says why a production batch (its columns, its name) cannot be
    checked: it lacks what the check needs (a check with ``on_batch`` waits for
    labelled partitions of a partitioned source).
    """

    run: Callable[[RunContext], CheckResult]
    registered: Callable[[RunInputs], str | Missing]
    also_reads: tuple[str, ...] = ()
    gate: bool = False  # governance_gate runs it on the version's registered files
    nightly: bool = False  # nightly_compliance runs it on the production model's newest data
    # It loads the big libraries (Presidio/spaCy, the model with scikit-learn): its DAG tasks go
    # to the heavy queue where one is configured (GOVFLOW_HEAVY_QUEUE, the Celery stack).
    heavy: bool = False
    on_batch: Callable[[RunInputs, Collection[str], str], Missing | None] | None = None


def labelled_batch(inputs: RunInputs, columns: Collection[str], batch: str) -> Missing | None:
    """``on_batch`` of a check that needs outcomes: the batch must carry the label column."""
    label = inputs.config.label
    if not label or label not in columns:
        return Missing(f"the newest batch {batch} is not labeled (no {label or 'label'} column)")
    return None
