"""Adding the explanation of a model to its fairness evidence: ``govflow.checks.fairness.explanation``.

The fairness family's runner (in the checks layer) adds it to every fairness result; the service's
callers (``service.explain_version``) use the same functions, re-exported here.
"""

from __future__ import annotations

from govflow.checks.fairness.explanation import (
    explain_fairness,
    policy_options,
    proxy_threshold,
    with_explanation,
)

__all__ = ["explain_fairness", "policy_options", "proxy_threshold", "with_explanation"]
