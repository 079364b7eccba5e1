"""Governance checks. Each is a pure function of its inputs returning a CheckResult.

One subpackage per family (``validation``, ``pii``, ``fairness``, ``drift``,
``performance``, ``explain``), each with its public entry in ``__init__``; a
family of the vocabulary also declares what the rest of govflow shows of it in
its ``_family`` module (``govflow.checks.family``). Shared here: the result
type and reading a data file (CSV or Parquet, by extension).
Heavy libraries are imported inside each check module's functions.
"""

from govflow.checks._io import read_table
from govflow.checks._result import CheckInputError, CheckResult, CheckStatus

__all__ = ["CheckInputError", "CheckResult", "CheckStatus", "read_table"]
