"""The model task of a table in an engine (binary, multiclass or regression), decided as in memory."""

from __future__ import annotations

from govflow.checks.aggregates._table import AggregateTable
from govflow.checks.outcomes import MAX_CLASSES, TaskChoice, choose_task

__all__ = ["aggregated_task"]


def aggregated_task(
    table: AggregateTable, label: str, task: str | None, *, where: str | None = None
) -> TaskChoice:
    """The task given, or detected from the label's distinct values (rows ``where`` keeps) as in memory."""
    import pandas as pd

    if task is not None:
        return choose_task(pd.Series([], dtype=object), task, label_name=label)
    values = table.distinct(label, MAX_CLASSES + 2, where=where)
    series = pd.Series(values)
    if len(values) > MAX_CLASSES and table.columns()[label] in ("int", "float"):
        c = f'"{label}"'.replace('""', '"')
        kept = f" AND {where}" if where else ""
        fractional, distinct = table.query(
            f"SELECT SUM(CASE WHEN {c} <> FLOOR({c}) THEN 1 ELSE 0 END), COUNT(DISTINCT {c}) "
            f"FROM {table.source} WHERE {c} IS NOT NULL{kept}"
        )[0]
        if fractional:
            return TaskChoice("regression", True, f"label {label!r} has non-integer numbers")
        return TaskChoice(
            "regression", True, f"label {label!r} has {int(distinct)} distinct integers (> {MAX_CLASSES})"
        )
    return choose_task(series, None, label_name=label)
