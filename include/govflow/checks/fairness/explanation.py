"""Adding the explanation of a model to its fairness evidence (where a disparity comes from).

The proxy threshold and the minimum group size come from the model's risk tier
in the policy. The fairness family's pipeline runner adds it to every fairness
result; explaining a registered version on its own (``govflow explain``) is
``service.explain_version``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from govflow.checks import CheckResult
from govflow.checks.explain import DEFAULT_PROXY_AUC_THRESHOLD, explain_model
from govflow.errors import BadInputError

__all__ = ["explain_fairness", "policy_options", "proxy_threshold", "with_explanation"]


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
    if result.status == "error":
        return result
    try:
        explanation = explain_model(
            data,
            model_path=artifact,
            label=label,
            sensitive=list(sensitive),
            positive_label=positive_label,
            **policy_options(rules, options),
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
    """The tier's proxy AUC threshold (``fairness.max_proxy_auc``); the default when the policy has none."""
    value = getattr(rules, "max_proxy_auc", None)
    return float(value) if value is not None else DEFAULT_PROXY_AUC_THRESHOLD


def policy_options(rules: Any, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the tier's proxy threshold and minimum group size where the caller gave none."""
    defaults = {"proxy_auc_threshold": proxy_threshold(rules)}
    if getattr(rules, "min_group_size", None):
        defaults["min_group_size"] = rules.min_group_size
    return defaults | options
