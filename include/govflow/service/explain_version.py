"""Explaining a registered model version (``govflow explain``).

The explanation reads the version's registered artifact and eval data (both
checked against the sha256 the registry recorded: a joblib file is a pickle,
so only the registered bytes are loaded) and how to read the data from
``params["governance"]`` (``label``, ``positive_label``, ``sensitive``), the
same place the fairness check takes them from. The proxy threshold and the
minimum group size come from the model's risk tier in the policy.

Heavy work runs outside the DB session: ``explanation_inputs`` is a short
read, ``explain_inputs`` the computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from govflow.checks import CheckInputError
from govflow.checks.explain import explain_model
from govflow.errors import BadInputError, ConflictError
from govflow.hashing import sha256_file
from govflow.policy import Policy
from govflow.service.explain import policy_options
from govflow.service.inputs import CheckConfig
from govflow.service.model_artifacts import registered_artifact
from govflow.service.registry import get_version

__all__ = ["ExplainInputs", "explain_inputs", "explanation_inputs", "verify_registered"]


@dataclass(frozen=True)
class ExplainInputs:
    """What explaining one version needs, copied out of the DB session."""

    model: str
    version: str
    tier: str
    artifact: str
    artifact_sha256: str | None
    eval_data: str
    eval_data_sha256: str | None
    label: str
    sensitive: tuple[str, ...]
    positive_label: Any = None
    task: str | None = None  # binary | multiclass | regression; None: detected from the label
    score: str | None = None  # the registered score column: calibration per group


def explanation_inputs(
    session: Session,
    model: str,
    version: str,
    *,
    label: str | None = None,
    sensitive: Sequence[str] | None = None,
    positive_label: Any = None,
    task: str | None = None,
) -> ExplainInputs:
    """The registered files and columns of ``model@version``.

    Arguments given here override the registration.
    """
    row = get_version(session, model, version)
    config = CheckConfig.from_params(row.params)
    label = label or config.label
    chosen = sensitive or config.sensitive
    chosen = (chosen,) if isinstance(chosen, str) else tuple(chosen)
    if not row.eval_data_uri:
        raise BadInputError(f"{model}@{version} has no eval data: register the version with --eval-data")
    if not label or not chosen:
        raise BadInputError(
            f"{model}@{version} does not record its label and sensitive columns "
            "(params.governance.label/.sensitive): pass --label and --sensitive"
        )
    return ExplainInputs(
        model=model,
        version=version,
        tier=row.model.risk_tier,
        artifact=row.artifact_uri,
        artifact_sha256=row.artifact_sha256,
        eval_data=row.eval_data_uri,
        eval_data_sha256=row.eval_data_sha256,
        label=label,
        sensitive=chosen,
        positive_label=positive_label if positive_label is not None else config.positive_label,
        task=task or config.task,
        score=config.score,
    )


def explain_inputs(inputs: ExplainInputs, *, policy: Policy, **options: Any) -> dict[str, Any]:
    """Explain a version from its inputs (no DB session needed). ``options`` go to ``explain_model``."""
    try:
        # The stored bytes, read once and checked against the registered sha256, are what gets loaded.
        artifact = registered_artifact(
            inputs.artifact, inputs.artifact_sha256, policy=policy, tier=inputs.tier
        )
    except CheckInputError as err:
        raise ConflictError(str(err)) from err
    verify_registered(inputs.eval_data, inputs.eval_data_sha256, what="eval data")
    explanation = explain_model(
        inputs.eval_data,
        model_path=artifact,
        label=inputs.label,
        sensitive=list(inputs.sensitive),
        positive_label=inputs.positive_label,
        task=inputs.task,
        score=inputs.score,
        **policy_options(
            policy.tier(inputs.tier).fairness,
            {"trusted": policy.tier(inputs.tier).artifacts.trusted_types} | options,
        ),
    )
    explanation["version"] = {
        "model": inputs.model,
        "version": inputs.version,
        "tier": inputs.tier,
        "artifact_sha256": inputs.artifact_sha256,
        "eval_data_sha256": inputs.eval_data_sha256,
    }
    return explanation


def verify_registered(path: str, sha256: str | None, *, what: str) -> None:
    """Refuse a registered file that is gone or whose bytes changed since registration."""

    if not Path(path).is_file():
        raise BadInputError(f"registered {what} not found: {path}")
    if sha256 and sha256_file(path) != sha256:
        raise ConflictError(
            f"registered {what} {path} changed since registration (sha256 differs): not loading it"
        )
