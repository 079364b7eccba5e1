"""Helpers every family's view of stored evidence uses: the common fields, numbers, intervals.

A view (declared beside its family in ``govflow.checks.<name>``) whitelists what
a document may show of a check's evidence; these are the pieces they share, so
each family's view reads the same way and scrubs the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from govflow.docs._numbers import number
from govflow.docs._scrub import scrub_text


class BaseView(TypedDict):
    """The fields every check's view starts with."""

    id: Any
    status: Any
    date: Any
    evidence_sha256: Any
    problem: Any
    errors: list[str]


def base_view(result: Mapping[str, Any]) -> BaseView:
    return {
        "id": result.get("id"),
        "status": result.get("status"),
        "date": result.get("created_at"),
        "evidence_sha256": result.get("evidence_sha256"),
        "problem": result.get("evidence_problem"),
        "errors": [scrub_text(str(e)) for e in result.get("errors") or ()],
    }


def merged_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The stored summary, completed by the evidence's own (the evidence wins)."""
    evidence = result.get("evidence") or {}
    return {**(result.get("summary") or {}), **(evidence.get("summary") or {})}


def interval(value: Any) -> list[float] | None:
    """``[low, high]`` when ``value`` is a pair of finite numbers, else None."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = number(value[0]), number(value[1])
        if low is not None and high is not None:
            return [low, high]
    return None
