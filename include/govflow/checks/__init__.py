"""Governance checks. Each is a pure function of its inputs returning a CheckResult.

One subpackage per family (``validation``, ``pii``, ``fairness``, ``drift``,
``performance``, ``explain``), each with its public entry in ``__init__``; a
family of the vocabulary also declares what the rest of govflow shows of it in
its ``_family`` module (``govflow.checks.family``). Shared here: the result
type, reading a data file (CSV or Parquet, by extension) and a model artifact's
bytes and format; labels, predictions and the model's task in ``outcomes``.
Heavy libraries are imported inside each check module's functions.
"""

from govflow.checks._io import read_table
from govflow.checks._model_artifact import ModelArtifact, require_format
from govflow.checks._result import CheckInputError, CheckResult, CheckStatus, library_versions

__all__ = [
    "CheckInputError",
    "CheckResult",
    "CheckStatus",
    "ModelArtifact",
    "library_versions",
    "read_table",
    "require_format",
]
