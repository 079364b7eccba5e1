"""Governance checks. Each is a pure function of its inputs returning a CheckResult.

Heavy libraries are imported inside each check module's functions.
"""

from govflow.checks._result import CheckInputError, CheckResult, CheckStatus

__all__ = ["CheckInputError", "CheckResult", "CheckStatus"]
