"""The positive label of a binary performance check, shared by the in-memory and the engine paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError

if TYPE_CHECKING:
    import pandas as pd


def positive_value(labels: pd.Series, positive_label: Any) -> Any:
    """The positive label: the one given, or 1 / True / yes among the label's values."""
    if positive_label is not None:
        return positive_label
    values = {str(v) for v in labels.unique()}
    for candidate in ("1", "True", "true", "yes"):
        if candidate in values:
            return candidate
    raise CheckInputError(f"cannot tell the positive label among {sorted(values)[:5]}: give positive_label")
