"""Explaining a registered model version, and adding the explanation to its fairness evidence.

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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from govflow.errors import BadInputError, ConflictError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from govflow.checks import CheckResult

__all__ = [
    "ExplainInputs",
    "explain_fairness",
    "explain_inputs",
    "explanation_inputs",
    "proxy_threshold",
    "verify_registered",
    "with_explanation",
]


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


def explanation_inputs(
    session: Session,
    model: str,
    version: str,
    *,
    label: str | None = None,
    sensitive: Sequence[str] | None = None,
    positive_label: Any = None,
) -> ExplainInputs:
    """The registered files and columns of ``model@version``; arguments given here override the registration."""
    from govflow.service.pipeline import CheckConfig
    from govflow.service.registry import get_version

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
    )


def explain_inputs(inputs: ExplainInputs, *, policy: Any = None, **options: Any) -> dict[str, Any]:
    """Explain a version from its inputs (no DB session needed). ``options`` go to ``explain_model``."""
    from govflow.checks import CheckInputError
    from govflow.checks.explain import explain_model
    from govflow.policy import load_policy
    from govflow.service.model_artifacts import registered_artifact

    policy = policy if policy is not None else load_policy()
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
        **_policy_options(
            _fairness_rules(policy, inputs.tier),
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


def explain_fairness(
    result: CheckResult,
    *,
    data: Any,
    artifact: Any,
    label: str,
    sensitive: Sequence[str],
    positive_label: Any = None,
    rules: Any = None,
    **options: Any,
) -> CheckResult:
    """The fairness ``result`` with the explanation of the model ``artifact`` on ``data`` in its evidence.

    ``rules`` is the tier's fairness policy (proxy threshold, minimum group size).
    An errored fairness result is returned as it is; an explanation that cannot be
    computed (not a scikit-learn model, ...) is recorded as an explanation error.
    """
    from govflow.checks.explain import explain_model

    if result.status == "error":
        return result
    try:
        explanation = explain_model(
            data,
            model_path=artifact,
            label=label,
            sensitive=list(sensitive),
            positive_label=positive_label,
            **_policy_options(rules, options),
        )
    except BadInputError as err:
        return with_explanation(result, error=str(err))
    return with_explanation(result, explanation)


def with_explanation(
    result: CheckResult, explanation: dict[str, Any] | None = None, *, error: str | None = None
) -> CheckResult:
    """The fairness result with the explanation in its evidence (``details["explanation"]``).

    A proxy above the policy threshold turns ``pass`` into ``warn`` (reviewers
    see it; a failing or erroring result is unchanged). An explanation that
    could not be computed (``error``) is recorded as such and changes nothing:
    it explains the fairness result, it is not a check of its own.
    """
    if explanation is None:
        part: dict[str, Any] = {"status": "error", "errors": [error or "no explanation"]}
        summary = {**result.summary, "explanation": "error"}
        return replace(result, details={**result.details, "explanation": part}, summary=summary)
    summary = {
        **result.summary,
        "explanation": explanation["status"],
        "strong_proxies": explanation["summary"]["strong_proxies"],
        "top_features": explanation["summary"]["top_features"],
    }
    status = "warn" if result.status == "pass" and explanation["status"] == "warn" else result.status
    return replace(
        result, status=status, summary=summary, details={**result.details, "explanation": explanation}
    )


def proxy_threshold(rules: Any) -> float:
    """The tier's proxy AUC threshold (``fairness.max_proxy_auc``), or the default when the policy has none."""
    from govflow.checks.explain import DEFAULT_PROXY_AUC_THRESHOLD

    value = getattr(rules, "max_proxy_auc", None)
    return float(value) if value is not None else DEFAULT_PROXY_AUC_THRESHOLD


def _policy_options(rules: Any, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the tier's proxy threshold and minimum group size where the caller gave none."""
    defaults = {"proxy_auc_threshold": proxy_threshold(rules)}
    if getattr(rules, "min_group_size", None):
        defaults["min_group_size"] = rules.min_group_size
    return defaults | options


def _fairness_rules(policy: Any, tier: str) -> Any:
    if policy is None:
        from govflow.policy import load_policy

        policy = load_policy()
    return getattr(policy.tier(tier), "fairness", None)


def verify_registered(path: str, sha256: str | None, *, what: str) -> None:
    """Refuse a registered file that is gone or whose bytes changed since registration."""
    from pathlib import Path

    from govflow.hashing import sha256_file

    if not Path(path).is_file():
        raise BadInputError(f"registered {what} not found: {path}")
    if sha256 and sha256_file(path) != sha256:
        raise ConflictError(
            f"registered {what} {path} changed since registration (sha256 differs): not loading it"
        )
